import { defineConfig } from "tsup";
import { defineLegoConfig } from "../../tsup.base.ts";

// The runtime's package.json is inlined: it only supplies the version a new service depends on, and an
// external JSON import would need import attributes that esbuild prints in the obsolete `assert` form.
export default defineConfig(
  defineLegoConfig({
    entry: ["src/index.ts", "src/bin.ts"],
    noExternal: [/^@lego\/runtime\/package\.json$/],
  }),
);
