import { defineConfig } from "tsup";
import { defineLegoConfig } from "../../tsup.base.ts";

export default defineConfig(
  defineLegoConfig({
    entry: { index: "src/index.ts", "testing/index": "src/testing/index.ts" },
    external: ["vitest", "@lego/secrets"],
  }),
);
