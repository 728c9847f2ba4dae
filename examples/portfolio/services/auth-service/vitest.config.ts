import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The tests run inside workerd with this Worker's wrangler config (the top-level `development` section).
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      // A test-only value: deployed environments get theirs from `wrangler secret put JWT_SECRET`.
      miniflare: { bindings: { JWT_SECRET: "test-only-secret-not-used-anywhere-else" } },
    }),
  ],
  test: { include: ["test/**/*.test.ts"] },
});
