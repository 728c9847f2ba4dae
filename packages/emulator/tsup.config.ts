import { defineConfig } from "tsup";
import { defineLegoConfig } from "../../tsup.base.ts";

// daemon.ts is the background process `localCloudUp` spawns: it must exist as dist/daemon.js.
// lifecycle.ts is also its own entry (`@lego/emulator/lifecycle`): the CLI starts, stops and seeds the
// local cloud without loading Miniflare (about 0.4 s of start-up).
export default defineConfig(
  defineLegoConfig({ entry: ["src/index.ts", "src/daemon.ts", "src/lifecycle.ts"] }),
);
