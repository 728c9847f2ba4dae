import type { Clock, Logger } from "@lego/core";
import { AuthError, createNullLogger, ExitCode, LegoError, systemClock, UsageError } from "@lego/core";
import { BaseAccounts } from "cloudflare/resources/accounts/accounts";
import { BaseDatabase } from "cloudflare/resources/d1/database/database";
import { BaseTimeTravel } from "cloudflare/resources/d1/database/time-travel";
import { BaseTokens } from "cloudflare/resources/user/tokens/tokens";
import { BaseUser } from "cloudflare/resources/user/user";
import { BaseDomains } from "cloudflare/resources/workers/domains";
import { BaseRoutes } from "cloudflare/resources/workers/routes";
import { BaseScripts } from "cloudflare/resources/workers/scripts/scripts";
import { BaseSecrets } from "cloudflare/resources/workers/scripts/secrets";
import { BaseVersions } from "cloudflare/resources/workers/scripts/versions";
import { BaseSubdomains } from "cloudflare/resources/workers/subdomains";
import { BaseZones } from "cloudflare/resources/zones/zones";
import { createClient } from "cloudflare/tree-shakable";
import {
  type Redact,
  redactor,
  toApiFailure,
  translateCloudflareError,
  WORKER_NOT_FOUND_CF_CODES,
} from "./errors.ts";
import {
  collectPages,
  type PageRequest,
  type PageResult,
  type PaginateOptions,
  type ResultInfo,
} from "./paginate.ts";
import { isRepeatableSql } from "./repeatable-sql.ts";
import {
  isIdempotentMethod,
  RetryExhausted,
  type RetryPolicy,
  resolveRetryPolicy,
  withRetry,
} from "./retry.ts";
import type {
  ApiEnvelope,
  CloudflareAccount,
  CloudflareUser,
  D1Database,
  D1QueryResult,
  Deployment,
  TokenStatus,
  WorkerDomain,
  WorkerRoute,
  WorkerScript,
  WorkerSecret,
  WorkerService,
  WorkerVersion,
  Zone,
} from "./types.ts";

/** Cloudflare's production API. */
export const DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4";

/** Options of {@link createCloudflareClient}. */
export interface CloudflareClientOptions {
  /** Bearer token. Never logged, never in an error. */
  token: string;
  /** API base including `/client/v4`. Default {@link DEFAULT_API_BASE_URL}; the target decides. */
  baseURL?: string | undefined;
  /** `fetch` to use (tests, proxies). Default the global one. */
  fetch?: typeof globalThis.fetch | undefined;
  /** Default account for account-scoped calls. Without it, the only account the token sees is used. */
  accountId?: string | undefined;
  /** Retry policy, or `false` for a single attempt. */
  retry?: RetryPolicy | false | undefined;
  logger?: Logger | undefined;
  /** Time and waiting; tests pass `createManualClock()`. */
  clock?: Clock | undefined;
  /** Cancels every call of this client. */
  signal?: AbortSignal | undefined;
  /** Timeout of one attempt in ms. Default 60 000. */
  timeoutMs?: number | undefined;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the client's account for this call. */
  accountId?: string | undefined;
}

/** Describes a request for retries, logs and error details. */
export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Relative to the base URL, starting with `/`, without the query string. */
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  /** Whether 5xx and connection failures may be retried. Default: true for GET, PUT, DELETE. */
  idempotent?: boolean | undefined;
  /** The token permission the call needs, named in ERR_CF_AUTH hints. */
  permission?: string | undefined;
}

/** Options of {@link CloudflareClient.listAll}. */
export interface ListAllOptions extends Omit<PaginateOptions, "signal" | "logger" | "label"> {
  query?: RequestSpec["query"];
  permission?: string | undefined;
}

/**
 * The Cloudflare API as Lego uses it. Every method retries (see {@link RetryPolicy}), translates
 * failures into LegoErrors (`ERR_CF_*`), and terminates its pagination. Account-scoped methods use
 * `options.accountId`, else the client's, else the single account the token can see.
 */
export interface CloudflareClient {
  /** The API base URL (no trailing slash). */
  readonly baseURL: string;
  /**
   * The underlying SDK client (maxRetries 0) with the resources Lego calls ({@link CloudflareSdk}): an
   * escape hatch without Lego's retries or translation. Wrap calls in `call`. For other resources,
   * build your own client (`new Cloudflare()` from the `cloudflare` package).
   */
  readonly sdk: CloudflareSdk;
  /** The account id for account-scoped calls (configured, or the only one the token sees). */
  accountId(options?: CallOptions): Promise<string>;
  /** Runs `fn` (an SDK call) with Lego's retries and error translation. */
  call<T>(
    spec: RequestSpec,
    fn: (signal: AbortSignal | undefined) => Promise<T>,
    options?: CallOptions,
  ): Promise<T>;
  /** A raw request returning the v4 envelope (checked: `success` true). For endpoints the SDK gets wrong. */
  request<T>(spec: RequestSpec, options?: CallOptions): Promise<ApiEnvelope<T>>;
  /** Every item of a paginated GET (page-number or cursor), terminating (see `paginate`). */
  listAll<T>(path: string, list?: ListAllOptions, options?: CallOptions): Promise<T[]>;

  /** `GET /user/tokens/verify`: the token's status. */
  verifyToken(options?: CallOptions): Promise<TokenStatus>;
  /** `GET /user`. */
  getUser(options?: CallOptions): Promise<CloudflareUser>;
  /** `GET /accounts`, all pages. */
  listAccounts(options?: CallOptions): Promise<CloudflareAccount[]>;
  /** `GET /zones`, all pages; `name` filters exactly, `accountId` scopes (not the client default). */
  listZones(
    filter?: { name?: string | undefined; accountId?: string | undefined },
    options?: CallOptions,
  ): Promise<Zone[]>;
  /** `GET /accounts/:a/workers/scripts`. */
  listWorkerScripts(options?: CallOptions): Promise<WorkerScript[]>;
  /** `GET /accounts/:a/workers/services/:script`; `undefined` when the Worker does not exist (404 10007/10090). */
  getWorkerService(script: string, options?: CallOptions): Promise<WorkerService | undefined>;
  /** `GET …/scripts/:script/deployments`: newest first, as the API orders them (reads `result.deployments`). */
  listDeployments(script: string, options?: CallOptions): Promise<Deployment[]>;
  /** `GET …/scripts/:script/versions/:id`. */
  getVersion(script: string, versionId: string, options?: CallOptions): Promise<WorkerVersion>;
  /** `GET …/scripts/:script/versions`, all pages. */
  listVersions(
    script: string,
    filter?: { deployable?: boolean | undefined },
    options?: CallOptions,
  ): Promise<WorkerVersion[]>;
  /** `GET …/scripts/:script/secrets`: names and types only. */
  listSecrets(script: string, options?: CallOptions): Promise<WorkerSecret[]>;
  /** `PUT …/scripts/:script/secrets`: the value travels in the request body only. */
  putSecret(script: string, name: string, value: string, options?: CallOptions): Promise<void>;
  /** `DELETE …/scripts/:script/secrets/:name`. */
  deleteSecret(script: string, name: string, options?: CallOptions): Promise<void>;
  /** `GET /accounts/:a/d1/database`, all pages; `name` filters. */
  listD1Databases(filter?: { name?: string | undefined }, options?: CallOptions): Promise<D1Database[]>;
  /** A D1 database by uuid or exact name; `undefined` when there is none. */
  getD1Database(nameOrId: string, options?: CallOptions): Promise<D1Database | undefined>;
  /** `POST /accounts/:a/d1/database`. */
  createD1Database(name: string, options?: CallOptions): Promise<D1Database>;
  /**
   * `POST …/d1/database/:id/query`: one result per statement. 429 (code 971) is always retried; 5xx and
   * dropped connections only when the SQL is safe to send again: `idempotent`, by default true when
   * every statement reads or creates only if absent (see `isRepeatableSql`), so a SELECT is retried
   * and an INSERT is not.
   */
  queryD1(
    databaseId: string,
    sql: string,
    params?: unknown[],
    options?: CallOptions & { idempotent?: boolean | undefined },
  ): Promise<D1QueryResult[]>;
  /**
   * `GET …/d1/database/:id/time_travel/bookmark`: the D1 Time Travel bookmark of the database's current
   * state (or, with `timestamp`, the nearest one at or before it), to hand to
   * `wrangler d1 time-travel restore --bookmark` later. `undefined` when the answer carries none, or
   * the server does not implement Time Travel (501, answered at once).
   *
   * @example
   * const bookmark = await cf.getD1Bookmark(db.uuid); // "00000085-0000024c-00004c6d-8e61117b…"
   */
  getD1Bookmark(
    databaseId: string,
    options?: CallOptions & { timestamp?: string | undefined },
  ): Promise<string | undefined>;
  /**
   * `POST …/d1/database/:id/time_travel/restore?bookmark=`: puts the database back to a bookmark, in one
   * step (on Cloudflare and the local cloud alike: nothing changes unless the whole restore does).
   * Retried on 5xx and dropped connections too: restoring the same bookmark twice ends in the same state.
   * Returns the bookmark of the state it replaced (to undo it).
   *
   * @example
   * const { previousBookmark } = await cf.restoreD1Bookmark(db.uuid, backup.bookmark);
   */
  restoreD1Bookmark(
    databaseId: string,
    bookmark: string,
    options?: CallOptions,
  ): Promise<{ bookmark: string | undefined; previousBookmark: string | undefined }>;
  /** `GET /accounts/:a/workers/domains` (custom domains), optionally filtered. */
  listWorkerDomains(
    filter?: { hostname?: string; service?: string; environment?: string; zoneId?: string },
    options?: CallOptions,
  ): Promise<WorkerDomain[]>;
  /** `GET /accounts/:a/workers/subdomain`: the account's workers.dev subdomain, `undefined` if none. */
  getAccountSubdomain(options?: CallOptions): Promise<string | undefined>;
  /** `GET /zones/:zone/workers/routes`. */
  listRoutes(zoneId: string, options?: CallOptions): Promise<WorkerRoute[]>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const seg = encodeURIComponent;

function combineSignals(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}

function invalidResponse(spec: RequestSpec, what: string, redact: Redact): LegoError {
  return new LegoError({
    code: "ERR_CF_INVALID_RESPONSE",
    message: redact(`Cloudflare API ${spec.method} ${spec.path} answered with ${what}`),
    hint: "The API base URL may not point at a Cloudflare v4 API.",
    kind: "system",
    exitCode: ExitCode.Failure,
    details: { method: spec.method, path: spec.path },
  });
}

function ensureArray<T>(value: unknown, spec: RequestSpec, redact: Redact): T[] {
  if (!Array.isArray(value)) throw invalidResponse(spec, "a result that is not a list", redact);
  return value as T[];
}

function ensureObject<T>(value: unknown, spec: RequestSpec, redact: Redact): T {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalidResponse(spec, "a result that is not an object", redact);
  return value as T;
}

/** A 200 response whose v4 envelope reports `success: false`: read by `toApiFailure` like an APIError. */
class EnvelopeFailure extends Error {
  override readonly name = "EnvelopeFailure";
  readonly status = 200;
  readonly headers = {};
  constructor(readonly errors: Array<{ code?: number | undefined; message?: string | undefined }>) {
    super(errors.map((e) => e.message).join("; ") || "the API answered success: false");
  }
}

/**
 * The SDK resources the client calls, through the SDK's tree-shakable client (`cloudflare/tree-shakable`)
 * and the `Base*` classes (a resource's own methods, without its sub-resources). The full `Cloudflare`
 * class imports every API resource: about 1,100 modules and 0.35-0.45 s of start-up for each CLI run;
 * these are a few dozen. Parents come before their children (`user` before `user.tokens`).
 */
const SDK_RESOURCES = [
  BaseAccounts,
  BaseUser,
  BaseTokens,
  BaseZones,
  BaseScripts,
  BaseVersions,
  BaseSecrets,
  BaseDomains,
  BaseRoutes,
  BaseSubdomains,
  BaseDatabase,
  BaseTimeTravel,
] as const;

/** The SDK client behind {@link CloudflareClient.sdk}: `accounts`, `user`, `user.tokens`, `zones`, `workers.scripts` (+ `.versions`, `.secrets`), `workers.domains`, `workers.routes`, `workers.subdomains`, `d1.database` (+ `.timeTravel`). */
export type CloudflareSdk = ReturnType<typeof createClient<typeof SDK_RESOURCES>>;

/**
 * Creates the Cloudflare API client over the official `cloudflare` SDK (its own retries off: Lego
 * retries). The base URL and token come from the target (`resolveTarget`), so the same code runs
 * against Cloudflare and the local cloud.
 *
 * @example
 * const target = await resolveTarget({ env, legoHome });
 * const cf = createCloudflareClient({ token: target.token, baseURL: target.apiBaseUrl, accountId: target.accountId });
 * const live = await cf.getWorkerService("api-staging"); // undefined when not deployed yet
 */
export function createCloudflareClient(options: CloudflareClientOptions): CloudflareClient {
  if (!options.token)
    throw new AuthError({
      code: "ERR_CF_TOKEN_MISSING",
      message: "No Cloudflare API token was given to the API client",
      hint: "Set CLOUDFLARE_API_TOKEN, or store a token in the Lego vault.",
    });
  const baseURL = (options.baseURL ?? DEFAULT_API_BASE_URL).replace(/\/+$/, "");
  const logger = options.logger ?? createNullLogger();
  const clock = options.clock ?? systemClock;
  const policy = resolveRetryPolicy(options.retry);
  const redact = redactor(options.token);
  const sdk = createClient({
    resources: SDK_RESOURCES,
    apiToken: options.token,
    // Explicit nulls keep the SDK from picking up CLOUDFLARE_API_KEY / CLOUDFLARE_EMAIL from the environment.
    apiKey: null,
    apiEmail: null,
    userServiceKey: null,
    baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
    logLevel: "off",
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  async function call<T>(
    spec: RequestSpec,
    fn: (signal: AbortSignal | undefined) => Promise<T>,
    callOptions: CallOptions = {},
    extraRedact?: Redact,
  ): Promise<T> {
    const signal = combineSignals(options.signal, callOptions.signal);
    const label = `${spec.method} ${spec.path}`;
    const scrub: Redact = extraRedact ? (t) => extraRedact(redact(t)) : redact;
    try {
      return await withRetry(() => fn(signal), {
        policy,
        clock,
        signal,
        logger,
        idempotent: spec.idempotent ?? isIdempotentMethod(spec.method),
        label,
      });
    } catch (error) {
      const attempts = error instanceof RetryExhausted ? error.attempts : undefined;
      const cause = error instanceof RetryExhausted ? error.lastError : error;
      throw translateCloudflareError(
        cause,
        { method: spec.method, path: spec.path, permission: spec.permission, attempts },
        { redact: scrub, baseURL, nowMs: clock.now() },
      );
    }
  }

  async function request<T>(spec: RequestSpec, callOptions: CallOptions = {}): Promise<ApiEnvelope<T>> {
    const query = spec.query
      ? Object.fromEntries(Object.entries(spec.query).filter(([, v]) => v !== undefined))
      : undefined;
    const body = await call(
      spec,
      (signal) =>
        sdk
          .request<unknown>({
            method: spec.method.toLowerCase() as "get",
            path: spec.path,
            ...(query ? { query } : {}),
            ...(spec.body !== undefined ? { body: spec.body } : {}),
            ...(signal ? { signal } : {}),
          })
          .then((raw: unknown) => {
            // A 200 whose envelope says `success: false` fails inside the retry loop, so its codes
            // (971 among them) are retried and translated like any other failure.
            const failed = raw as Partial<ApiEnvelope<unknown>> | null;
            if (typeof failed === "object" && failed !== null && failed.success === false)
              throw new EnvelopeFailure(failed.errors ?? []);
            return raw;
          }),
      callOptions,
    );
    const envelope = ensureObject<ApiEnvelope<T>>(body, spec, redact);
    if (!("result" in envelope)) throw invalidResponse(spec, "no `result`", redact);
    return envelope;
  }

  async function listAll<T>(
    path: string,
    list: ListAllOptions = {},
    callOptions: CallOptions = {},
  ): Promise<T[]> {
    const spec: RequestSpec = { method: "GET", path, permission: list.permission };
    return collectPages<T>(
      async ({ page, perPage, cursor }) => {
        const envelope = await request<unknown>(
          { ...spec, query: { ...list.query, ...(cursor ? { cursor } : { page }), per_page: perPage } },
          callOptions,
        );
        const result = envelope.result as unknown;
        const items =
          result === null || result === undefined
            ? []
            : Array.isArray(result)
              ? result
              : Array.isArray((result as { items?: unknown }).items)
                ? (result as { items: unknown[] }).items
                : undefined;
        if (!items)
          throw invalidResponse(spec, "a list result that is neither an array nor `{ items }`", redact);
        return { items: items as T[], resultInfo: envelope.result_info };
      },
      { ...list, label: `GET ${path}`, signal: combineSignals(options.signal, callOptions.signal), logger },
    );
  }

  /** Walks an SDK list method page by page with Lego's termination rules. */
  function sdkPages<T>(
    spec: RequestSpec,
    fetchPage: (
      req: PageRequest,
      signal: AbortSignal | undefined,
    ) => Promise<{ result: unknown; result_info?: unknown }>,
    callOptions: CallOptions,
    perPage: number,
  ): Promise<T[]> {
    return collectPages<T>(
      async (req): Promise<PageResult<T>> => {
        const page = await call(spec, (signal) => fetchPage(req, signal), callOptions);
        const result = page.result as unknown;
        const items = Array.isArray(result)
          ? result
          : Array.isArray((result as { items?: unknown } | undefined)?.items)
            ? (result as { items: unknown[] }).items
            : [];
        return { items: items as T[], resultInfo: page.result_info as ResultInfo | undefined };
      },
      {
        perPage,
        label: `${spec.method} ${spec.path}`,
        signal: combineSignals(options.signal, callOptions.signal),
        logger,
      },
    );
  }

  let accountLookup: Promise<string> | undefined;
  async function accountId(callOptions: CallOptions = {}): Promise<string> {
    if (callOptions.accountId) return callOptions.accountId;
    if (options.accountId) return options.accountId;
    accountLookup ??= (async () => {
      const accounts = await listAccounts(callOptions);
      const only = accounts.length === 1 ? accounts[0] : undefined;
      if (only) {
        logger.debug(`Using the only account the token can see: ${only.name} (${only.id})`);
        return only.id;
      }
      throw new UsageError({
        code: "ERR_CF_ACCOUNT_REQUIRED",
        message:
          accounts.length === 0
            ? "The API token cannot see any Cloudflare account"
            : `The API token can see ${accounts.length} accounts; Lego needs to know which one to use (${accounts
                .slice(0, 5)
                .map((a) => `${a.name} ${a.id}`)
                .join(", ")}${accounts.length > 5 ? ", …" : ""})`,
        hint: "Set CLOUDFLARE_ACCOUNT_ID (or accountId in the domain config).",
        details: { accounts: accounts.length },
      });
    })();
    try {
      return await accountLookup;
    } catch (error) {
      accountLookup = undefined;
      throw error;
    }
  }

  async function listAccounts(callOptions: CallOptions = {}): Promise<CloudflareAccount[]> {
    const spec: RequestSpec = { method: "GET", path: "/accounts", permission: "Account Settings: Read" };
    return sdkPages<CloudflareAccount>(
      spec,
      ({ page, perPage }, signal) => sdk.accounts.list({ page, per_page: perPage }, { signal }),
      callOptions,
      50,
    );
  }

  const scriptPath = (account: string, script: string, rest = "") =>
    `/accounts/${seg(account)}/workers/scripts/${seg(script)}${rest}`;

  const client: CloudflareClient = {
    baseURL,
    sdk,
    accountId,
    call: (spec, fn, callOptions) => call(spec, fn, callOptions),
    request,
    listAll,

    async verifyToken(callOptions = {}) {
      const spec: RequestSpec = { method: "GET", path: "/user/tokens/verify" };
      const result = await call(spec, (signal) => sdk.user.tokens.verify({ signal }), callOptions);
      return ensureObject<TokenStatus>(result, spec, redact);
    },

    async getUser(callOptions = {}) {
      const spec: RequestSpec = { method: "GET", path: "/user", permission: "User Details: Read" };
      const result = await call(spec, (signal) => sdk.user.get({ signal }), callOptions);
      return ensureObject<CloudflareUser>(result, spec, redact);
    },

    listAccounts,

    async listZones(filter = {}, callOptions = {}) {
      const spec: RequestSpec = { method: "GET", path: "/zones", permission: "Zone: Read" };
      return sdkPages<Zone>(
        spec,
        ({ page, perPage }, signal) =>
          sdk.zones.list(
            {
              page,
              per_page: perPage,
              ...(filter.name ? { name: filter.name } : {}),
              ...(filter.accountId ? { account: { id: filter.accountId } } : {}),
            },
            { signal },
          ),
        callOptions,
        50,
      );
    },

    async listWorkerScripts(callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: `/accounts/${account}/workers/scripts`,
        permission: "Workers Scripts: Read",
      };
      const page = await call(
        spec,
        (signal) => sdk.workers.scripts.list({ account_id: account }, { signal }),
        callOptions,
      );
      return ensureArray<WorkerScript>(page.result, spec, redact);
    },

    async getWorkerService(script, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: `/accounts/${seg(account)}/workers/services/${seg(script)}`,
        permission: "Workers Scripts: Read",
      };
      try {
        const envelope = await request<WorkerService>(spec, callOptions);
        return ensureObject<WorkerService>(envelope.result, spec, redact);
      } catch (error) {
        const codes = (error as LegoError).details?.cfCodes as number[] | undefined;
        if (
          (error as LegoError).code === "ERR_CF_NOT_FOUND" &&
          codes?.some((c) => WORKER_NOT_FOUND_CF_CODES.includes(c))
        )
          return undefined;
        throw error;
      }
    },

    async listDeployments(script, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: scriptPath(account, script, "/deployments"),
        permission: "Workers Scripts: Read",
      };
      // The SDK's deployments.list() iterates `result.items`; the API (and wrangler) use `result.deployments`.
      const envelope = await request<{ deployments?: unknown; items?: unknown }>(spec, callOptions);
      const result = ensureObject<{ deployments?: unknown; items?: unknown }>(envelope.result, spec, redact);
      return ensureArray<Deployment>(result.deployments ?? result.items ?? [], spec, redact);
    },

    async getVersion(script, versionId, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: scriptPath(account, script, `/versions/${seg(versionId)}`),
        permission: "Workers Scripts: Read",
      };
      const result = await call(
        spec,
        (signal) =>
          sdk.workers.scripts.versions.get(
            versionId,
            { account_id: account, script_name: script },
            { signal },
          ),
        callOptions,
      );
      return ensureObject<WorkerVersion>(result, spec, redact);
    },

    async listVersions(script, filter = {}, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: scriptPath(account, script, "/versions"),
        permission: "Workers Scripts: Read",
      };
      return sdkPages<WorkerVersion>(
        spec,
        ({ page, perPage }, signal) =>
          sdk.workers.scripts.versions.list(
            script,
            {
              account_id: account,
              page,
              per_page: perPage,
              ...(filter.deployable !== undefined ? { deployable: filter.deployable } : {}),
            },
            { signal },
          ),
        callOptions,
        50,
      );
    },

    async listSecrets(script, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: scriptPath(account, script, "/secrets"),
        permission: "Workers Scripts: Read",
      };
      const page = await call(
        spec,
        (signal) => sdk.workers.scripts.secrets.list(script, { account_id: account }, { signal }),
        callOptions,
      );
      return ensureArray<WorkerSecret>(page.result, spec, redact);
    },

    async putSecret(script, name, value, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "PUT",
        path: scriptPath(account, script, "/secrets"),
        permission: "Workers Scripts: Edit",
      };
      await call(
        spec,
        (signal) =>
          sdk.workers.scripts.secrets.update(
            script,
            { account_id: account, name, text: value, type: "secret_text" },
            { signal },
          ),
        callOptions,
        redactor(value),
      );
    },

    async deleteSecret(script, name, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "DELETE",
        path: scriptPath(account, script, `/secrets/${seg(name)}`),
        permission: "Workers Scripts: Edit",
      };
      await call(
        spec,
        (signal) =>
          sdk.workers.scripts.secrets.delete(name, { account_id: account, script_name: script }, { signal }),
        callOptions,
      );
    },

    async listD1Databases(filter = {}, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: `/accounts/${account}/d1/database`,
        permission: "D1: Read",
      };
      return sdkPages<D1Database>(
        spec,
        ({ page, perPage }, signal) =>
          sdk.d1.database.list(
            { account_id: account, page, per_page: perPage, ...(filter.name ? { name: filter.name } : {}) },
            { signal },
          ),
        callOptions,
        100,
      );
    },

    async getD1Database(nameOrId, callOptions = {}) {
      const account = await accountId(callOptions);
      if (UUID.test(nameOrId)) {
        const spec: RequestSpec = {
          method: "GET",
          path: `/accounts/${account}/d1/database/${seg(nameOrId)}`,
          permission: "D1: Read",
        };
        try {
          const result = await call(
            spec,
            (signal) => sdk.d1.database.get(nameOrId, { account_id: account }, { signal }),
            callOptions,
          );
          return ensureObject<D1Database>(result, spec, redact);
        } catch (error) {
          const codes = ((error as LegoError).details?.cfCodes as number[] | undefined) ?? [];
          // 7404 is D1's "database not found"; other 404 codes (a wrong account: 7003) are real errors.
          if (
            (error as LegoError).code === "ERR_CF_NOT_FOUND" &&
            (codes.length === 0 || codes.includes(7404))
          )
            return undefined;
          throw error;
        }
      }
      const matches = await client.listD1Databases({ name: nameOrId }, callOptions);
      return matches.find((db) => db.name === nameOrId);
    },

    async createD1Database(name, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "POST",
        path: `/accounts/${account}/d1/database`,
        permission: "D1: Edit",
      };
      const result = await call(
        spec,
        (signal) => sdk.d1.database.create({ account_id: account, name }, { signal }),
        callOptions,
      );
      return ensureObject<D1Database>(result, spec, redact);
    },

    async queryD1(databaseId, sql, params, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "POST",
        path: `/accounts/${account}/d1/database/${seg(databaseId)}/query`,
        permission: "D1: Edit",
        idempotent: callOptions.idempotent ?? isRepeatableSql(sql),
      };
      const page = await call(
        spec,
        (signal) =>
          sdk.d1.database.query(
            databaseId,
            { account_id: account, sql, ...(params ? { params: params as string[] } : {}) },
            { signal },
          ),
        callOptions,
      );
      return ensureArray<D1QueryResult>(page.result, spec, redact);
    },

    async getD1Bookmark(databaseId, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: `/accounts/${account}/d1/database/${seg(databaseId)}/time_travel/bookmark`,
        permission: "D1: Read",
      };
      const result = await call(
        spec,
        (signal) =>
          sdk.d1.database.timeTravel
            .getBookmark(
              databaseId,
              {
                account_id: account,
                ...(callOptions.timestamp ? { timestamp: callOptions.timestamp } : {}),
              },
              { signal },
            )
            // 501: a server without Time Travel (a local cloud older than it). Permanent, so not retried.
            .catch((error: unknown) => {
              if (toApiFailure(error)?.status === 501) return {};
              throw error;
            }),
        callOptions,
      );
      const bookmark = ensureObject<{ bookmark?: unknown }>(result, spec, redact).bookmark;
      return typeof bookmark === "string" && bookmark !== "" ? bookmark : undefined;
    },

    async restoreD1Bookmark(databaseId, bookmark, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "POST",
        path: `/accounts/${account}/d1/database/${seg(databaseId)}/time_travel/restore`,
        permission: "D1: Edit",
        idempotent: true,
      };
      const result = await call(
        spec,
        (signal) =>
          sdk.d1.database.timeTravel.restore(databaseId, { account_id: account, bookmark }, { signal }),
        callOptions,
      );
      const r = ensureObject<{ bookmark?: unknown; previous_bookmark?: unknown }>(result, spec, redact);
      return {
        bookmark: typeof r.bookmark === "string" ? r.bookmark : undefined,
        previousBookmark: typeof r.previous_bookmark === "string" ? r.previous_bookmark : undefined,
      };
    },

    async listWorkerDomains(filter = {}, callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: `/accounts/${account}/workers/domains`,
        permission: "Workers Scripts: Read",
      };
      const page = await call(
        spec,
        (signal) =>
          sdk.workers.domains.list(
            {
              account_id: account,
              ...(filter.hostname ? { hostname: filter.hostname } : {}),
              ...(filter.service ? { service: filter.service } : {}),
              ...(filter.environment ? { environment: filter.environment } : {}),
              ...(filter.zoneId ? { zone_id: filter.zoneId } : {}),
            },
            { signal },
          ),
        callOptions,
      );
      return ensureArray<WorkerDomain>(page.result, spec, redact);
    },

    async getAccountSubdomain(callOptions = {}) {
      const account = await accountId(callOptions);
      const spec: RequestSpec = {
        method: "GET",
        path: `/accounts/${account}/workers/subdomain`,
        permission: "Workers Scripts: Read",
      };
      try {
        const result = await call(
          spec,
          (signal) => sdk.workers.subdomains.get({ account_id: account }, { signal }),
          callOptions,
        );
        const subdomain = ensureObject<{ subdomain?: unknown }>(result, spec, redact).subdomain;
        return typeof subdomain === "string" && subdomain !== "" ? subdomain : undefined;
      } catch (error) {
        if ((error as LegoError).code === "ERR_CF_NOT_FOUND") return undefined;
        throw error;
      }
    },

    async listRoutes(zoneId, callOptions = {}) {
      const spec: RequestSpec = {
        method: "GET",
        path: `/zones/${seg(zoneId)}/workers/routes`,
        permission: "Workers Routes: Read",
      };
      const page = await call(
        spec,
        (signal) => sdk.workers.routes.list({ zone_id: zoneId }, { signal }),
        callOptions,
      );
      return ensureArray<WorkerRoute>(page.result, spec, redact);
    },
  };
  return client;
}
