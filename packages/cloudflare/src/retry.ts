import type { Clock, Logger } from "@lego/core";
import { InterruptedError } from "@lego/core";
import { type ApiFailure, isRateLimited, retryAfterOf, toApiFailure } from "./errors.ts";

/** How the client retries. Every bound applies; the first one reached ends the retries. */
export interface RetryPolicy {
  /** Total attempts, the first included. Default 5; 1 disables retries. */
  maxAttempts?: number | undefined;
  /** First backoff ceiling in ms; doubles per attempt (full jitter picks in [0, ceiling]). Default 500. */
  baseDelayMs?: number | undefined;
  /** Largest backoff ceiling in ms. Default 20 000. */
  maxDelayMs?: number | undefined;
  /** Total time budget in ms, waits included, from the first attempt. Default 120 000. */
  maxElapsedMs?: number | undefined;
  /** A Retry-After longer than this fails at once rather than waiting (wrangler uses 60 s). Default 60 000. */
  maxRetryAfterMs?: number | undefined;
  /** Random source in [0, 1) for the jitter; inject a constant in tests. Default Math.random. */
  random?: (() => number) | undefined;
}

/** A {@link RetryPolicy} with every field set. */
export type ResolvedRetryPolicy = Required<{ [K in keyof RetryPolicy]: NonNullable<RetryPolicy[K]> }>;

/** The defaults: 5 attempts, 500 ms doubling to 20 s, 2 minutes in all, Retry-After up to 60 s. */
export const defaultRetryPolicy: ResolvedRetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxElapsedMs: 120_000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
};

/** Fills a partial policy with the defaults. */
export function resolveRetryPolicy(policy: RetryPolicy | false | undefined): ResolvedRetryPolicy {
  if (policy === false) return { ...defaultRetryPolicy, maxAttempts: 1 };
  const out = { ...defaultRetryPolicy };
  for (const [k, v] of Object.entries(policy ?? {}))
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  out.maxAttempts = Math.max(1, Math.floor(out.maxAttempts));
  return out;
}

/**
 * Exponential backoff with full jitter: a uniform pick in [0, min(maxDelay, base * 2^(retry-1))].
 * `retry` counts from 1 (the wait before the second attempt).
 */
export function backoffDelay(retry: number, policy: ResolvedRetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(policy.random() * ceiling);
}

/** Why a failure may be retried, or `undefined` when it may not. */
export type RetryReason = "rate-limited" | "server-error" | "network";

/**
 * Classifies a failure: 429 and code 971 always retry (the request was refused before any effect);
 * 5xx and connection failures retry only when the request is idempotent, since the first attempt
 * may have taken effect.
 */
export function retryReason(failure: ApiFailure | undefined, idempotent: boolean): RetryReason | undefined {
  if (!failure || failure.aborted) return undefined;
  if (isRateLimited(failure)) return "rate-limited";
  if (!idempotent) return undefined;
  if (failure.network) return "network";
  if (failure.status !== undefined && failure.status >= 500) return "server-error";
  return undefined;
}

/** Methods whose repetition has no extra effect. */
export function isIdempotentMethod(method: string): boolean {
  return ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"].includes(method.toUpperCase());
}

/** What {@link withRetry} needs besides the operation. */
export interface WithRetryOptions {
  policy: ResolvedRetryPolicy;
  clock: Clock;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  /** Whether 5xx and connection failures may be retried. */
  idempotent: boolean;
  /** For log lines, e.g. "GET /zones". */
  label: string;
}

/** The error {@link withRetry} throws when it gives up; `attempts` says how many were made. */
export class RetryExhausted extends Error {
  override readonly name = "RetryExhausted";
  constructor(
    readonly lastError: unknown,
    readonly attempts: number,
    readonly reason: "attempts" | "elapsed" | "retry-after" | "not-retryable",
  ) {
    super(`Gave up after ${attempts} attempt(s): ${reason}`, { cause: lastError });
  }
}

/**
 * Runs `operation` and retries it on retryable failures (see {@link retryReason}), honouring
 * Retry-After (seconds or HTTP-date) and otherwise backing off with full jitter, bounded by
 * attempts and total time, and cancellable by `signal` (rejects with InterruptedError). Every
 * failure it gives up on is rethrown wrapped in {@link RetryExhausted}, so the caller can report
 * the attempts.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: WithRetryOptions,
): Promise<T> {
  const { policy, clock, signal, logger } = options;
  const start = clock.now();
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new InterruptedError(`${options.label} was cancelled`);
    try {
      return await operation(attempt);
    } catch (error) {
      if (signal?.aborted) throw new InterruptedError(`${options.label} was cancelled`, error);
      const failure = toApiFailure(error);
      const reason = retryReason(failure, options.idempotent);
      if (!reason || !failure) throw new RetryExhausted(error, attempt, "not-retryable");
      if (attempt >= policy.maxAttempts) throw new RetryExhausted(error, attempt, "attempts");
      const retryAfter = retryAfterOf(failure, clock.now());
      if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs)
        throw new RetryExhausted(error, attempt, "retry-after");
      const delay = retryAfter ?? backoffDelay(attempt, policy);
      if (clock.now() + delay - start > policy.maxElapsedMs)
        throw new RetryExhausted(error, attempt, retryAfter !== undefined ? "retry-after" : "elapsed");
      logger?.debug(`${options.label}: ${describe(failure)}, retrying in ${delay} ms`, {
        attempt,
        maxAttempts: policy.maxAttempts,
        reason,
        delayMs: delay,
        ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
      });
      await clock.sleep(delay, signal);
    }
  }
}

function describe(failure: ApiFailure): string {
  if (failure.network) return failure.network.timedOut ? "timed out" : "connection failed";
  const codes = failure.errors.map((e) => e.code).filter((c) => c !== undefined);
  return `${failure.status}${codes.length ? ` (code ${codes.join(", ")})` : ""}`;
}
