import { ExitCode, InterruptedError, isLegoError, LegoError } from "@lego/core";

/**
 * The codes @lego/cloudflare throws. Stable: callers branch on them, and they are never renamed once
 * released.
 */
export const CloudflareErrorCode = [
  /** The token was rejected (401) or lacks a permission (403): exit 3. */
  "ERR_CF_AUTH",
  /** No token is configured for the `cloudflare` target: exit 3. */
  "ERR_CF_TOKEN_MISSING",
  /** The resource does not exist (404). */
  "ERR_CF_NOT_FOUND",
  /** 429 or Cloudflare code 971, still failing after the retries (or Retry-After beyond the budget). */
  "ERR_CF_RATE_LIMITED",
  /** Any other API failure: details carry status, cfCodes, method, path. */
  "ERR_CF_API",
  /** The API could not be reached (connection refused, reset, DNS, timeout). */
  "ERR_CF_UNREACHABLE",
  /** The API answered 2xx with a body Lego cannot use (not the v4 envelope, `success: false`). */
  "ERR_CF_INVALID_RESPONSE",
  /** Pagination ran into its hard page cap while the API still reported more pages. */
  "ERR_CF_PAGINATION_LIMIT",
  /** An account-scoped call without an account id, and the token sees zero or several accounts: exit 2. */
  "ERR_CF_ACCOUNT_REQUIRED",
  /** The target is `local` but the local cloud is not running and cannot be started: exit 1. */
  "ERR_TARGET_LOCAL_UNAVAILABLE",
  /** `$LEGO_HOME/local/server.json` exists but does not match the contract. */
  "ERR_TARGET_LOCAL_INVALID",
  /** The pinned wrangler cannot be found, or the Node running it is too old. */
  "ERR_WRANGLER_NOT_FOUND",
  /** A wrangler command exited non-zero: details carry exitCode, command (no secrets), stderrTail. */
  "ERR_WRANGLER_FAILED",
  /** A wrangler command succeeded but its output (ND-JSON records, JSON stdout) is missing or unreadable. */
  "ERR_WRANGLER_OUTPUT_INVALID",
  /** `wrangler.build()` failed: the message carries wrangler's errors (file, line, text). Nothing was deployed. */
  "ERR_WRANGLER_BUILD_FAILED",
  /** Bad arguments to a runner method (empty secret name, no D1 command or file, …): exit 2. */
  "ERR_WRANGLER_USAGE",
] as const;
/** One of {@link CloudflareErrorCode}. */
export type CloudflareErrorCode = (typeof CloudflareErrorCode)[number];

/** Cloudflare error codes meaning "rate limited, wait and retry". */
export const RATE_LIMIT_CF_CODES: readonly number[] = [971, 10429];
/** Cloudflare error codes meaning "the token itself is invalid", whatever the HTTP status. */
export const INVALID_TOKEN_CF_CODES: readonly number[] = [6003, 6111, 9103, 9106, 9109, 10001];
/** Cloudflare error codes wrangler treats as "this Worker does not exist". */
export const WORKER_NOT_FOUND_CF_CODES: readonly number[] = [10007, 10090];

/** What a failing request was, for messages and details. Never holds the token. */
export interface RequestContext {
  method: string;
  /** Path relative to the API base, without the query string. */
  path: string;
  /** The permission the call needs, e.g. "Workers Scripts: Edit"; named in ERR_CF_AUTH hints. */
  permission?: string | undefined;
  /** Attempts made so far (retries included). */
  attempts?: number | undefined;
}

/** The parts of the SDK's `APIError` (and of a raw v4 envelope) that translation reads. */
export interface ApiFailure {
  status: number | undefined;
  errors: Array<{ code?: number | undefined; message?: string | undefined }>;
  headers: Headers | Record<string, string> | undefined;
  /** Set for connection-level failures (no HTTP response). */
  network?: { message: string; timedOut: boolean } | undefined;
  /** Set when the caller aborted. */
  aborted?: boolean | undefined;
}

/** A redaction function: replaces every secret in a string with `***`. */
export type Redact = (text: string) => string;

/**
 * A redaction function for the given secrets. Values shorter than 4 characters are left alone: they
 * would mangle ordinary words, and no real token is that short.
 */
export function redactor(...secrets: Array<string | undefined>): Redact {
  const list = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  return (text) => {
    let out = text;
    for (const s of list) out = out.split(s).join("***");
    return out;
  };
}

function headerValue(headers: ApiFailure["headers"], name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : record[key];
}

/**
 * Parses a `Retry-After` header: delta-seconds or an HTTP-date. Returns milliseconds from `nowMs`,
 * never negative; `undefined` when absent or unparsable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Reads the SDK's error shapes (APIError and its connection/abort subclasses) without instanceof. */
export function toApiFailure(error: unknown): ApiFailure | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as {
    name?: string;
    constructor?: { name?: string };
    status?: unknown;
    errors?: unknown;
    headers?: unknown;
    message?: string;
    cause?: unknown;
  };
  const ctor = e.constructor?.name ?? "";
  if (ctor === "APIUserAbortError" || e.name === "AbortError" || e.name === "TimeoutError") {
    // A TimeoutError from AbortSignal.timeout is a timeout, not a user abort.
    if (e.name === "TimeoutError")
      return {
        status: undefined,
        errors: [],
        headers: undefined,
        network: { message: "Request timed out", timedOut: true },
      };
    return { status: undefined, errors: [], headers: undefined, aborted: true };
  }
  if (ctor === "APIConnectionTimeoutError")
    return {
      status: undefined,
      errors: [],
      headers: undefined,
      network: { message: e.message ?? "Request timed out", timedOut: true },
    };
  if (ctor === "APIConnectionError" || (e instanceof TypeError && /fetch failed/i.test(e.message ?? ""))) {
    const cause = e.cause as { message?: string; code?: string; cause?: { code?: string } } | undefined;
    const code = cause?.code ?? cause?.cause?.code;
    const detail = [cause?.message, code].filter(Boolean).join(" ");
    return {
      status: undefined,
      errors: [],
      headers: undefined,
      network: { message: detail || e.message || "Connection error", timedOut: false },
    };
  }
  const api = error as { status?: unknown; errors?: unknown; headers?: unknown };
  if (typeof api.status === "number" && Array.isArray(api.errors)) {
    return {
      status: api.status,
      errors: (api.errors as Array<{ code?: unknown; message?: unknown }>).map((x) => ({
        code: typeof x?.code === "number" ? x.code : undefined,
        message: typeof x?.message === "string" ? x.message : undefined,
      })),
      headers: api.headers as ApiFailure["headers"],
    };
  }
  return undefined;
}

/** The Cloudflare error codes of a failure, e.g. `[10007]`. */
export function cfCodesOf(failure: ApiFailure): number[] {
  return failure.errors.map((e) => e.code).filter((c): c is number => typeof c === "number");
}

/** True for 429 and for Cloudflare's "slow down" codes (971) whatever the status. */
export function isRateLimited(failure: ApiFailure): boolean {
  return failure.status === 429 || cfCodesOf(failure).some((c) => RATE_LIMIT_CF_CODES.includes(c));
}

/** Retry-After of a failure in ms, if the API sent one. */
export function retryAfterOf(failure: ApiFailure, nowMs: number): number | undefined {
  const ms = headerValue(failure.headers, "retry-after-ms");
  if (ms !== undefined && /^\d+$/.test(ms.trim())) return Number(ms.trim());
  return parseRetryAfter(headerValue(failure.headers, "retry-after"), nowMs);
}

function describeErrors(failure: ApiFailure, redact: Redact): string {
  const parts = failure.errors
    .map((e) => [e.code === undefined ? "" : `[${e.code}]`, e.message ?? ""].filter(Boolean).join(" "))
    .filter(Boolean);
  return redact(parts.join("; "));
}

/** Options of {@link translateCloudflareError}. */
export interface TranslateOptions {
  /** Removes the token (and any other secret) from messages. */
  redact?: Redact | undefined;
  /** The API base URL, for the unreachable hint. */
  baseURL?: string | undefined;
  /** Milliseconds since the epoch, for HTTP-date Retry-After. */
  nowMs?: number | undefined;
}

/**
 * Translates anything the SDK (or `fetch`) throws into a LegoError with a stable code, keeping the
 * status, the Cloudflare error codes, Retry-After and the request in `details`. The message and the
 * details never hold the token. A LegoError passes through unchanged.
 *
 * @example
 * try { await sdk.zones.list() } catch (e) { throw translateCloudflareError(e, { method: "GET", path: "/zones" }) }
 */
export function translateCloudflareError(
  error: unknown,
  request: RequestContext,
  options: TranslateOptions = {},
): LegoError {
  if (isLegoError(error)) return error;
  const redact = options.redact ?? ((t: string) => t);
  const failure = toApiFailure(error);
  const where = `${request.method.toUpperCase()} ${request.path}`;
  const base = {
    method: request.method.toUpperCase(),
    path: request.path,
    ...(request.attempts !== undefined ? { attempts: request.attempts } : {}),
  };
  if (!failure) {
    const message = error instanceof Error ? error.message : String(error);
    return new LegoError({
      code: "ERR_CF_API",
      message: redact(`Cloudflare API ${where} failed: ${message}`),
      kind: "system",
      exitCode: ExitCode.Failure,
      details: base,
      cause: error,
    });
  }
  if (failure.aborted) return new InterruptedError(`Cloudflare API ${where} was cancelled`, error);
  if (failure.network) {
    const at = options.baseURL ? ` at ${options.baseURL}` : "";
    return new LegoError({
      code: "ERR_CF_UNREACHABLE",
      message: redact(
        `Cloudflare API ${where} ${failure.network.timedOut ? "timed out" : "could not be reached"}${at}: ${failure.network.message}`,
      ),
      hint: "Check the network connection and the API base URL of the target (for the local cloud: `lego local status`).",
      kind: "system",
      exitCode: ExitCode.Failure,
      details: { ...base, timedOut: failure.network.timedOut },
      cause: error,
    });
  }
  const status = failure.status;
  const cfCodes = cfCodesOf(failure);
  const text = describeErrors(failure, redact);
  const suffix = text ? `: ${text}` : "";
  const details = { ...base, status, cfCodes };
  if (isRateLimited(failure)) {
    const retryAfterMs = retryAfterOf(failure, options.nowMs ?? Date.now());
    return new LegoError({
      code: "ERR_CF_RATE_LIMITED",
      message: `Cloudflare API ${where} is rate limited (${status})${suffix}`,
      hint:
        retryAfterMs === undefined
          ? "Wait a little and run again, or run fewer operations in parallel."
          : `The API asks to wait ${Math.ceil(retryAfterMs / 1000)} s; run again after that, or with less parallelism.`,
      kind: "system",
      exitCode: ExitCode.Failure,
      details: { ...details, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
      cause: error,
    });
  }
  const invalidToken = status === 401 || cfCodes.some((c) => INVALID_TOKEN_CF_CODES.includes(c));
  if (invalidToken || status === 403) {
    const permission = request.permission;
    const hint = invalidToken
      ? "The API token was rejected: check that CLOUDFLARE_API_TOKEN (or the token in the Lego vault) is complete, active and not expired."
      : permission
        ? `The API token lacks the permission "${permission}" (or is not scoped to this account or zone). Add it to the token in the Cloudflare dashboard.`
        : "The API token lacks a permission this call needs, or is not scoped to this account or zone.";
    return new LegoError({
      code: "ERR_CF_AUTH",
      message: `Cloudflare API ${where} was refused (${status ?? "no status"})${suffix}`,
      hint,
      kind: "user",
      exitCode: ExitCode.Auth,
      details: { ...details, ...(permission ? { permission } : {}) },
      cause: error,
    });
  }
  if (status === 404) {
    return new LegoError({
      code: "ERR_CF_NOT_FOUND",
      message: `Cloudflare API ${where}: not found${suffix}`,
      hint: "Check the name or id, and that the account id of the target is the right one.",
      kind: "user",
      exitCode: ExitCode.Failure,
      details,
      cause: error,
    });
  }
  return new LegoError({
    code: "ERR_CF_API",
    message: `Cloudflare API ${where} failed (${status})${suffix}`,
    ...(status !== undefined && status >= 500
      ? { hint: "Cloudflare (or the target API) had an internal error; try again later." }
      : {}),
    kind: status !== undefined && status < 500 ? "user" : "system",
    exitCode: ExitCode.Failure,
    details,
    cause: error,
  });
}
