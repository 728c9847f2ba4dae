import { COMPATIBILITY_DATE, type ResolvedScaffoldOptions } from "../options.ts";
import { toJson } from "./json.ts";

/** The version a new service starts at: `/health` reports it, so a redeploy with a new version is visible. */
export const INITIAL_VERSION = "0.1.0";

/**
 * The `version_metadata` binding: the id of the Worker version that is serving, which `/health`
 * reports so `lego deploy` can tell the version it just uploaded from the one before.
 */
export const VERSION_METADATA_BINDING = "CF_VERSION_METADATA";

/** Name of the D1 database of `service` in `environment` (`development` is the local top level). */
export function databaseName(service: string, environment: string): string {
  return environment === "production" ? `${service}-db` : `${service}-db-${environment}`;
}

/** The Worker script name wrangler gives `service` in `environment`: `<name>-<env>`, the bare name at the top level. */
export function scriptName(service: string, environment: string): string {
  return environment === "development" ? service : `${service}-${environment}`;
}

/** True when the type keeps data in D1 (and so gets `migrations/`). */
export function usesD1(type: ResolvedScaffoldOptions["type"]): boolean {
  return type === "data-service";
}

function bindingsFor(o: ResolvedScaffoldOptions, environment: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    vars: { ENVIRONMENT: environment, SERVICE_VERSION: INITIAL_VERSION },
    version_metadata: { binding: VERSION_METADATA_BINDING },
  };
  if (usesD1(o.type)) {
    // No database_id: wrangler creates the database on first deploy and looks it up by name after.
    out.d1_databases = [
      { binding: "DB", database_name: databaseName(o.name, environment), migrations_dir: "migrations" },
    ];
  }
  if (o.upstreams.length > 0) {
    out.services = o.upstreams.map((u) => ({
      binding: u.binding,
      service: scriptName(u.service, environment),
    }));
  }
  return out;
}

/** The wrangler config as a plain object (what `wrangler.jsonc` holds, minus comments). */
export function wranglerConfig(o: ResolvedScaffoldOptions): Record<string, unknown> {
  const env: Record<string, unknown> = {};
  for (const environment of o.environments) {
    env[environment] = {
      ...bindingsFor(o, environment),
      routes: [{ pattern: o.hostnames[environment], custom_domain: true }],
    };
  }
  return {
    $schema: "node_modules/wrangler/config-schema.json",
    name: o.name,
    main: "src/worker/index.ts",
    compatibility_date: COMPATIBILITY_DATE,
    ...(o.accountId ? { account_id: o.accountId } : {}),
    ...bindingsFor(o, "development"),
    env,
  };
}

/** `wrangler.jsonc`: the top level is `development` (wrangler dev, tests); `env.<name>` are deployed. */
export function renderWranglerJsonc(o: ResolvedScaffoldOptions): string {
  const header = [
    `// Wrangler config of ${o.name} (${o.type}), written by create-lego-service.`,
    "// The top level is the local `development` environment (wrangler dev, vitest); each `env.<name>` is",
    "// deployed with `wrangler deploy --env <name>` as the Worker `<name>-<env>` on its custom domain.",
    "// Wrangler does not inherit vars or bindings into environments, so every section repeats them.",
  ];
  return `${header.join("\n")}\n${toJson(wranglerConfig(o))}\n`;
}
