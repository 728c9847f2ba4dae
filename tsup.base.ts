import type { Options } from "tsup";

/**
 * The build every package shares: ESM only, declarations, no bundled dependencies.
 * A package's `tsup.config.ts` spreads this and names its entry points.
 */
export function defineLegoConfig(overrides: Options = {}): Options {
  return {
    entry: ["src/index.ts"],
    format: ["esm"],
    target: "node22",
    platform: "node",
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    ...overrides,
  };
}
