import { COMPATIBILITY_DATE, type ResolvedScaffoldOptions, TOOL_VERSIONS } from "../options.ts";
import { toJson } from "./json.ts";
import { INITIAL_VERSION, usesD1, VERSION_METADATA_BINDING } from "./wrangler.ts";

/** Secrets each type needs at runtime, declared in the domain config and checked by `lego init`. */
export function requiredSecrets(o: ResolvedScaffoldOptions): string[] {
  return o.type === "auth-service" ? ["JWT_SECRET"] : [];
}

/** `package.json`: depends only on the bricks it uses (`@lego/runtime`); tools pinned to tested versions. */
export function renderPackageJson(o: ResolvedScaffoldOptions): string {
  const scripts: Record<string, string> = {
    dev: "wrangler dev",
    test: "vitest run",
    typecheck: "tsc -p tsconfig.json",
    "build:check": "wrangler deploy --dry-run --outdir dist",
  };
  for (const env of o.environments) scripts[`deploy:${env}`] = `wrangler deploy --env ${env}`;
  if (usesD1(o.type)) {
    for (const env of o.environments) {
      scripts[`db:migrate:${env}`] = `wrangler d1 migrations apply DB --remote --env ${env}`;
    }
    scripts["db:migrate:local"] = "wrangler d1 migrations apply DB --local";
  }
  const pkg = {
    name: o.name,
    version: INITIAL_VERSION,
    private: true,
    description: `${o.displayName}: a Lego ${o.type} on Cloudflare Workers.`,
    type: "module",
    scripts,
    dependencies: { "@lego/runtime": o.runtimeVersion },
    devDependencies: { ...TOOL_VERSIONS },
  };
  return `${toJson(pkg)}\n`;
}

/**
 * `tsconfig.json` for a Worker: runtime types from `@cloudflare/workers-types` (the version of the workerd
 * wrangler runs), bindings from `src/worker/env.d.ts`. No `wrangler types` step: it checks npm for
 * updates on every run, and a typecheck should not need the network.
 */
export function renderTsconfig(): string {
  const config = {
    compilerOptions: {
      target: "ES2024",
      lib: ["ES2024"],
      module: "ES2022",
      moduleResolution: "Bundler",
      types: ["@cloudflare/workers-types", "@cloudflare/vitest-plugin/types"],
      strict: true,
      noUncheckedIndexedAccess: true,
      isolatedModules: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ["src", "test"],
  };
  return `${toJson(config)}\n`;
}

/** `src/worker/env.d.ts`: the Worker's bindings, as wrangler.jsonc declares them. */
export function renderEnvTypes(o: ResolvedScaffoldOptions, mainModule: string): string {
  const fields = [
    "  /** The environment this Worker runs as: `development` locally, else its wrangler `--env`. */",
    "  ENVIRONMENT: string;",
    "  /** The deployed version, reported by /health. */",
    "  SERVICE_VERSION: string;",
    "  /** The Worker version serving (`version_metadata` binding): /health reports its id. */",
    `  ${VERSION_METADATA_BINDING}: WorkerVersionMetadata;`,
  ];
  if (usesD1(o.type))
    fields.push("  /** The service's D1 database; its schema is in ./migrations. */", "  DB: D1Database;");
  for (const u of o.upstreams) {
    fields.push(
      `  /** The ${u.service} Worker of the same environment (service binding). */`,
      `  ${u.binding}: Fetcher;`,
    );
  }
  for (const s of requiredSecrets(o)) {
    fields.push(
      `  /** A secret: \`wrangler secret put ${s} --env <env>\`. Missing until it is set. */`,
      `  ${s}?: string;`,
    );
  }
  return `// The bindings of ${o.name}, as wrangler.jsonc declares them: keep the two in step when you add one.
interface Env {
${fields.join("\n")}
}

declare namespace Cloudflare {
  // What \`cloudflare:test\` and \`cloudflare:workers\` type \`env\` and \`exports\` with.
  interface Env extends globalThis.Env {}
  interface GlobalProps {
    mainModule: typeof import(${JSON.stringify(mainModule)});
  }
}
`;
}

/** `.gitignore`. */
export function renderGitignore(): string {
  return ["node_modules/", "dist/", ".wrangler/", ".dev.vars", ""].join("\n");
}

/** `.dev.vars.example`: what `wrangler dev` needs locally (copy to `.dev.vars`). Empty values, never real ones. */
export function renderDevVarsExample(o: ResolvedScaffoldOptions): string | undefined {
  const secrets = requiredSecrets(o);
  if (secrets.length === 0) return undefined;
  return [
    "# Copy to .dev.vars (git-ignored) for `wrangler dev`. Deployed environments read these from",
    "# `wrangler secret put <NAME> --env <env>` (or `lego secrets`), never from a file in the repo.",
    ...secrets.map((s) => `${s}=`),
    "",
  ].join("\n");
}

/** `migrations/0001_init.sql` for the D1 types. */
export function renderInitMigration(): string {
  return `-- Migration 0001: the notes table. Apply with \`wrangler d1 migrations apply DB --env <env> --remote\`.
CREATE TABLE IF NOT EXISTS notes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX IF NOT EXISTS notes_created_at ON notes (created_at);
`;
}

/** `vitest.config.ts`: runs the tests inside workerd with the Worker's own wrangler config. */
export function renderVitestConfig(o: ResolvedScaffoldOptions): string {
  if (usesD1(o.type)) {
    return `import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The tests run inside workerd with this Worker's wrangler config (the top-level \`development\` section).
export default defineConfig(async () => {
  const migrations = await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url)));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.jsonc" },
        miniflare: { bindings: { TEST_MIGRATIONS: migrations } },
      }),
    ],
    test: { include: ["test/**/*.test.ts"], setupFiles: ["./test/apply-migrations.ts"] },
  };
});
`;
  }
  let miniflare = "";
  let helpers = "";
  if (o.type === "auth-service") {
    miniflare = `
      // A test-only value: deployed environments get theirs from \`wrangler secret put JWT_SECRET\`.
      miniflare: { bindings: { JWT_SECRET: "test-only-secret-not-used-anywhere-else" } },`;
  } else if (o.type === "api-gateway") {
    helpers = `
/** A stand-in for a bound service: echoes what the gateway forwarded to it. */
const echo = (name: string) => \`export default {
  async fetch(request) {
    const url = new URL(request.url);
    const body = await request.text();
    return Response.json({ upstream: "\${name}", method: request.method, path: url.pathname + url.search, body });
  },
};\`;
`;
    const workers = o.upstreams
      .map(
        (u) => `
          {
            name: ${JSON.stringify(u.service)},
            modules: true,
            compatibilityDate: ${JSON.stringify(COMPATIBILITY_DATE)},
            script: echo(${JSON.stringify(u.service)}),
          },`,
      )
      .join("");
    miniflare = `
      // Stand-ins for the bound services, so forwarding is tested without deploying them.
      miniflare: {
        workers: [${workers}
        ],
      },`;
  }
  return `import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
${helpers}
// The tests run inside workerd with this Worker's wrangler config (the top-level \`development\` section).
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },${miniflare}
    }),
  ],
  test: { include: ["test/**/*.test.ts"] },
});
`;
}
