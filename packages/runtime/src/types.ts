// The domain config's TypeScript types, written out by hand (rather than inferred from the zod schema) so
// they read well in editors and in the published declarations. A type test keeps them equal to the schema.

/** A JSON value, as a test may expect it in a response body. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An HTTP method a production test may send. */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

/** Environment name → hostname, e.g. `{ production: "api.myapp.com", staging: "staging-api.myapp.com" }`. */
export type DomainsByEnvironment = Record<string, string>;

/** Flag name → on/off, e.g. `{ premiumFeatures: true, analytics: false }`. */
export type FeatureFlags = Record<string, boolean>;

/** What one environment changes relative to the service's defaults. */
export interface EnvironmentOverride {
  /** Flag values for this environment; every flag must be declared in the service's `features`. */
  features?: FeatureFlags;
  /** Plain (non-secret) values for this environment, exposed as `service.vars`. */
  vars?: Record<string, string>;
}

/** The health check every deploy runs. */
export interface HealthCheck {
  /** Request path. Default `/health`. */
  path: string;
  /** Expected status. Default 200. */
  expectStatus: number;
  /** A substring the body must contain. */
  expectBody?: string;
  /** JSON fields the body must hold: dotted path → expected value, e.g. `{ "status": "ok", "db.ready": true }`. */
  expectJson?: Record<string, JsonValue>;
}

/** {@link HealthCheck} as written in a config (defaults may be left out). */
export interface HealthCheckInput {
  path?: string;
  expectStatus?: number;
  expectBody?: string;
  expectJson?: Record<string, JsonValue>;
}

/** Where the token is in the login response: a dotted JSON path in the body, or a response header. */
export type TokenLocation = { json: string } | { header: string };

/**
 * How the production tester obtains a token: a login request, or a ready token kept as a secret.
 * String values in `headers` and `body` may contain `{{secret:NAME}}` placeholders; the tester substitutes
 * them from the secret store at test time, so credentials never live in the config.
 */
export type TokenSource =
  | {
      login: {
        method: HttpMethod;
        path: string;
        headers?: Record<string, string>;
        body?: JsonValue;
        /** Default `{ json: "token" }`. */
        token: TokenLocation;
      };
    }
  | { secret: string };

/** {@link TokenSource} as written in a config. */
export type TokenSourceInput =
  | {
      login: {
        method?: HttpMethod;
        path: string;
        headers?: Record<string, string>;
        body?: JsonValue;
        token?: TokenLocation;
      };
    }
  | { secret: string };

/** A route that must refuse a request without the token and accept it with the token. */
export interface ProtectedRoute {
  /** Default `GET`. */
  method: HttpMethod;
  path: string;
  /** Expected status with the token (2xx). Default 200. */
  expectStatus: number;
  /** Accepted statuses without the token. Default `[401, 403]`. */
  unauthorizedStatus: number[];
}

/** The authentication flow to test after a deploy. */
export interface AuthTest {
  token: TokenSource;
  /** Header that carries the token. Default `Authorization`. */
  header: string;
  /** Prefix before the token in that header. Default `Bearer`; `""` sends the bare token. */
  scheme: string;
  protectedRoute: ProtectedRoute;
}

/** {@link AuthTest} as written in a config. */
export interface AuthTestInput {
  token: TokenSourceInput;
  header?: string;
  scheme?: string;
  protectedRoute: {
    method?: HttpMethod;
    path: string;
    expectStatus?: number;
    unauthorizedStatus?: number[];
  };
}

/** Latency budget: `samples` sequential requests to `path`, whose p50/p95 must stay under the budget. */
export interface LatencyBudget {
  /** Default `/health`. */
  path: string;
  /** Default 20. */
  samples: number;
  p50Ms?: number;
  p95Ms?: number;
}

/** {@link LatencyBudget} as written in a config. */
export interface LatencyBudgetInput {
  path?: string;
  samples?: number;
  p50Ms?: number;
  p95Ms?: number;
}

/** Burst test: `requests` requests to `path`, `concurrency` at a time; at most `maxErrorRate` may fail. */
export interface BurstTest {
  /** Default `/health`. */
  path: string;
  /** Default 10. */
  concurrency: number;
  /** Default 50; at least `concurrency`. */
  requests: number;
  /** Fraction of failed requests tolerated, 0..1. Default 0. */
  maxErrorRate: number;
}

/** {@link BurstTest} as written in a config. */
export interface BurstTestInput {
  path?: string;
  concurrency?: number;
  requests?: number;
  maxErrorRate?: number;
}

/** What `lego test` (and every deploy) checks against a deployed service. */
export interface ProductionTests {
  health: HealthCheck;
  auth?: AuthTest;
  latency?: LatencyBudget;
  burst?: BurstTest;
}

/** {@link ProductionTests} as written in a config. */
export interface ProductionTestsInput {
  health?: HealthCheckInput;
  auth?: AuthTestInput;
  latency?: LatencyBudgetInput;
  burst?: BurstTestInput;
}

/** The secrets a service needs; a deploy refuses to go ahead while one is missing. */
export interface SecretsDeclaration {
  required: string[];
}

/**
 * One entry of a `domains` module, after validation (defaults filled in).
 * Keys Lego does not know are kept as they are (seed-era configs carry their own), but are not typed here.
 */
export interface DomainConfig {
  /** The service name (a Worker script name); equals the entry's key in the `domains` module. */
  name: string;
  displayName?: string;
  /** The Cloudflare account (32 hex digits). Falls back to `CLOUDFLARE_ACCOUNT_ID` at deploy time. */
  accountId?: string;
  /** The Cloudflare zone (32 hex digits). */
  zoneId?: string;
  /** One hostname per environment; the environment names are wrangler's `--env` names. */
  domains: DomainsByEnvironment;
  /** Flag defaults for every environment. */
  features: FeatureFlags;
  /** Services this one needs deployed first (besides its wrangler service bindings). */
  dependsOn: string[];
  /** Per-environment changes. */
  environments: Record<string, EnvironmentOverride>;
  tests: ProductionTests;
  secrets: SecretsDeclaration;
}

/** {@link DomainConfig} as written in `src/config/domains.ts` (defaults may be left out). */
export interface DomainConfigInput {
  name: string;
  displayName?: string;
  accountId?: string;
  zoneId?: string;
  domains: DomainsByEnvironment;
  features?: FeatureFlags;
  dependsOn?: string[];
  environments?: Record<string, EnvironmentOverride>;
  tests?: ProductionTestsInput;
  secrets?: { required?: string[] };
}

/** A validated `domains` export: entry key (= service name) → config. */
export type DomainsModule = Record<string, DomainConfig>;

/** A `domains` export as written. */
export type DomainsModuleInput = Record<string, DomainConfigInput>;

/** The flag names a domains module declares, as a union: `"premiumFeatures" | "analytics"`. */
export type FlagsOf<D> =
  D extends Record<string, infer C>
    ? C extends { features?: infer F }
      ? F extends Record<string, unknown>
        ? Extract<keyof F, string>
        : never
      : never
    : never;
