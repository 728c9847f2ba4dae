import { defineConfig } from "tsup";
import { defineLegoConfig } from "../../tsup.base.ts";
import { noNodeBuiltins } from "./build/no-node-builtins.ts";

// Workers, not Node: a neutral platform and a plugin that fails the build on any `node:` (or bare
// built-in) import. Two entries: the Worker helpers, and `./schema` for tools that only validate.
// Splitting shares the schema code between them instead of duplicating it.
export default defineConfig(
  defineLegoConfig({
    entry: { index: "src/index.ts", schema: "src/schema/index.ts" },
    platform: "neutral",
    target: "es2022",
    splitting: true,
    // tsup would otherwise strip `node:` and mark the import external before any plugin of ours runs.
    removeNodeProtocol: false,
    esbuildPlugins: [noNodeBuiltins()],
  }),
);
