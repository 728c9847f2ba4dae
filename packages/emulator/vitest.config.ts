import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

// Real wrangler runs take 1-3 s each and several run per test; on a loaded 2-core machine they can take
// several times that, so the per-test budget is larger than the shared default.
export default mergeConfig(sharedConfig, { test: { testTimeout: 120_000, hookTimeout: 120_000 } });
