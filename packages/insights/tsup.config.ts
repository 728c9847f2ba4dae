import { defineConfig } from "tsup";
import { defineLegoConfig } from "../../tsup.base.ts";

// `render` is its own entry: text rendering a CLI imports statically, without the rest.
export default defineConfig(defineLegoConfig({ entry: ["src/index.ts", "src/render.ts"] }));
