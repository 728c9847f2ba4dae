import { applyD1Migrations, env } from "cloudflare:test";

// Runs before each test file, inside workerd: the same migrations `wrangler d1 migrations apply` runs.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
