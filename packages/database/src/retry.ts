import type { Clock, Logger } from "@lego/core";

/**
 * Whether a failed wrangler command (or API call) failed for a reason that may pass on a second try:
 * rate limiting (429, code 971), a 5xx, or a connection that dropped or timed out. A SQL error
 * (`[code: 7500]`, `SQLITE_…`, `no such table`) or a usage or auth error is never transient.
 */
export function isTransientFailure(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; details?: Record<string, unknown> } | undefined;
  if (!e || typeof e !== "object") return false;
  const code = typeof e.code === "string" ? e.code : "";
  if (code === "ERR_CF_RATE_LIMITED" || code === "ERR_CF_UNREACHABLE") return true;
  if (code === "ERR_CF_API") {
    const status = Number(e.details?.status);
    return status >= 500;
  }
  if (code !== "ERR_WRANGLER_FAILED") return false;
  if (e.details?.timedOut) return false;
  const tail = e.details?.stderrTail;
  const text = `${String(e.message ?? "")}\n${Array.isArray(tail) ? tail.join("\n") : String(tail ?? "")}`;
  if (/\[code: 7\d\d\d\]|SQLITE_|no such |syntax error|constraint failed|already exists/i.test(text))
    return false;
  if (/Authentication error|Invalid access token|\[code: 10000\]/i.test(text)) return false;
  return /\[code: (971|10013|10429)\]|\b(429|50[0-9]|52[0-9])\b|rate limit|fetch failed|ECONNRESET|ECONNREFUSED|EPIPE|socket hang up|other side closed|UND_ERR|terminated|Service Unavailable|Internal Server Error|Bad Gateway|Gateway Time-?out|unknown error has occurred/i.test(
    text,
  );
}

/** Options of {@link retryTransient}. */
export interface RetryTransientOptions {
  clock: Clock;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
  /** Attempts in all, the first included. Default 4. */
  attempts?: number | undefined;
  /** First wait in ms, doubled per retry. Default 500. */
  baseDelayMs?: number | undefined;
  /** For log lines: `wrangler d1 export ledger-db`. */
  label: string;
}

/**
 * Runs an operation that is safe to repeat (an export, a Time Travel restore, a re-import that first
 * drops what is there, `migrations apply`, which skips what `d1_migrations` already lists) and runs it
 * again when it fails for a transient reason ({@link isTransientFailure}), with a doubling wait. The
 * last failure is rethrown as is.
 */
export async function retryTransient<T>(fn: () => Promise<T>, options: RetryTransientOptions): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || options.signal?.aborted || !isTransientFailure(error)) throw error;
      const delay = base * 2 ** (attempt - 1);
      options.logger?.warn(
        `${options.label} failed for a transient reason (${firstLine(error)}); retrying in ${delay} ms`,
        { attempt, attempts },
      );
      await options.clock.sleep(delay, options.signal);
    }
  }
}

function firstLine(error: unknown): string {
  return ((error as Error)?.message ?? String(error)).split("\n")[0]!.slice(0, 200);
}
