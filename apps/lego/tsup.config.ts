import { defineConfig } from "tsup";
import { defineLegoConfig } from "../../tsup.base.ts";

// The CLI ships as a bundle: one entry per binary (the seed's names included, so package managers'
// shims keep the name) and code splitting, so they share one copy of the CLI and each command's code
// loads only when that command runs. The bricks and their pure-JS dependencies are bundled in because
// Node's loader pays per file: unbundled, `lego deploy` loaded ~1,450 modules (1,166 of them the
// `cloudflare` SDK's) and spent ~0.7 s doing it; bundled, a few chunks. See README "Why a bundle".
//
// Stays external (and so is a dependency of this package): what must be found on disk at run time.
// - wrangler: never imported, its CLI is spawned (resolved from @lego/cloudflare's runner).
// - esbuild: a native binary behind its JS API. jiti: loads domain configs; kept as published.
// - @lego/emulator (the cloud itself: Miniflare/workerd); its small lifecycle module is bundled.
// - @inquirer/prompts: only on a terminal, loaded lazily; kept as published.
// - @lego/runtime is bundled and also a dependency: a service's domain config imports it, and
//   @lego/discovery's module loader resolves that import to the copy on disk.
// create-lego-service is bundled (its templates are code): as a dependency it would bring
// @lego/discovery -> @lego/cloudflare -> the whole `cloudflare` SDK (~120 MB) into every install.
// Whatever is bundled is a devDependency here, so a global install stays near wrangler's own size
// (bench/install-size.bench.mjs).
export default defineConfig(
  defineLegoConfig({
    entry: ["src/index.ts", "src/bin.ts", "src/bins/*.ts"],
    splitting: true,
    noExternal: [
      /^@lego\/(core|cli-kit|cloudflare|discovery|database|secrets|deployment|orchestration|insights|runtime)$/,
      // zod/mini only (what @lego/core validates the environment with, on every command). Classic `zod`
      // stays external: bundled, it would share a chunk with zod/mini and put all of zod (~40 ms) back on
      // every command's start. zod is a dependency anyway: the library entry's types use zod/mini.
      /^zod\/mini$/,
      "cloudflare",
      "execa",
      "citty",
      "jsonc-parser",
      "smol-toml",
      // Starts, stops and seeds the local cloud; finds the daemon through @lego/emulator's exports.
      "@lego/emulator/lifecycle",
      // Text rendering of monitor and analytics results, imported statically by their commands.
      "@lego/insights/render",
      "create-lego-service",
    ],
    external: ["wrangler", "esbuild", "jiti", /^@lego\/emulator$/, "@inquirer/prompts"],
    // The library entry's types name the bricks' types (LegoEnv, Target, Vault): inline them, since
    // the bricks are devDependencies of a published CLI.
    dts: { resolve: [/^@lego\//] },
    // CommonJS inside an ESM bundle calls require() for Node's built-ins.
    banner: {
      js: 'import { createRequire as __legoCreateRequire } from "node:module"; const require = __legoCreateRequire(import.meta.url);',
    },
  }),
);
