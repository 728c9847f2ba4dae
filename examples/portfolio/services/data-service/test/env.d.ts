// Bindings only the tests have, on top of src/worker/env.d.ts.
declare namespace Cloudflare {
  interface Env {
    /** The migrations of ./migrations, read by vitest.config.ts. */
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
