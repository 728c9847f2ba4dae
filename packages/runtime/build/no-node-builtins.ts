import { builtinModules } from "node:module";
import type { Plugin } from "esbuild";

const BUILTINS = new Set(builtinModules);

/**
 * An esbuild plugin that fails the build on any import of a Node built-in (`node:fs`, `fs`, `path`, ...):
 * @lego/runtime runs inside Workers, where they do not exist without `nodejs_compat`.
 */
export function noNodeBuiltins(): Plugin {
  return {
    name: "lego-no-node-builtins",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.startsWith("node:") ? args.path.slice(5) : args.path;
        if (!args.path.startsWith("node:") && !BUILTINS.has(bare.split("/")[0] ?? "")) return undefined;
        return {
          errors: [
            {
              text: `"${args.path}" is a Node built-in: @lego/runtime runs inside Workers and must not import it`,
              detail: { importer: args.importer },
            },
          ],
        };
      });
    },
  };
}
