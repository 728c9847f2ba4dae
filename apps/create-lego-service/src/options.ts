import { UsageError } from "@lego/core";

/** The kinds of service the scaffolder writes. */
export const SERVICE_TYPES = ["api-gateway", "data-service", "auth-service", "static-site"] as const;
/** One of {@link SERVICE_TYPES}. */
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** One line per type, for `--help` and the interactive picker. */
export const SERVICE_TYPE_DESCRIPTIONS: Record<ServiceType, string> = {
  "api-gateway": "forwards /auth/* and /data/* to other services through service bindings",
  "data-service": "CRUD over a D1 database, with migrations",
  "auth-service": "issues HMAC-signed tokens (secret JWT_SECRET) and checks them",
  "static-site": "serves an HTML page from the Worker",
};

/** The environments a new service gets when none are named. */
export const DEFAULT_ENVIRONMENTS = ["staging", "production"] as const;

/** The compatibility date written into every new wrangler config. */
export const COMPATIBILITY_DATE = "2025-09-01";

/** Pinned tool versions written into a generated `package.json`: the ones this repo tests with. */
export const TOOL_VERSIONS = {
  "@cloudflare/workers-types": "5.20261117.1",
  wrangler: "4.164.0",
  vitest: "5.1.1",
  "@cloudflare/vitest-plugin": "1.5.0",
  typescript: "6.0.3",
} as const;

/** What the caller of {@link planScaffold} may say about the service. */
export interface ScaffoldOptions {
  /** The service name: also the Worker name (`<name>-<env>` per environment). Lowercase, digits and dashes. */
  name: string;
  /** What kind of service to write. */
  type: ServiceType;
  /** The folder to write into. Must not exist or be empty. */
  dir: string;
  /** The production hostname, e.g. `api.example.com`; other environments get `<env>-api.example.com`. Default `<name>.example.com`. */
  domain?: string | undefined;
  /** Per-environment hostnames, overriding the ones derived from `domain`. */
  hostnames?: Record<string, string> | undefined;
  /** Deployed environments, default `staging, production`. `development` is the top level of the wrangler config and always exists. */
  environments?: readonly string[] | undefined;
  /** Cloudflare account id (32 hex), written into both configs when given. */
  accountId?: string | undefined;
  /** Cloudflare zone id (32 hex), written into the domain config when given. */
  zoneId?: string | undefined;
  /** api-gateway only: the service bound as `AUTH` (default `auth-service`). */
  authService?: string | undefined;
  /** api-gateway only: the service bound as `DATA` (default `data-service`). */
  dataService?: string | undefined;
  /** The dependency spec for `@lego/runtime` in the generated package.json (default `^<version this scaffolder ships with>`). */
  runtimeVersion?: string | undefined;
}

/** Options after validation, with every default filled in. */
export interface ResolvedScaffoldOptions {
  name: string;
  type: ServiceType;
  dir: string;
  displayName: string;
  environments: string[];
  /** Hostname per deployed environment, in `environments` order. */
  hostnames: Record<string, string>;
  accountId: string | undefined;
  zoneId: string | undefined;
  /** api-gateway: binding name -> bound service name. Empty for other types. */
  upstreams: Array<{ binding: "AUTH" | "DATA"; service: string; prefix: string }>;
  runtimeVersion: string;
}

const NAME = /^[a-z][a-z0-9-]{0,48}[a-z0-9]$/;
const ENV_NAME = /^[a-z][a-z0-9_-]{0,30}$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const HEX32 = /^[0-9a-f]{32}$/;

/** True when `value` is one of the service types. */
export function isServiceType(value: unknown): value is ServiceType {
  return typeof value === "string" && (SERVICE_TYPES as readonly string[]).includes(value);
}

/** Throws unless `name` can be a Worker name (and a package name): `my-service`. */
export function assertServiceName(name: string, flag = "<name>"): void {
  if (!NAME.test(name)) {
    throw new UsageError({
      code: "ERR_SCAFFOLD_NAME_INVALID",
      message: `Invalid service name ${JSON.stringify(name)} (${flag})`,
      hint: "Use 2-50 lowercase letters, digits and dashes, starting with a letter, e.g. my-service.",
    });
  }
}

/** True when `host` is a lowercase DNS hostname with at least two labels. */
export function isHostname(host: string): boolean {
  if (host.length > 253) return false;
  const labels = host.split(".");
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1) ?? "");
}

function assertHostname(host: string, where: string): void {
  if (!isHostname(host)) {
    throw new UsageError({
      code: "ERR_SCAFFOLD_DOMAIN_INVALID",
      message: `Invalid hostname ${JSON.stringify(host)} (${where})`,
      hint: "Use a lowercase hostname without scheme or path, e.g. api.example.com.",
    });
  }
}

/**
 * The hostname of a non-production environment: the environment name prefixed to the first label,
 * as the seed writes it (`api.example.com` -> `staging-api.example.com`).
 */
export function deriveHostname(domain: string, environment: string): string {
  if (environment === "production") return domain;
  const dot = domain.indexOf(".");
  return `${environment}-${domain.slice(0, dot)}${domain.slice(dot)}`;
}

/** `data-service` -> `Data Service`. */
export function displayNameOf(name: string): string {
  return name
    .split("-")
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}

/** Parses `staging,production` (also with spaces) into a list. */
export function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Parses `staging=s.example.com,production=example.com` into a record. */
export function parseHostnames(value: string | undefined): Record<string, string> | undefined {
  const items = parseList(value);
  if (!items) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new UsageError({
        code: "ERR_SCAFFOLD_DOMAIN_INVALID",
        message: `Invalid --hostnames entry ${JSON.stringify(item)}`,
        hint: "Write env=hostname pairs separated by commas, e.g. staging=staging-api.example.com,production=api.example.com.",
      });
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/**
 * Validates what the caller gave and fills in the defaults. Pure: no I/O.
 * Throws a `UsageError` (exit 2) naming the offending input.
 */
export function resolveScaffoldOptions(
  options: ScaffoldOptions,
  defaults: { runtimeVersion: string },
): ResolvedScaffoldOptions {
  assertServiceName(options.name);
  if (!isServiceType(options.type)) {
    throw new UsageError({
      code: "ERR_SCAFFOLD_TYPE_INVALID",
      message: `Unknown service type ${JSON.stringify(options.type)} (--type)`,
      hint: `Use one of: ${SERVICE_TYPES.join(", ")}.`,
    });
  }
  if (!options.dir) {
    throw new UsageError({
      code: "ERR_SCAFFOLD_MISSING_OPTION",
      message: "No target folder given",
      hint: "Pass --dir.",
    });
  }
  const environments = [...(options.environments ?? DEFAULT_ENVIRONMENTS)];
  if (environments.length === 0) {
    throw new UsageError({
      code: "ERR_SCAFFOLD_ENV_INVALID",
      message: "No environment given (--env)",
      hint: "Name at least one deployed environment, e.g. --env staging,production.",
    });
  }
  const seen = new Set<string>();
  for (const env of environments) {
    if (env === "development") {
      throw new UsageError({
        code: "ERR_SCAFFOLD_ENV_INVALID",
        message: "`development` cannot be a deployed environment (--env)",
        hint: "development is the top level of wrangler.jsonc (wrangler dev, tests) and always exists; name only deployed ones, e.g. --env staging,production.",
      });
    }
    if (!ENV_NAME.test(env) || seen.has(env)) {
      throw new UsageError({
        code: "ERR_SCAFFOLD_ENV_INVALID",
        message: seen.has(env)
          ? `Environment ${JSON.stringify(env)} is listed twice (--env)`
          : `Invalid environment name ${JSON.stringify(env)} (--env)`,
        hint: "Use lowercase names such as staging, production, preview.",
      });
    }
    seen.add(env);
  }
  const domain = options.domain ?? `${options.name}.example.com`;
  assertHostname(domain, "--domain");
  const hostnames: Record<string, string> = {};
  for (const env of environments) hostnames[env] = deriveHostname(domain, env);
  for (const [env, host] of Object.entries(options.hostnames ?? {})) {
    if (!seen.has(env)) {
      throw new UsageError({
        code: "ERR_SCAFFOLD_ENV_INVALID",
        message: `--hostnames names environment ${JSON.stringify(env)}, which is not in --env (${environments.join(", ")})`,
        hint: "Add it to --env, or drop it from --hostnames.",
      });
    }
    assertHostname(host, `--hostnames ${env}`);
    hostnames[env] = host;
  }
  const hosts = Object.values(hostnames);
  const dupe = hosts.find((h, i) => hosts.indexOf(h) !== i);
  if (dupe) {
    throw new UsageError({
      code: "ERR_SCAFFOLD_DOMAIN_INVALID",
      message: `Hostname ${dupe} is used by two environments`,
      hint: "Give every environment its own hostname (--hostnames env=host,...).",
    });
  }
  for (const [flag, id] of [
    ["--account-id", options.accountId],
    ["--zone-id", options.zoneId],
  ] as const) {
    if (id !== undefined && !HEX32.test(id)) {
      throw new UsageError({
        code: "ERR_SCAFFOLD_ID_INVALID",
        message: `Invalid ${flag} ${JSON.stringify(id)}`,
        hint: "Cloudflare ids are 32 lowercase hex characters (dashboard → Overview → API).",
      });
    }
  }
  const upstreams: ResolvedScaffoldOptions["upstreams"] = [];
  if (options.type === "api-gateway") {
    const auth = options.authService ?? "auth-service";
    const data = options.dataService ?? "data-service";
    assertServiceName(auth, "--auth-service");
    assertServiceName(data, "--data-service");
    upstreams.push({ binding: "AUTH", service: auth, prefix: "/auth" });
    upstreams.push({ binding: "DATA", service: data, prefix: "/data" });
  }
  return {
    name: options.name,
    type: options.type,
    dir: options.dir,
    displayName: displayNameOf(options.name),
    environments,
    hostnames,
    accountId: options.accountId,
    zoneId: options.zoneId,
    upstreams,
    runtimeVersion: options.runtimeVersion ?? defaults.runtimeVersion,
  };
}
