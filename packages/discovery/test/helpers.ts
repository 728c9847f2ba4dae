import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach } from "vitest";

const made: string[] = [];

/** A fresh temp folder, removed after the test. */
export async function tempDir(prefix = "lego-discovery-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Writes `files` (relative path -> content) under `root`. */
export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

/** Runs `fn` and returns what it threw (failing the test when it does not throw). */
export async function thrown(
  fn: () => unknown,
): Promise<Error & { code?: string; exitCode?: number; hint?: string; details?: Record<string, unknown> }> {
  try {
    await fn();
  } catch (error) {
    return error as Error & { code?: string; exitCode?: number; hint?: string };
  }
  throw new Error("expected a throw");
}

/**
 * A portfolio in the seed's format: plain `domains.js` objects spreading `createDomainConfigSchema()`
 * from `@tamyla/lego-framework`, and `wrangler.toml`. `data-service`'s domain config mentions the
 * gateway's hostname in a comment and a string: a substring match would wrongly find it.
 */
export const SEED_PORTFOLIO: Record<string, string> = {
  "services/data-service/wrangler.toml": `name = "data-service"
main = "src/worker/index.js"
compatibility_date = "2025-09-01"
routes = [{ pattern = "data-service.greatidude.com", custom_domain = true }]

[[d1_databases]]
binding = "DB"
database_name = "data-db"
database_id = "11111111-2222-3333-4444-555555555555"

[env.staging]
routes = [{ pattern = "staging-data.greatidude.com", custom_domain = true }]

[[env.staging.d1_databases]]
binding = "DB"
database_name = "data-db-staging"
migrations_dir = "db/migrations"
`,
  "services/data-service/src/config/domains.js": `// Called by the gateway at api.greatidude.com (this comment must not make it match).
import { createDomainConfigSchema } from '@tamyla/lego-framework';

export const domains = {
  'data-service': {
    ...createDomainConfigSchema(),
    name: 'data-service',
    displayName: 'Data Service',
    upstream: 'https://api.greatidude.com/v1',
    domains: {
      production: 'data-service.greatidude.com',
      staging: 'staging-data.greatidude.com'
    },
    features: { premiumFeatures: true, analytics: false },
    secrets: { required: ['DATA_KEY'] }
  }
};
`,
  "services/data-service/src/worker/index.js": `export default { fetch() { return new Response("data"); } };\n`,
  "services/data-service/db/migrations/0001_init.sql": "create table notes (id integer primary key);\n",
  "services/api-gateway/wrangler.toml": `name = "api-gateway"
main = "src/worker/index.js"
compatibility_date = "2025-09-01"
routes = [{ pattern = "api.greatidude.com", custom_domain = true }]
services = [{ binding = "DATA", service = "data-service" }]

[env.staging]
routes = [{ pattern = "staging-api.greatidude.com", custom_domain = true }]
services = [{ binding = "DATA", service = "data-service-staging" }]
`,
  "services/api-gateway/src/config/domains.js": `import { createDomainConfigSchema } from '@tamyla/lego-framework';

export const domains = {
  'api-gateway': {
    ...createDomainConfigSchema(),
    name: 'api-gateway',
    displayName: 'API Gateway',
    domains: {
      production: 'api.greatidude.com',
      staging: 'staging-api.greatidude.com'
    },
    features: { rateLimiting: true }
  }
};
`,
  "services/api-gateway/src/worker/index.js": `export default { fetch() { return new Response("gateway"); } };\n`,
};

/** A TypeScript portfolio: domains.ts with defineDomains, wrangler.jsonc and wrangler.json. */
export const TS_PORTFOLIO: Record<string, string> = {
  "services/auth/wrangler.jsonc": `{
  // auth service
  "name": "auth",
  "main": "src/index.ts",
  "compatibility_date": "2025-09-01",
  "routes": [{ "pattern": "auth.example.com", "custom_domain": true }],
  "env": {
    "staging": {
      "routes": [{ "pattern": "staging-auth.example.com", "custom_domain": true }],
      "secrets": { "required": ["JWT_SECRET"] },
    },
  },
}
`,
  "services/auth/src/config/domains.ts": `import { defineDomains } from "@lego/runtime";
import { HOSTS } from "./hosts.ts";

export const domains = defineDomains({
  auth: {
    name: "auth",
    domains: { production: HOSTS.production, staging: HOSTS.staging },
    secrets: { required: ["JWT_SECRET"] },
  },
});
`,
  "services/auth/src/config/hosts.ts": `export const HOSTS: Record<"production" | "staging", string> = {
  production: "auth.example.com",
  staging: "staging-auth.example.com",
};
`,
  "services/web/wrangler.json": `{
  "name": "web",
  "main": "src/index.ts",
  "compatibility_date": "2025-09-01",
  "routes": [{ "pattern": "www.example.com", "custom_domain": true }],
  "services": [{ "binding": "AUTH", "service": "auth" }],
  "env": {
    "staging": {
      "routes": [{ "pattern": "staging-www.example.com", "custom_domain": true }],
      "services": [{ "binding": "AUTH", "service": "auth-staging" }]
    }
  }
}
`,
  "services/web/src/config/domains.ts": `import { defineDomains } from "@lego/runtime";
export default defineDomains({
  web: { name: "web", domains: { production: "www.example.com", staging: "staging-www.example.com" }, dependsOn: ["auth"] },
});
`,
  "services/auth/src/index.ts": `export default { fetch: () => new Response("auth") };\n`,
  "services/web/src/index.ts": `export default { fetch: () => new Response("web") };\n`,
  "examples/worker-only/index.js": `export default { fetch: () => new Response("hi") };\n`,
  "examples/worker-only/wrangler.toml": `name = "worker-only"
main = "index.js"
compatibility_date = "2025-09-01"
workers_dev = true

[env.dev]
name = "worker-only-development"
`,
};
