import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** A stand-in for a bound service: echoes what the gateway forwarded to it. */
const echo = (name: string) => `export default {
  async fetch(request) {
    const url = new URL(request.url);
    const body = await request.text();
    return Response.json({ upstream: "${name}", method: request.method, path: url.pathname + url.search, body });
  },
};`;

// The tests run inside workerd with this Worker's wrangler config (the top-level `development` section).
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      // Stand-ins for the bound services, so forwarding is tested without deploying them.
      miniflare: {
        workers: [
          {
            name: "auth-service",
            modules: true,
            compatibilityDate: "2025-09-01",
            script: echo("auth-service"),
          },
          {
            name: "data-service",
            modules: true,
            compatibilityDate: "2025-09-01",
            script: echo("data-service"),
          },
        ],
      },
    }),
  ],
  test: { include: ["test/**/*.test.ts"] },
});
