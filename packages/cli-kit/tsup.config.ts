import { defineConfig } from "tsup";
import { defineLegoConfig } from "../../tsup.base.ts";

export default defineConfig(defineLegoConfig({}));
