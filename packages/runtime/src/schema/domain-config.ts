import * as z from "zod/mini";
import { type ConfigIssue, RuntimeConfigError } from "../errors.ts";
import {
  BINDING_NAME,
  CLOUDFLARE_ID,
  ENVIRONMENT_NAME,
  FLAG_NAME,
  isHostname,
  SERVICE_NAME,
} from "../names.ts";
import type {
  DomainConfig,
  DomainConfigInput,
  DomainsModule,
  DomainsModuleInput,
  FeatureFlags,
  JsonValue,
} from "../types.ts";

// zod/mini rather than classic zod: the same schema costs about a quarter of the bytes (7.5 KB vs 27.6 KB
// min+gz measured with esbuild), which matters to Workers that validate at runtime. Schemas are built on
// first use, never at module load, so a Worker importing only the flag helpers bundles none of this.

const show = (value: unknown): string => {
  if (typeof value === "string")
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : String(value);
};

const named = (pattern: RegExp, what: string) =>
  z
    .string({ error: (iss) => `expected ${what}, got ${show(iss.input)}` })
    .check(z.regex(pattern, { error: (iss) => `expected ${what}, got ${show(iss.input)}` }));

const hostname = () =>
  z.string({ error: (iss) => `expected a hostname such as "api.example.com", got ${show(iss.input)}` }).check(
    z.refine(isHostname, {
      error: (iss) => {
        const input = String(iss.input);
        const why = input.includes("://")
          ? " (no scheme)"
          : input.includes("/")
            ? " (no path)"
            : input.includes("*")
              ? " (no wildcard)"
              : input.includes(":")
                ? " (no port)"
                : "";
        return `expected a hostname such as "api.example.com"${why}, got ${show(iss.input)}`;
      },
    }),
  );

const serviceName = () => named(SERVICE_NAME, "a service name (lowercase letters, digits and -)");
const environmentName = () =>
  named(ENVIRONMENT_NAME, "an environment name (lowercase letters, digits, - and _, starting with a letter)");
const flagName = () => named(FLAG_NAME, 'a flag name such as "premiumFeatures"');
const bindingName = () => named(BINDING_NAME, 'a binding name such as "API_KEY"');
const cloudflareId = (what: string) => named(CLOUDFLARE_ID, `a Cloudflare ${what} id (32 hex digits)`);
const routePath = () =>
  z
    .string()
    .check(
      z.startsWith("/", { error: (iss) => `expected a path starting with "/", got ${show(iss.input)}` }),
    );
const status = (range: [number, number] = [100, 599]) =>
  z
    .int()
    .check(
      z.minimum(range[0], { error: `expected a status from ${range[0]} to ${range[1]}` }),
      z.maximum(range[1], { error: `expected a status from ${range[0]} to ${range[1]}` }),
    );
const count = (min: number, max: number) =>
  z
    .int()
    .check(
      z.minimum(min, { error: `expected an integer from ${min} to ${max}` }),
      z.maximum(max, { error: `expected an integer from ${min} to ${max}` }),
    );
const milliseconds = () =>
  z.number().check(z.positive({ error: "expected a positive number of milliseconds" }));
const method = () =>
  z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], {
    error: (iss) => `expected an HTTP method (GET, POST, ...), got ${show(iss.input)}`,
  });
const json = (): z.ZodMiniType<JsonValue> => z.json() as unknown as z.ZodMiniType<JsonValue>;
const uniqueStrings = (item: z.ZodMiniType<string>, what: string) =>
  z.array(item).check(
    z.superRefine((list: string[], ctx) => {
      const seen = new Set<string>();
      list.forEach((value, index) => {
        if (seen.has(value))
          ctx.addIssue({ code: "custom", message: `duplicate ${what} "${value}"`, path: [index] });
        seen.add(value);
      });
    }),
  );

function buildTestsSchema() {
  const health = z.strictObject({
    path: z._default(routePath(), "/health"),
    expectStatus: z._default(status(), 200),
    expectBody: z.optional(z.string()),
    expectJson: z.optional(z.record(z.string(), json())),
  });
  const tokenLocation = z.union(
    [z.strictObject({ json: z.string() }), z.strictObject({ header: z.string() })],
    {
      error: 'expected { json: "dotted.path" } or { header: "x-token" }',
    },
  );
  const login = z.strictObject({
    method: z._default(method(), "POST"),
    path: routePath(),
    headers: z.optional(z.record(z.string(), z.string())),
    body: z.optional(json()),
    token: z._default(tokenLocation, { json: "token" }),
  });
  const tokenSource = z.union([z.strictObject({ login }), z.strictObject({ secret: bindingName() })], {
    error: 'expected { login: { path, ... } } or { secret: "NAME" }',
  });
  const auth = z.strictObject({
    token: tokenSource,
    header: z._default(z.string(), "Authorization"),
    scheme: z._default(z.string(), "Bearer"),
    protectedRoute: z.strictObject({
      method: z._default(method(), "GET"),
      path: routePath(),
      expectStatus: z._default(status([200, 299]), 200),
      unauthorizedStatus: z._default(z.array(status([400, 499])), [401, 403]),
    }),
  });
  const latency = z.strictObject({
    path: z._default(routePath(), "/health"),
    samples: z._default(count(1, 1000), 20),
    p50Ms: z.optional(milliseconds()),
    p95Ms: z.optional(milliseconds()),
  });
  const burst = z
    .strictObject({
      path: z._default(routePath(), "/health"),
      concurrency: z._default(count(1, 256), 10),
      requests: z._default(count(1, 10_000), 50),
      maxErrorRate: z._default(
        z.number().check(z.minimum(0, { error: "expected 0..1" }), z.maximum(1, { error: "expected 0..1" })),
        0,
      ),
    })
    .check(
      z.superRefine((value, ctx) => {
        if (value.requests < value.concurrency)
          ctx.addIssue({
            code: "custom",
            message: `expected at least concurrency (${value.concurrency}) requests, got ${value.requests}`,
            path: ["requests"],
          });
      }),
    );
  return z.strictObject({
    health: z.prefault(health, {}),
    auth: z.optional(auth),
    latency: z.optional(latency),
    burst: z.optional(burst),
  });
}

function checkConfig(config: DomainConfig, ctx: z.core.$RefinementCtx<DomainConfig>): void {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", message, path });
  if (Object.keys(config.domains).length === 0)
    issue(["domains"], 'expected at least one environment, e.g. { production: "api.example.com" }');
  const hosts = new Map<string, string>();
  for (const [env, host] of Object.entries(config.domains)) {
    const key = host.toLowerCase();
    const other = hosts.get(key);
    if (other !== undefined)
      issue(["domains", env], `hostname "${host}" is already used by environment "${other}"`);
    else hosts.set(key, env);
  }
  config.dependsOn.forEach((dep, index) => {
    if (dep === config.name) issue(["dependsOn", index], "a service cannot depend on itself");
  });
  for (const [env, override] of Object.entries(config.environments)) {
    for (const flag of Object.keys(override.features ?? {}))
      if (!(flag in config.features))
        issue(
          ["environments", env, "features", flag],
          `unknown flag "${flag}"; declare its default in features first`,
        );
  }
}

function buildConfigSchema() {
  const features = z.record(
    flagName(),
    z.boolean({ error: (iss) => `expected true or false, got ${show(iss.input)}` }),
  );
  const environment = z.strictObject({
    features: z.optional(features),
    vars: z.optional(
      z.record(bindingName(), z.string({ error: (iss) => `expected a string, got ${show(iss.input)}` })),
    ),
  });
  // A loose object: seed-era configs carry keys of their own (settings, database, ...); they are kept.
  return z
    .looseObject({
      name: serviceName(),
      displayName: z.optional(z.string()),
      accountId: z.optional(cloudflareId("account")),
      zoneId: z.optional(cloudflareId("zone")),
      domains: z.record(environmentName(), hostname(), {
        error: (iss) =>
          `expected environment → hostname, e.g. { production: "api.example.com" }, got ${show(iss.input)}`,
      }),
      features: z._default(features, {}),
      dependsOn: z._default(uniqueStrings(serviceName(), "dependency"), []),
      environments: z._default(z.record(environmentName(), environment), {}),
      tests: z.prefault(buildTestsSchema(), {}),
      secrets: z.prefault(
        z.strictObject({ required: z._default(uniqueStrings(bindingName(), "secret"), []) }),
        {},
      ),
    })
    .check(z.superRefine(checkConfig as (value: unknown, ctx: z.core.$RefinementCtx<unknown>) => void));
}

function checkModule(value: DomainsModule, ctx: z.core.$RefinementCtx<DomainsModule>): void {
  const hosts = new Map<string, string>();
  for (const [key, config] of Object.entries(value)) {
    if (config.name !== key)
      ctx.addIssue({
        code: "custom",
        message: `expected the name to equal its key "${key}", got ${show(config.name)}`,
        path: [key, "name"],
      });
    for (const [env, host] of Object.entries(config.domains)) {
      const other = hosts.get(host.toLowerCase());
      if (other !== undefined && !other.startsWith(`${key}.`))
        ctx.addIssue({
          code: "custom",
          message: `hostname "${host}" is already used by ${other}`,
          path: [key, "domains", env],
        });
      hosts.set(host.toLowerCase(), `${key}.domains.${env}`);
    }
  }
}

/** What zod infers from the config schema; a type test keeps it in line with {@link DomainConfig}. Internal. */
export type InferredDomainConfig = z.output<ReturnType<typeof buildConfigSchema>>;
/** What zod accepts as input for the config schema. Internal. */
export type InferredDomainConfigInput = z.input<ReturnType<typeof buildConfigSchema>>;

type ConfigSchema = z.ZodMiniType<DomainConfig, DomainConfigInput>;
type ModuleSchema = z.ZodMiniType<DomainsModule, DomainsModuleInput>;

let configSchema: ConfigSchema | undefined;
let moduleSchema: ModuleSchema | undefined;

/** The zod (mini) schema of one domain config entry. Built once, on first use. */
export function domainConfigZodSchema(): ConfigSchema {
  configSchema ??= buildConfigSchema() as unknown as ConfigSchema;
  return configSchema;
}

/** The zod (mini) schema of a whole `domains` export (entry key → config). Built once, on first use. */
export function domainsModuleZodSchema(): ModuleSchema {
  moduleSchema ??= z
    .record(serviceName(), domainConfigZodSchema())
    .check(
      z.superRefine(checkModule as (value: unknown, ctx: z.core.$RefinementCtx<unknown>) => void),
    ) as unknown as ModuleSchema;
  return moduleSchema;
}

const pathToString = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    const name = String(key);
    const part = /^[A-Za-z0-9_$-]+$/.test(name) ? name : JSON.stringify(name);
    return out === "" ? part : `${out}.${part}`;
  }, "");

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      if (issue.message && issue.message !== "Invalid input") return issue.message;
      return `expected ${issue.expected === "record" ? "an object" : issue.expected}, got ${show(issue.input)}`;
    case "invalid_key":
      return issue.issues[0] ? describeIssue(issue.issues[0]) : issue.message;
    case "invalid_element":
      return issue.issues[0] ? describeIssue(issue.issues[0]) : issue.message;
    case "invalid_value":
      if (issue.message && issue.message !== "Invalid input") return issue.message;
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message && issue.message !== "Invalid input" ? issue.message : `invalid (${issue.code})`;
  }
}

/** Flattens zod issues into `{ path, message }` pairs, one per offending key. */
function toIssues(issues: readonly z.core.$ZodIssue[], root: readonly PropertyKey[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...root, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push({ path: pathToString([...path, key]), message: "unknown key" });
    } else if (issue.code === "invalid_key") {
      // A bad record key: name the key itself, not its value.
      out.push({ path: pathToString(path), message: `invalid key: ${describeIssue(issue)}` });
    } else {
      out.push({ path: pathToString(path), message: describeIssue(issue) });
    }
  }
  return out;
}

function invalid(issues: ConfigIssue[], file: string | undefined): RuntimeConfigError {
  const first = issues[0] ?? { path: "", message: "invalid" };
  const where = file ? `${file}: ` : "";
  const more =
    issues.length > 1
      ? ` (and ${issues.length - 1} more: ${issues
          .slice(1, 4)
          .map((i) => i.path)
          .join(", ")}${issues.length > 4 ? ", ..." : ""})`
      : "";
  return new RuntimeConfigError({
    code: "ERR_DOMAIN_CONFIG_INVALID",
    message: `${where}${first.path ? `${first.path}: ` : ""}${first.message}${more}`,
    path: first.path,
    file,
    issues,
    hint: "Fix the domain config (src/config/domains.ts); the README of @lego/runtime lists every key.",
  });
}

/** Options of {@link validateDomains} and {@link validateDomainConfig}. */
export interface ValidateOptions {
  /** The file the value came from, named in the error message. */
  file?: string | undefined;
  /** The key path of the value, prefixed to every issue path. Default `domains` (for a config: `domains.<name>`). */
  path?: string | undefined;
}

/** The outcome of a non-throwing validation. */
export type ValidationResult<T> = { success: true; data: T } | { success: false; error: RuntimeConfigError };

const rootPath = (path: string | undefined, fallback: string): string[] =>
  (path ?? fallback) === "" ? [] : (path ?? fallback).split(".");

/** Like {@link validateDomains}, without throwing. */
export function safeValidateDomains(
  value: unknown,
  options: ValidateOptions = {},
): ValidationResult<DomainsModule> {
  const result = domainsModuleZodSchema().safeParse(value, { reportInput: true });
  if (result.success) return { success: true, data: result.data };
  return {
    success: false,
    error: invalid(toIssues(result.error.issues, rootPath(options.path, "domains")), options.file),
  };
}

/**
 * Validates a `domains` export (entry key → config) and fills in defaults. Throws a
 * {@link RuntimeConfigError} (`ERR_DOMAIN_CONFIG_INVALID`) naming the file and the key path of every problem.
 *
 * @example
 * const mod = await import("./src/config/domains.ts");
 * const domains = validateDomains(mod.domains, { file: "services/api/src/config/domains.ts" });
 * // throws: services/api/src/config/domains.ts: domains.my-domain.domains.staging: expected a hostname ...
 */
export function validateDomains(value: unknown, options: ValidateOptions = {}): DomainsModule {
  const result = safeValidateDomains(value, options);
  if (!result.success) throw result.error;
  return result.data;
}

/** Like {@link validateDomainConfig}, without throwing. */
export function safeValidateDomainConfig(
  value: unknown,
  options: ValidateOptions = {},
): ValidationResult<DomainConfig> {
  const result = domainConfigZodSchema().safeParse(value, { reportInput: true });
  if (result.success) return { success: true, data: result.data };
  const name =
    typeof (value as { name?: unknown } | null)?.name === "string" ? (value as { name: string }).name : "";
  const fallback = name && SERVICE_NAME.test(name) ? `domains.${name}` : "";
  return {
    success: false,
    error: invalid(toIssues(result.error.issues, rootPath(options.path, fallback)), options.file),
  };
}

/** Validates one domain config entry and fills in defaults; throws like {@link validateDomains}. */
export function validateDomainConfig(value: unknown, options: ValidateOptions = {}): DomainConfig {
  const result = safeValidateDomainConfig(value, options);
  if (!result.success) throw result.error;
  return result.data;
}

/** The defaults {@link createDomainConfigSchema} spreads into a config written in the seed's form. */
export interface DomainConfigDefaults {
  features: FeatureFlags;
  dependsOn: string[];
  environments: Record<string, never>;
  secrets: { required: string[] };
}

/**
 * The domain config schema, in a shape that also works as the seed's spreadable defaults: its own
 * enumerable properties are the defaults (`features`, `dependsOn`, `environments`, `secrets`), while the
 * schema methods live on the prototype, so `{ ...createDomainConfigSchema(), name: ... }` is a plain config.
 */
export class DomainConfigSchema implements DomainConfigDefaults {
  features: FeatureFlags = {};
  dependsOn: string[] = [];
  environments: Record<string, never> = {};
  secrets: { required: string[] } = { required: [] };

  /** The underlying zod (mini) schema, to compose with (`z.extend`, `z.array`, ...). */
  get schema(): ConfigSchema {
    return domainConfigZodSchema();
  }

  /** Validates one entry and fills in defaults; throws a {@link RuntimeConfigError} naming the key path. */
  parse(value: unknown, options?: ValidateOptions): DomainConfig {
    return validateDomainConfig(value, options);
  }

  /** Like `parse`, without throwing. */
  safeParse(value: unknown, options?: ValidateOptions): ValidationResult<DomainConfig> {
    return safeValidateDomainConfig(value, options);
  }

  /** Standard Schema v1, so any library that takes a standard schema (and zod itself) can use it. */
  get "~standard"(): {
    version: 1;
    vendor: "lego";
    validate: (
      value: unknown,
    ) => { value: DomainConfig } | { issues: { message: string; path: (string | number)[] }[] };
  } {
    return {
      version: 1,
      vendor: "lego",
      validate: (value) => {
        const result = domainConfigZodSchema().safeParse(value, { reportInput: true });
        if (result.success) return { value: result.data };
        return {
          issues: result.error.issues.map((issue) => ({
            message: describeIssue(issue),
            path: issue.path.map((key) => (typeof key === "number" ? key : String(key))),
          })),
        };
      },
    };
  }
}

/**
 * The domain config schema. Use it as a schema (`createDomainConfigSchema().parse(value)`), or spread it
 * into a config as the seed does, where it contributes the defaults:
 *
 * @example
 * export const domains = {
 *   "my-domain": {
 *     ...createDomainConfigSchema(),
 *     name: "my-domain",
 *     domains: { production: "api.myapp.com", staging: "staging-api.myapp.com" },
 *     features: { premiumFeatures: true, analytics: false },
 *   },
 * };
 */
export function createDomainConfigSchema(): DomainConfigSchema {
  return new DomainConfigSchema();
}
