import { UsageError } from "@lego/core";
import { type ParseError, parse as parseJsonc, printParseErrorCode } from "jsonc-parser";
import { parse as parseToml, TomlError } from "smol-toml";
import { formatKeyPath, type KeyPath, lineColumnAt } from "./key-path.ts";

/**
 * Wrangler config file names in wrangler's own order of precedence (`findWranglerConfig`): when a
 * folder holds more than one, wrangler reads the first, and so does Lego.
 */
export const WRANGLER_CONFIG_FILES = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"] as const;

/** One problem found in a config file, located by key path. */
export interface ConfigProblem {
  /** The file, relative to the portfolio root when known. */
  file: string;
  /** Where in the file, e.g. `env.staging.routes[0]`. */
  keyPath: string;
  /** What is wrong with the value there. */
  message: string;
}

/** A route of a Worker, as wrangler reads it (`route`/`routes`, string or object form). */
export interface WranglerRoute {
  /** The pattern as written, e.g. `api.example.com/*`. */
  pattern: string;
  /** The hostname of the pattern, lower-case; may hold a `*` wildcard. */
  hostname: string;
  /** True for a Custom Domain (`custom_domain = true`), false for a zone route. */
  customDomain: boolean;
  zoneName?: string | undefined;
  zoneId?: string | undefined;
}

/** A D1 binding of one environment. */
export interface D1DatabaseBinding {
  binding: string;
  databaseName: string;
  /** Absent when wrangler will provision the database on first deploy. */
  databaseId?: string | undefined;
  /** Relative to the service folder; wrangler's default is `migrations`. */
  migrationsDir: string;
}

/** A service binding of one environment: this Worker calls the Worker `service`. */
export interface ServiceBinding {
  binding: string;
  /** The bound Worker's script name, e.g. `auth-service-staging`. */
  service: string;
  entrypoint?: string | undefined;
}

/** The settings of one wrangler environment after wrangler's inheritance rules. */
export interface WranglerEnvironment {
  /** `""` for the top level, else the name under `env.`. */
  wranglerEnv: string;
  /** The deployed script name: `name` for the top level, else `env.<e>.name ?? <name>-<e>`. */
  scriptName: string;
  routes: WranglerRoute[];
  /** `workers_dev`, inherited; wrangler's default is true when there are no routes. */
  workersDev: boolean;
  d1Databases: D1DatabaseBinding[];
  serviceBindings: ServiceBinding[];
  /** `secrets.required` (not inherited by wrangler). */
  secretsRequired: string[];
  accountId?: string | undefined;
  main?: string | undefined;
}

/** A path a wrangler config points to, checked on disk by the portfolio scan. */
export interface WranglerPathReference {
  kind: "main" | "migrations_dir";
  /** Where in the file, e.g. `env.staging.d1_databases[0].migrations_dir`. */
  keyPath: string;
  /** As written, relative to the service folder. */
  path: string;
  /** False for wrangler's default (`migrations`), which may be absent while there are no migrations. */
  declared: boolean;
}

/** A parsed and shape-checked wrangler config. */
export interface WranglerConfig {
  /** The file the config came from, as given to the parser. */
  file: string;
  format: "json" | "jsonc" | "toml";
  /** Top-level `name`. */
  name: string;
  /** Names under `env`, in file order. */
  envNames: string[];
  /** The top level, then each named environment. */
  topLevel: WranglerEnvironment;
  environments: Record<string, WranglerEnvironment>;
  /** The raw parsed document (after syntax checks only). */
  raw: Record<string, unknown>;
  /** `main` and `migrations_dir` values, for the scan to check on disk. */
  paths: WranglerPathReference[];
  /**
   * Problems that do not stop Lego reading the portfolio but stop a deploy or migration of this
   * service (wrangler would fail on them): no `main`, no `compatibility_date`.
   */
  deployProblems: ConfigProblem[];
}

/** The result of {@link parseWranglerConfig}: a config when there are no problems. */
export type ParseWranglerResult =
  | { ok: true; config: WranglerConfig; problems: [] }
  | { ok: false; config?: undefined; problems: ConfigProblem[] };

function configFormat(file: string): WranglerConfig["format"] {
  if (file.endsWith(".toml")) return "toml";
  if (file.endsWith(".jsonc")) return "jsonc";
  return "json";
}

/**
 * Parses wrangler config text (JSON, JSONC or TOML, picked by the file name) into a plain object.
 * A syntax error is a {@link UsageError} `ERR_CONFIG_PARSE` naming the file, line and column.
 */
export function parseConfigText(text: string, file: string): Record<string, unknown> {
  const format = configFormat(file);
  if (format === "toml") {
    try {
      return parseToml(text) as Record<string, unknown>;
    } catch (error) {
      const where = error instanceof TomlError ? `:${error.line}:${error.column}` : "";
      const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
      throw new UsageError({
        code: "ERR_CONFIG_PARSE",
        message: `${file}${where}: invalid TOML: ${reason}`,
        hint: "Fix the syntax at that line; wrangler would reject this file too.",
        details: { file },
      });
    }
  }
  const errors: ParseError[] = [];
  // wrangler reads wrangler.json with its JSONC parser as well, so comments and trailing commas are fine.
  const value = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    const { line, column } = lineColumnAt(text, first.offset);
    throw new UsageError({
      code: "ERR_CONFIG_PARSE",
      message: `${file}:${line}:${column}: invalid ${format === "jsonc" ? "JSONC" : "JSON"}: ${printParseErrorCode(first.error)}`,
      hint: "Fix the syntax at that line; wrangler would reject this file too.",
      details: { file, line, column },
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError({
      code: "ERR_CONFIG_PARSE",
      message: `${file}: expected an object at the top level`,
      hint: 'A wrangler config is an object such as { "name": "my-worker", "main": "src/index.ts" }.',
      details: { file },
    });
  }
  return value as Record<string, unknown>;
}

const HOST_OF_PATTERN = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)/i;

/** The hostname part of a route pattern: `https://API.example.com/v1/*` -> `api.example.com`. */
export function hostnameOfPattern(pattern: string): string {
  const host = HOST_OF_PATTERN.exec(pattern.trim())?.[1] ?? "";
  return host.replace(/:\d+$/, "").replace(/\.$/, "").toLowerCase();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

class ShapeChecker {
  readonly problems: ConfigProblem[] = [];
  readonly paths: WranglerPathReference[] = [];
  private readonly file: string;
  constructor(file: string) {
    this.file = file;
  }

  problem(path: KeyPath, message: string): void {
    this.problems.push({ file: this.file, keyPath: formatKeyPath(path), message });
  }

  string(value: unknown, path: KeyPath, required = false): string | undefined {
    if (value === undefined) {
      if (required) this.problem(path, "is required");
      return undefined;
    }
    if (typeof value !== "string" || value === "") {
      this.problem(path, `must be a non-empty string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  workerName(name: string, path: KeyPath): void {
    if (!WORKER_NAME.test(name)) {
      const lower = name.toLowerCase().replace(/[^a-z0-9_-]+/g, "-");
      this.problem(
        path,
        `"${name}" is not a valid Worker name: lower-case letters, digits, "-" and "_" only (e.g. "${lower}")`,
      );
    } else if (name.length > 63) {
      this.problem(path, `"${name}" is ${name.length} characters long; a Worker name has at most 63`);
    }
  }

  compatibilityDate(value: unknown, path: KeyPath, now: number | undefined): void {
    if (value === undefined) return;
    if (typeof value !== "string" || !isCalendarDate(value)) {
      this.problem(path, `must be a date written YYYY-MM-DD (e.g. "2025-09-01"), got ${describe(value)}`);
      return;
    }
    if (now !== undefined && value > new Date(now + 86_400_000).toISOString().slice(0, 10)) {
      this.problem(path, `"${value}" is in the future; Cloudflare refuses it (use today's date or earlier)`);
    }
  }

  /** A path the Worker's files are read from: relative, and inside the service folder. */
  relativePath(value: string, path: KeyPath, kind: WranglerPathReference["kind"], declared = true): void {
    const parts = value.replace(/\\/g, "/").split("/");
    let depth = 0;
    let escapes = false;
    for (const part of parts) {
      if (part === "..") depth--;
      else if (part !== "." && part !== "") depth++;
      if (depth < 0) escapes = true;
    }
    if (/^([a-z]:)?[\\/]/i.test(value) || escapes) {
      this.problem(path, `"${value}" is outside the service folder; use a path relative to it, inside it`);
      return;
    }
    this.paths.push({ kind, keyPath: formatKeyPath(path), path: value, declared });
  }

  boolean(value: unknown, path: KeyPath): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") {
      this.problem(path, `must be true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  array(value: unknown, path: KeyPath): unknown[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.problem(path, `must be an array, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  route(value: unknown, path: KeyPath): WranglerRoute | undefined {
    if (typeof value === "string") {
      if (value.trim() === "") {
        this.problem(path, "must not be empty");
        return undefined;
      }
      return { pattern: value, hostname: hostnameOfPattern(value), customDomain: false };
    }
    if (!isRecord(value)) {
      this.problem(
        path,
        `must be a string or { pattern, zone_name | zone_id | custom_domain }, got ${describe(value)}`,
      );
      return undefined;
    }
    const pattern = this.string(value.pattern, [...path, "pattern"], true);
    const customDomain = this.boolean(value.custom_domain, [...path, "custom_domain"]) ?? false;
    const zoneName = this.string(value.zone_name, [...path, "zone_name"]);
    const zoneId = this.string(value.zone_id, [...path, "zone_id"]);
    if (pattern === undefined) return undefined;
    if (customDomain && /[/*]/.test(pattern)) {
      this.problem([...path, "pattern"], `a custom domain is a bare hostname, got "${pattern}"`);
    }
    return { pattern, hostname: hostnameOfPattern(pattern), customDomain, zoneName, zoneId };
  }

  routes(env: Record<string, unknown>, path: KeyPath): WranglerRoute[] | undefined {
    if (env.route !== undefined && env.routes !== undefined) {
      this.problem([...path, "route"], 'cannot be used together with "routes"; keep one');
    }
    if (env.route !== undefined && env.route !== "") {
      const route = this.route(env.route, [...path, "route"]);
      return route ? [route] : [];
    }
    const list = this.array(env.routes, [...path, "routes"]);
    if (!list) return undefined;
    const out: WranglerRoute[] = [];
    list.forEach((item, i) => {
      const route = this.route(item, [...path, "routes", i]);
      if (route) out.push(route);
    });
    return out;
  }

  d1(env: Record<string, unknown>, path: KeyPath): D1DatabaseBinding[] {
    const list = this.array(env.d1_databases, [...path, "d1_databases"]) ?? [];
    const out: D1DatabaseBinding[] = [];
    list.forEach((item, i) => {
      const at = [...path, "d1_databases", i];
      if (!isRecord(item)) {
        this.problem(at, `must be an object { binding, database_name, database_id }, got ${describe(item)}`);
        return;
      }
      const binding = this.string(item.binding, [...at, "binding"], true);
      const databaseName = this.string(item.database_name, [...at, "database_name"], true);
      const databaseId = this.string(item.database_id, [...at, "database_id"]);
      const declaredDir = this.string(item.migrations_dir, [...at, "migrations_dir"]);
      const migrationsDir = declaredDir ?? "migrations";
      this.relativePath(
        migrationsDir,
        [...at, "migrations_dir"],
        "migrations_dir",
        declaredDir !== undefined,
      );
      if (binding && databaseName) out.push({ binding, databaseName, databaseId, migrationsDir });
    });
    return out;
  }

  services(env: Record<string, unknown>, path: KeyPath): ServiceBinding[] {
    const list = this.array(env.services, [...path, "services"]) ?? [];
    const out: ServiceBinding[] = [];
    list.forEach((item, i) => {
      const at = [...path, "services", i];
      if (!isRecord(item)) {
        this.problem(at, `must be an object { binding, service }, got ${describe(item)}`);
        return;
      }
      const binding = this.string(item.binding, [...at, "binding"], true);
      const service = this.string(item.service, [...at, "service"], true);
      const entrypoint = this.string(item.entrypoint, [...at, "entrypoint"]);
      if (item.environment !== undefined) {
        this.problem(
          [...at, "environment"],
          `service environments were removed from wrangler; bind "${String(item.service)}-${String(item.environment)}" instead`,
        );
      }
      if (binding && service) out.push({ binding, service, ...(entrypoint ? { entrypoint } : {}) });
    });
    return out;
  }

  secrets(env: Record<string, unknown>, path: KeyPath): string[] {
    if (env.secrets === undefined) return [];
    if (!isRecord(env.secrets)) {
      this.problem(
        [...path, "secrets"],
        `must be an object { required = [...] }, got ${describe(env.secrets)}`,
      );
      return [];
    }
    const list = this.array(env.secrets.required, [...path, "secrets", "required"]) ?? [];
    const out: string[] = [];
    list.forEach((item, i) => {
      const name = this.string(item, [...path, "secrets", "required", i]);
      if (name) out.push(name);
    });
    return out;
  }
}

/**
 * Checks the shape of the wrangler keys Lego reads and applies wrangler's environment rules:
 * `name`, `route(s)`, `workers_dev`, `account_id` and `main` are inherited from the top level;
 * `d1_databases`, `services` and `secrets` are not; an environment's script name is
 * `env.<e>.name ?? <name>-<e>`. Never throws for a shape problem: they are all returned, so a scan
 * can report every one at once.
 */
export function normalizeWranglerConfig(
  raw: Record<string, unknown>,
  file: string,
  options: WranglerCheckOptions = {},
): ParseWranglerResult {
  const check = new ShapeChecker(file);
  const name = check.string(raw.name, ["name"], true);
  if (name !== undefined) check.workerName(name, ["name"]);
  check.compatibilityDate(raw.compatibility_date, ["compatibility_date"], options.now);
  const topRoutes = check.routes(raw, []) ?? [];
  const topWorkersDev = check.boolean(raw.workers_dev, ["workers_dev"]);
  const topAccount = check.string(raw.account_id, ["account_id"]);
  const topMain = check.string(raw.main, ["main"]);
  if (topMain !== undefined) check.relativePath(topMain, ["main"], "main");
  const topLevel: WranglerEnvironment = {
    wranglerEnv: "",
    scriptName: name ?? "",
    routes: topRoutes,
    workersDev: topWorkersDev ?? topRoutes.length === 0,
    d1Databases: check.d1(raw, []),
    serviceBindings: check.services(raw, []),
    secretsRequired: check.secrets(raw, []),
    accountId: topAccount,
    main: topMain,
  };

  const environments: Record<string, WranglerEnvironment> = {};
  const envNames: string[] = [];
  if (raw.env !== undefined && !isRecord(raw.env)) {
    check.problem(["env"], `must be a table of environments, got ${describe(raw.env)}`);
  } else if (isRecord(raw.env)) {
    for (const [envName, rawEnv] of Object.entries(raw.env)) {
      const at = ["env", envName];
      if (!isRecord(rawEnv)) {
        check.problem(at, `must be a table, got ${describe(rawEnv)}`);
        continue;
      }
      envNames.push(envName);
      const ownName = check.string(rawEnv.name, [...at, "name"]);
      if (ownName !== undefined) check.workerName(ownName, [...at, "name"]);
      check.compatibilityDate(rawEnv.compatibility_date, [...at, "compatibility_date"], options.now);
      const ownMain = check.string(rawEnv.main, [...at, "main"]);
      if (ownMain !== undefined) check.relativePath(ownMain, [...at, "main"], "main");
      const routes = check.routes(rawEnv, at) ?? topRoutes;
      const workersDev = check.boolean(rawEnv.workers_dev, [...at, "workers_dev"]) ?? topWorkersDev;
      environments[envName] = {
        wranglerEnv: envName,
        scriptName: ownName ?? (name ? `${name}-${envName}` : ""),
        routes,
        workersDev: workersDev ?? routes.length === 0,
        d1Databases: check.d1(rawEnv, at),
        serviceBindings: check.services(rawEnv, at),
        secretsRequired: check.secrets(rawEnv, at),
        accountId: check.string(rawEnv.account_id, [...at, "account_id"]) ?? topAccount,
        main: ownMain ?? topMain,
      };
    }
  }

  if (check.problems.length > 0 || name === undefined) {
    return { ok: false, problems: check.problems };
  }
  // wrangler inherits `main` and `compatibility_date`; a Worker made only of static assets has no `main`.
  const deployProblems: ConfigProblem[] = [];
  const hasAssets = (env: Record<string, unknown>) => env.assets !== undefined;
  const envRaw = (isRecord(raw.env) ? raw.env : {}) as Record<string, Record<string, unknown>>;
  if (topMain === undefined && !hasAssets(raw)) {
    const lacking = envNames.filter((e) => envRaw[e]?.main === undefined && !hasAssets(envRaw[e] ?? {}));
    if (envNames.length === 0 || lacking.length > 0) {
      deployProblems.push({
        file,
        keyPath: "main",
        message: `is missing: wrangler needs the Worker's entry module (e.g. "main": "src/index.ts")${lacking.length > 0 ? `; env ${lacking.join(", ")} inherit${lacking.length === 1 ? "s" : ""} it` : ""}`,
      });
    }
  }
  if (raw.compatibility_date === undefined) {
    const lacking = envNames.filter((e) => envRaw[e]?.compatibility_date === undefined);
    if (envNames.length === 0 || lacking.length > 0) {
      deployProblems.push({
        file,
        keyPath: "compatibility_date",
        message:
          'is missing: Cloudflare needs one to upload a Worker (e.g. "compatibility_date": "2025-09-01")',
      });
    }
  }
  return {
    ok: true,
    problems: [],
    config: {
      file,
      format: configFormat(file),
      name,
      envNames,
      topLevel,
      environments,
      raw,
      paths: check.paths,
      deployProblems,
    },
  };
}

/**
 * Parses and shape-checks wrangler config text. Syntax errors throw `ERR_CONFIG_PARSE`; shape
 * problems are returned with their key paths.
 */
export function parseWranglerConfig(
  text: string,
  file: string,
  options: WranglerCheckOptions = {},
): ParseWranglerResult {
  return normalizeWranglerConfig(parseConfigText(text, file), file, options);
}

/** Options of {@link normalizeWranglerConfig}. */
export interface WranglerCheckOptions {
  /** Now, in ms: a `compatibility_date` after today is refused (Cloudflare rejects it). Default: not checked. */
  now?: number | undefined;
}

/**
 * The largest wrangler or domain config Lego reads: 1 MiB. Real configs are a few KB; a bigger one is
 * generated or pasted by mistake, is parsed (and cached) on every run, and its contents would be
 * deployed without anyone having read them, so Lego refuses it instead.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Worker names as wrangler and the API accept them: lower-case letters, digits, `-` and `_`, at most 63. */
const WORKER_NAME = /^[a-z0-9_][a-z0-9_-]*$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `value` is `YYYY-MM-DD` and a real calendar day. */
export function isCalendarDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === value;
}
