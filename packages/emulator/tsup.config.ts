import { defineConfig } from "tsup";
import { defineLegoConfig } from "../../tsup.base.ts";

// daemon.ts is the background process `localCloudUp` spawns: it must exist as dist/daemon.js.
export default defineConfig(defineLegoConfig({ entry: ["src/index.ts", "src/daemon.ts"] }));
