import { defineConfig } from "vitest/config";

/**
 * The test config every package shares. Workspace packages resolve to their sources through the
 * `@lego/source` export condition, so unit tests need no build.
 */
export const sharedConfig = defineConfig({
  resolve: { conditions: ["@lego/source"] },
  ssr: { resolve: { conditions: ["@lego/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
