import { RuntimeConfigError } from "./errors.ts";
import { FeatureFlagManager, RuntimeBindings } from "./flags.ts";
import { createFeatureGuard as createGuard, type FeatureGuard, type FeatureGuardOptions } from "./guard.ts";
import { normalizeHost } from "./names.ts";
import type { DomainConfigInput, DomainsModuleInput, FlagsOf } from "./types.ts";

/** How {@link ServiceContext.service} and {@link ServiceContext.environment} were found. */
export interface Resolution {
  service: "option" | "LEGO_SERVICE" | "single" | "host";
  environment: "option" | "LEGO_ENV" | "ENVIRONMENT" | "host" | "single";
}

/** What `initializeService` resolves: the current service, its environment and its feature flags. */
export interface ServiceContext<F extends string = string> {
  /** The service name (its key in the `domains` config). */
  readonly name: string;
  /** `displayName`, or the name. */
  readonly displayName: string;
  /** The environment name (`production`, `staging`, ...). */
  readonly environment: string;
  /** The hostname the config gives this environment, if any. */
  readonly hostname: string | undefined;
  /** The service's entry of the domain config, as written. */
  readonly config: DomainConfigInput;
  /** The flags for this service in this environment, with binding overrides applied. */
  readonly features: FeatureFlagManager<F>;
  /** `environments[environment].vars` from the config. */
  readonly vars: Readonly<Record<string, string>>;
  /** Services this one depends on. */
  readonly dependsOn: readonly string[];
  /** How the service and the environment were resolved (for logs and debugging). */
  readonly resolvedBy: Readonly<Resolution>;
}

/** Per-call choices that win over bindings and the request's host. */
export interface InitializeOptions {
  /** The service (entry key or `name`); default `LEGO_SERVICE`, the only entry, or the request's host. */
  service?: string | undefined;
  /** The environment; default `LEGO_ENV`, `ENVIRONMENT`, the request's host, or the only environment. */
  environment?: string | undefined;
}

/** A domain config bound to the Worker helpers: the explicit, typed alternative to `registerDomains`. */
export interface Service<F extends string = string> {
  /** The domain config this service was created from. */
  readonly domains: DomainsModuleInput;
  /**
   * Resolves the current service, environment and flags. Memoised per isolate: the same `env` object
   * (and the same resolved service and environment) gives the same context object.
   */
  initializeService(env: object, request?: Request, options?: InitializeOptions): ServiceContext<F>;
  /** {@link createFeatureGuard}, resolving flags from this config. */
  createFeatureGuard(flag: F, options?: FeatureGuardOptions & InitializeOptions): FeatureGuard;
}

interface Entry {
  key: string;
  config: DomainConfigInput;
  envs: string[];
}

/** A configured hostname: its service, its environment, and the context cache key of the pair. */
interface HostMatch {
  service: string;
  environment: string;
  cacheKey: string;
}

interface Index {
  entries: Map<string, Entry>;
  /** The entry, when the config has exactly one. */
  single: Entry | undefined;
  /** hostname → [service key, environment] */
  hosts: Map<string, HostMatch>;
}

function configError(path: string, message: string, source: string): RuntimeConfigError {
  return new RuntimeConfigError({
    code: "ERR_DOMAIN_CONFIG_INVALID",
    message: `${path}: ${message}`,
    path,
    hint:
      source === RuntimeBindings.domains
        ? `Fix the ${RuntimeBindings.domains} var; lego validates src/config/domains.ts before it deploys.`
        : "Run `lego validate`: it checks the whole domain config with the schema of @lego/runtime.",
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// The Worker side checks only what it needs to resolve a request; the full schema (zod) runs in
// `lego validate`/discovery, so a Worker that imports its config does not bundle a validator.
function indexDomains(domains: unknown, source: string): Index {
  if (!isObject(domains)) throw configError(source, "expected an object of service name → config", source);
  const entries = new Map<string, Entry>();
  const hosts = new Map<string, HostMatch>();
  for (const [key, config] of Object.entries(domains)) {
    if (!isObject(config)) throw configError(`${source}.${key}`, "expected an object", source);
    const byEnv = config.domains;
    if (!isObject(byEnv))
      throw configError(`${source}.${key}.domains`, "expected environment → hostname", source);
    const features = config.features;
    if (features !== undefined && !isObject(features))
      throw configError(`${source}.${key}.features`, "expected flag → true/false", source);
    const envs = Object.keys(byEnv);
    for (const env of Object.keys(isObject(config.environments) ? config.environments : {}))
      if (!envs.includes(env)) envs.push(env);
    for (const env of Object.keys(byEnv)) {
      const host = byEnv[env];
      if (typeof host !== "string")
        throw configError(`${source}.${key}.domains.${env}`, "expected a hostname", source);
      hosts.set(host.toLowerCase(), { service: key, environment: env, cacheKey: `${key}\n${env}` });
    }
    const entry: Entry = { key, config: config as unknown as DomainConfigInput, envs };
    entries.set(key, entry);
    if (typeof config.name === "string" && config.name !== key && !entries.has(config.name))
      entries.set(config.name, entry);
  }
  const distinct = new Set(entries.values());
  if (distinct.size === 0) throw configError(source, "expected at least one service", source);
  return { entries, hosts, single: distinct.size === 1 ? entries.values().next().value : undefined };
}

function authorityOf(url: string): string | undefined {
  const start = url.indexOf("//");
  if (start === -1) return undefined;
  const end = url.indexOf("/", start + 2);
  const authority = url.slice(start + 2, end === -1 ? undefined : end);
  return authority.slice(authority.lastIndexOf("@") + 1) || undefined;
}

const NO_MATCH: [undefined, undefined] = [undefined, undefined];

/** The request's hostname and its config match: the URL's host first, then the Host header (behind a proxy they differ). */
function matchHost(index: Index, request: Request | undefined): [string | undefined, HostMatch | undefined] {
  if (!request) return NO_MATCH;
  const authority = authorityOf(request.url);
  // Fast path: a request to a configured hostname, as Cloudflare routes them (lowercase, no port).
  const exact = authority === undefined ? undefined : index.hosts.get(authority);
  if (exact) return [authority, exact];
  const fromUrl = authority === undefined ? undefined : normalizeHost(authority);
  const match = fromUrl === undefined ? undefined : index.hosts.get(fromUrl);
  if (match) return [fromUrl, match];
  const header = request.headers.get("host");
  const fromHeader = header ? normalizeHost(header) : undefined;
  if (fromHeader !== undefined && fromHeader !== fromUrl) {
    const byHeader = index.hosts.get(fromHeader);
    if (byHeader) return [fromHeader, byHeader];
  }
  return [fromUrl ?? fromHeader, undefined];
}

const stringBinding = (env: Record<string, unknown>, name: string): string | undefined => {
  const value = env[name];
  return typeof value === "string" && value !== "" ? value : undefined;
};

function makeService<F extends string>(domains: DomainsModuleInput, index: Index): Service<F> {
  // env object → (service \n environment | "" for the binding-only resolution) → context
  const cache = new WeakMap<object, Map<string, ServiceContext<F>>>();

  function build(entry: Entry, environment: string, env: object, resolvedBy: Resolution): ServiceContext<F> {
    const config = entry.config;
    const override = isObject(config.environments) ? config.environments[environment] : undefined;
    return Object.freeze({
      name: entry.key,
      displayName: typeof config.displayName === "string" ? config.displayName : entry.key,
      environment,
      hostname: config.domains[environment],
      config,
      features: FeatureFlagManager.fromConfig<F>(
        config as { features?: Partial<Record<F, boolean>> },
        environment,
        env,
      ),
      vars: Object.freeze({ ...(override?.vars ?? {}) }),
      dependsOn: Object.freeze([...(Array.isArray(config.dependsOn) ? config.dependsOn : [])]),
      resolvedBy: Object.freeze(resolvedBy),
    });
  }

  function initializeService(
    env: object,
    request?: Request,
    options: InitializeOptions = {},
  ): ServiceContext<F> {
    if (!isObject(env))
      throw new RuntimeConfigError({
        code: "ERR_RUNTIME_BINDING_INVALID",
        message: "initializeService(env): expected the Worker's env object",
        path: "env",
        hint: "Pass the env your fetch handler receives: initializeService(env, request).",
      });
    let perEnv = cache.get(env);
    if (!perEnv) {
      perEnv = new Map();
      cache.set(env, perEnv);
    }
    const bindings = env as Record<string, unknown>;

    // Service: option, LEGO_SERVICE, the only entry; else the request's host decides.
    let entry: Entry | undefined;
    let serviceBy: Resolution["service"] | undefined;
    const named = options.service ?? stringBinding(bindings, RuntimeBindings.service);
    if (named !== undefined) {
      entry = index.entries.get(named);
      if (!entry)
        throw new RuntimeConfigError({
          code: "ERR_RUNTIME_SERVICE_UNKNOWN",
          message: `${options.service !== undefined ? "service option" : RuntimeBindings.service}: unknown service "${named}"; the domain config has ${listKeys(index)}`,
          path: options.service !== undefined ? "service" : RuntimeBindings.service,
          hint: "Use the service's key in src/config/domains.ts.",
        });
      serviceBy = options.service !== undefined ? "option" : "LEGO_SERVICE";
    } else if (index.single) {
      entry = index.single;
      serviceBy = "single";
    }

    // Environment: option, LEGO_ENV, ENVIRONMENT; else the request's host; else the only environment.
    let environment = options.environment;
    let envBy: Resolution["environment"] | undefined = environment !== undefined ? "option" : undefined;
    if (environment === undefined) {
      environment = stringBinding(bindings, RuntimeBindings.environment);
      if (environment !== undefined) envBy = "LEGO_ENV";
      else {
        environment = stringBinding(bindings, RuntimeBindings.environmentFallback);
        if (environment !== undefined) envBy = "ENVIRONMENT";
      }
    }

    if (entry && environment !== undefined) {
      const key = `${entry.key}\n${environment}`;
      const hit = perEnv.get(key);
      if (hit) return hit;
      checkEnvironment(entry, environment, envBy!);
      const context = build(entry, environment, env, { service: serviceBy!, environment: envBy! });
      perEnv.set(key, context);
      return context;
    }

    const [host, match] = matchHost(index, request);
    if (!entry) {
      const byHost = match ? index.entries.get(match.service) : undefined;
      if (!byHost)
        throw new RuntimeConfigError({
          code: "ERR_RUNTIME_SERVICE_UNRESOLVED",
          message: `cannot tell which service this Worker is: the domain config has ${listKeys(index)}, ${RuntimeBindings.service} is not set${
            host === undefined ? " and no request was given" : ` and no service has the hostname "${host}"`
          }`,
          path: RuntimeBindings.service,
          hint: `Set the ${RuntimeBindings.service} var, or pass { service } to initializeService.`,
        });
      entry = byHost;
      serviceBy = "host";
    }
    if (environment === undefined) {
      if (match && match.service === entry.key) {
        environment = match.environment;
        envBy = "host";
      } else if (entry.envs.length === 1) {
        environment = entry.envs[0]!;
        envBy = "single";
      } else
        throw new RuntimeConfigError({
          code: "ERR_RUNTIME_ENV_UNRESOLVED",
          message: `cannot tell the environment of "${entry.key}": ${RuntimeBindings.environment} and ${RuntimeBindings.environmentFallback} are not set${
            host === undefined ? " and no request was given" : ` and "${host}" is none of its hostnames`
          }; expected one of ${entry.envs.map((e) => `"${e}"`).join(", ")}`,
          path: RuntimeBindings.environment,
          hint: `Set the ${RuntimeBindings.environment} var for each wrangler environment, or pass the request.`,
        });
    }
    const key = envBy === "host" && match ? match.cacheKey : `${entry.key}\n${environment}`;
    const hit = perEnv.get(key);
    if (hit) return hit;
    checkEnvironment(entry, environment, envBy!);
    const context = build(entry, environment, env, { service: serviceBy!, environment: envBy! });
    perEnv.set(key, context);
    return context;
  }

  return {
    domains,
    initializeService,
    createFeatureGuard: (flag, options) =>
      createGuard(flag, {
        ...options,
        features: (request, env) => initializeService(env, request, options).features,
      }),
  };
}

function checkEnvironment(entry: Entry, environment: string, by: Resolution["environment"]): void {
  if (entry.envs.includes(environment)) return;
  const source = by === "option" ? "environment option" : by;
  throw new RuntimeConfigError({
    code: "ERR_RUNTIME_ENV_UNKNOWN",
    message: `${source}: "${entry.key}" has no environment "${environment}"; expected one of ${entry.envs
      .map((e) => `"${e}"`)
      .join(", ")}`,
    path: by === "option" ? "environment" : by,
    hint: "Declare the environment in the service's domains (or environments), or fix the var.",
  });
}

function listKeys(index: Index): string {
  const keys = [...new Set([...index.entries.values()].map((e) => e.key))];
  return keys.length === 1 ? `only "${keys[0]}"` : keys.map((k) => `"${k}"`).join(", ");
}

/**
 * Binds a domain config to the Worker helpers, with types: flag names are checked at compile time.
 * The explicit form; `registerDomains` does the same and also makes it the default for the bare
 * `initializeService(env)` and `createFeatureGuard(flag)` the seed calls.
 *
 * @example
 * import { domains } from "./config/domains.ts";
 * const service = createService(domains);
 * export default {
 *   fetch(request, env, ctx) {
 *     const { environment, features } = service.initializeService(env, request);
 *     ...
 *   },
 * };
 */
export function createService<const D extends DomainsModuleInput>(domains: D): Service<FlagsOf<D>> {
  return makeService<FlagsOf<D>>(domains, indexDomains(domains, "domains"));
}

// The seed's API (`initializeService(env)`, `createFeatureGuard(flag)`) takes no config, so one Worker-wide
// default is unavoidable; it is set once at module top by registerDomains and never mutated per request.
let registered: Service | undefined;
const byDomains = new WeakMap<object, Service>();
const byBinding = new WeakMap<object, Service>();

/**
 * Makes a domain config the default of the bare `initializeService(env)` and `createFeatureGuard(flag)`.
 * Call it once at the top of the Worker module. Returns the same {@link Service} as {@link createService}.
 *
 * @example
 * import { domains } from "./config/domains.ts";
 * registerDomains(domains);
 */
export function registerDomains<const D extends DomainsModuleInput>(domains: D): Service<FlagsOf<D>> {
  const service = createService(domains);
  registered = service as Service;
  return service;
}

/** Options of the module-level {@link initializeService}. */
export interface InitializeServiceOptions extends InitializeOptions {
  /** The domain config; default: the registered one, else the `LEGO_DOMAINS` binding. */
  domains?: DomainsModuleInput | undefined;
}

function serviceFor(env: object, domains: DomainsModuleInput | undefined): Service {
  if (domains) {
    let service = byDomains.get(domains);
    if (!service) {
      service = createService(domains) as Service;
      byDomains.set(domains, service);
    }
    return service;
  }
  if (registered) return registered;
  const cached = byBinding.get(env);
  if (cached) return cached;
  const raw = (env as Record<string, unknown>)[RuntimeBindings.domains];
  if (raw === undefined || raw === null || raw === "")
    throw new RuntimeConfigError({
      code: "ERR_RUNTIME_NO_DOMAINS",
      message: `initializeService: no domain config: none registered, none passed, and no ${RuntimeBindings.domains} binding`,
      path: RuntimeBindings.domains,
      hint: "Call registerDomains(domains) at the top of the Worker module, or use createService(domains).",
    });
  let parsed: unknown = raw;
  if (typeof raw === "string") {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new RuntimeConfigError({
        code: "ERR_RUNTIME_BINDING_INVALID",
        message: `${RuntimeBindings.domains}: expected the domain config as JSON`,
        path: RuntimeBindings.domains,
        hint: `Fix the ${RuntimeBindings.domains} var, or import the config and call registerDomains(domains).`,
      });
    }
  }
  const service = makeService(parsed as DomainsModuleInput, indexDomains(parsed, RuntimeBindings.domains));
  byBinding.set(env, service);
  return service;
}

/**
 * Resolves the current service (which entry of the domain config), its environment and its feature
 * flags, from the Worker's bindings and, when given, the request's host. Memoised per isolate.
 *
 * - config: `options.domains`, else the one passed to `registerDomains`, else the `LEGO_DOMAINS` binding;
 * - service: `options.service`, `LEGO_SERVICE`, the only entry, or the entry owning the request's host;
 * - environment: `options.environment`, `LEGO_ENV`, `ENVIRONMENT`, the request's host (a `.localhost`
 *   suffix and the port are ignored, so the local cloud's `api.example.com.localhost:8787` matches), or
 *   the only environment;
 * - flags: see {@link FeatureFlagManager}.
 *
 * @example
 * registerDomains(domains);
 * export default {
 *   async fetch(request, env, ctx) {
 *     const service = initializeService(env);
 *     if (service.features.isEnabled("analytics")) ctx.waitUntil(track(request));
 *     return handleRequest(request, env, ctx);
 *   },
 * };
 */
export function initializeService(
  env: object,
  request?: Request,
  options: InitializeServiceOptions = {},
): ServiceContext {
  return serviceFor(env, options.domains).initializeService(env, request, options);
}

/**
 * Wraps a handler so it answers only when `flag` is on; otherwise it answers 404 (default) or 403 with
 * a JSON body `{ error: { code, message } }`. Flags resolve as {@link initializeService} does.
 *
 * @example
 * if (url.pathname.startsWith("/premium"))
 *   return createFeatureGuard("premiumFeatures")(handlePremiumRequest)(request, env, ctx);
 */
export function createFeatureGuard(
  flag: string,
  options: FeatureGuardOptions & InitializeServiceOptions = {},
): FeatureGuard {
  return createGuard(flag, {
    ...options,
    features: options.features ?? ((request, env) => initializeService(env, request, options).features),
  });
}
