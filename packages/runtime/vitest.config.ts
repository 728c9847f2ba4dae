import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, mergeConfig, type ViteUserConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

function project(name: string, include: string[], extra: ViteUserConfig = {}): ViteUserConfig {
  const config = mergeConfig(sharedConfig, { ...extra, test: { name } });
  // mergeConfig concatenates arrays; each project names exactly its own files.
  return { ...config, test: { ...config.test, include } };
}

// Two projects, one `vitest run`: the Node suite (test/*.test.ts) and the workerd suite, which runs
// inside the Workers runtime through @cloudflare/vitest-plugin: test/workerd/** (a Worker written in
// the seed's style, exercised over SELF.fetch) plus the Worker-side unit suites, run again in workerd.
export default defineConfig({
  test: {
    projects: [
      project("node", ["test/*.test.ts"]),
      project("workerd", ["test/workerd/**/*.test.ts", "test/service.test.ts", "test/flags.test.ts"], {
        plugins: [cloudflareTest({ wrangler: { configPath: "./test/workerd/wrangler.jsonc" } })],
      }),
    ],
  },
});
