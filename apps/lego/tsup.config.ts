import { defineConfig } from "tsup";
import { defineLegoConfig } from "../../tsup.base.ts";

// One entry per binary (the seed's names included, so package managers' shims keep the name), and
// code splitting so they share one copy of the CLI.
export default defineConfig(
  defineLegoConfig({ entry: ["src/index.ts", "src/bin.ts", "src/bins/*.ts"], splitting: true }),
);
