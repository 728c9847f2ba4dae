import { type Clock, InterruptedError, OperationError, systemClock } from "@lego/core";
import type { JsonValue, ProductionTests } from "@lego/runtime";
import { defaultHttpClient, type HttpClient, type HttpResponse } from "./http.ts";

/** The result of one production check. Structured, so it goes into reports as is. */
export interface CheckResult {
  /** `health`, `auth.login`, `auth.without-token`, `auth.with-token`, `latency`, `burst`. */
  id: string;
  ok: boolean;
  /** One line: what was observed. Never a secret. */
  message: string;
  durationMs: number;
  details?: Record<string, unknown>;
}

/** Everything `lego test` and each deploy learn about a deployed service. */
export interface TestReport {
  ok: boolean;
  baseUrl: string;
  startedAt: string;
  durationMs: number;
  checks: CheckResult[];
}

export interface ProductionTesterOptions {
  http?: HttpClient;
  clock?: Clock;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Resolves `{{secret:NAME}}` placeholders and `{ secret: NAME }` token sources. */
  secret?: (name: string) => Promise<string | undefined>;
  signal?: AbortSignal;
}

/** The checks run when a service declares none: `GET /health` answers 200. */
export const defaultProductionTests: ProductionTests = { health: { path: "/health", expectStatus: 200 } };

const SECRET_PLACEHOLDER = /\{\{secret:([A-Za-z_][A-Za-z0-9_]*)\}\}/g;

function getPath(value: unknown, dotted: string): unknown {
  let current = value;
  for (const key of dotted.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Runs the checks a service declares in its domain config (`tests`) against a deployed URL: health
 * (status, body, JSON fields), an auth flow, a latency sample and a concurrent burst.
 *
 * @example
 * const report = await new ProductionTester().runProductionTests("https://api.example.com", config.tests);
 * if (!report.ok) console.error(report.checks.filter((c) => !c.ok));
 */
export class ProductionTester {
  readonly #http: HttpClient;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #secret: (name: string) => Promise<string | undefined>;
  readonly #signal: AbortSignal | undefined;

  constructor(options: ProductionTesterOptions = {}) {
    this.#http = options.http ?? defaultHttpClient;
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#secret = options.secret ?? (async () => undefined);
    this.#signal = options.signal;
  }

  /** Runs every declared check; a failing check does not stop the others. */
  async runProductionTests(
    baseUrl: string,
    tests: ProductionTests = defaultProductionTests,
  ): Promise<TestReport> {
    const started = this.#clock.now();
    const checks: CheckResult[] = [];
    checks.push(await this.health(baseUrl, tests.health));
    if (tests.auth) checks.push(...(await this.auth(baseUrl, tests.auth)));
    if (tests.latency) checks.push(await this.latency(baseUrl, tests.latency));
    if (tests.burst) checks.push(await this.burst(baseUrl, tests.burst));
    return {
      ok: checks.every((c) => c.ok),
      baseUrl,
      startedAt: new Date(started).toISOString(),
      durationMs: this.#clock.now() - started,
      checks,
    };
  }

  /** Judges one health response; shared with {@link waitUntilLive}. */
  static judgeHealth(res: HttpResponse, health: ProductionTests["health"]): string | undefined {
    if (res.status !== health.expectStatus)
      return `expected status ${health.expectStatus}, got ${res.status}`;
    if (health.expectBody !== undefined && !res.body.includes(health.expectBody)) {
      return `body does not contain ${JSON.stringify(health.expectBody)}`;
    }
    if (health.expectJson) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.body);
      } catch {
        return "body is not JSON";
      }
      for (const [path, expected] of Object.entries(health.expectJson)) {
        const actual = getPath(parsed, path);
        if (!deepEqual(actual, expected)) {
          return `JSON field ${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual) ?? "nothing"}`;
        }
      }
    }
    return undefined;
  }

  private async request(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ) {
    if (this.#signal?.aborted) throw new InterruptedError();
    return this.#http(url, {
      ...init,
      timeoutMs: this.#timeoutMs,
      ...(this.#signal ? { signal: this.#signal } : {}),
    });
  }

  private async timed(
    id: string,
    fn: () => Promise<Omit<CheckResult, "id" | "durationMs">>,
  ): Promise<CheckResult> {
    const started = performance.now();
    try {
      const result = await fn();
      return { id, durationMs: round(performance.now() - started), ...result };
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      return {
        id,
        ok: false,
        message: `request failed: ${(error as Error).message}`,
        durationMs: round(performance.now() - started),
      };
    }
  }

  private health(baseUrl: string, health: ProductionTests["health"]): Promise<CheckResult> {
    return this.timed("health", async () => {
      const res = await this.request(new URL(health.path, baseUrl).href);
      const problem = ProductionTester.judgeHealth(res, health);
      return problem
        ? {
            ok: false,
            message: `GET ${health.path}: ${problem}`,
            details: { status: res.status, body: res.body.slice(0, 500) },
          }
        : { ok: true, message: `GET ${health.path} answered ${res.status}`, details: { status: res.status } };
    });
  }

  private async substitute(text: string): Promise<string> {
    let out = text;
    for (const match of text.matchAll(SECRET_PLACEHOLDER)) {
      const name = match[1] as string;
      const value = await this.#secret(name);
      if (value === undefined) throw new Error(`the secret ${name} used by the auth test is not available`);
      out = out.replace(match[0], value);
    }
    return out;
  }

  private async substituteJson(value: JsonValue | undefined): Promise<JsonValue | undefined> {
    if (typeof value === "string") return this.substitute(value);
    if (Array.isArray(value))
      return Promise.all(value.map((v) => this.substituteJson(v) as Promise<JsonValue>));
    if (value && typeof value === "object") {
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(value)) out[k] = (await this.substituteJson(v)) as JsonValue;
      return out;
    }
    return value;
  }

  private async auth(baseUrl: string, auth: NonNullable<ProductionTests["auth"]>): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    let token: string | undefined;
    const source = auth.token;
    results.push(
      await this.timed("auth.login", async () => {
        if ("secret" in source) {
          token = await this.#secret(source.secret);
          return token
            ? { ok: true, message: `token taken from the secret ${source.secret}` }
            : { ok: false, message: `the secret ${source.secret} is not available to the tester` };
        }
        const login = source.login;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(login.headers ?? {})) headers[k] = await this.substitute(v);
        const body =
          login.body === undefined ? undefined : JSON.stringify(await this.substituteJson(login.body));
        if (body !== undefined) headers["content-type"] ??= "application/json";
        const res = await this.request(new URL(login.path, baseUrl).href, {
          method: login.method,
          headers,
          ...(body !== undefined ? { body } : {}),
        });
        if (res.status < 200 || res.status > 299) {
          return {
            ok: false,
            message: `${login.method} ${login.path}: expected 2xx, got ${res.status}`,
            details: { status: res.status },
          };
        }
        if ("header" in login.token) {
          token = res.headers[login.token.header.toLowerCase()];
        } else {
          try {
            const found = getPath(JSON.parse(res.body), login.token.json);
            token = typeof found === "string" ? found : undefined;
          } catch {
            token = undefined;
          }
        }
        const where =
          "header" in login.token ? `header ${login.token.header}` : `JSON field ${login.token.json}`;
        return token
          ? { ok: true, message: `${login.method} ${login.path} issued a token (${where})` }
          : {
              ok: false,
              message: `${login.method} ${login.path} answered ${res.status} without a token in ${where}`,
            };
      }),
    );
    const route = auth.protectedRoute;
    const url = new URL(route.path, baseUrl).href;
    results.push(
      await this.timed("auth.without-token", async () => {
        const res = await this.request(url, { method: route.method });
        return route.unauthorizedStatus.includes(res.status)
          ? { ok: true, message: `${route.method} ${route.path} without a token was refused (${res.status})` }
          : {
              ok: false,
              message: `${route.method} ${route.path} without a token: expected ${route.unauthorizedStatus.join(" or ")}, got ${res.status}`,
            };
      }),
    );
    results.push(
      await this.timed("auth.with-token", async () => {
        if (!token) return { ok: false, message: "skipped: no token was obtained" };
        const value = auth.scheme ? `${auth.scheme} ${token}` : token;
        const res = await this.request(url, { method: route.method, headers: { [auth.header]: value } });
        return res.status === route.expectStatus
          ? { ok: true, message: `${route.method} ${route.path} with the token answered ${res.status}` }
          : {
              ok: false,
              message: `${route.method} ${route.path} with the token: expected ${route.expectStatus}, got ${res.status}`,
            };
      }),
    );
    return results;
  }

  private latency(baseUrl: string, budget: NonNullable<ProductionTests["latency"]>): Promise<CheckResult> {
    return this.timed("latency", async () => {
      const url = new URL(budget.path, baseUrl).href;
      const samples: number[] = [];
      let failures = 0;
      for (let i = 0; i < budget.samples; i++) {
        const res = await this.request(url);
        if (res.status >= 400) failures++;
        samples.push(res.durationMs);
      }
      samples.sort((a, b) => a - b);
      const p50 = round(percentile(samples, 50));
      const p95 = round(percentile(samples, 95));
      const over: string[] = [];
      if (budget.p50Ms !== undefined && p50 > budget.p50Ms) over.push(`p50 ${p50} ms > ${budget.p50Ms} ms`);
      if (budget.p95Ms !== undefined && p95 > budget.p95Ms) over.push(`p95 ${p95} ms > ${budget.p95Ms} ms`);
      if (failures > 0) over.push(`${failures} of ${budget.samples} requests failed`);
      const details = { samples: budget.samples, p50Ms: p50, p95Ms: p95, failures };
      return over.length
        ? { ok: false, message: `GET ${budget.path}: ${over.join(", ")}`, details }
        : {
            ok: true,
            message: `GET ${budget.path}: p50 ${p50} ms, p95 ${p95} ms over ${budget.samples} requests`,
            details,
          };
    });
  }

  private burst(baseUrl: string, burst: NonNullable<ProductionTests["burst"]>): Promise<CheckResult> {
    return this.timed("burst", async () => {
      const url = new URL(burst.path, baseUrl).href;
      let next = 0;
      let failed = 0;
      const statuses: Record<string, number> = {};
      const worker = async () => {
        while (next < burst.requests) {
          next++;
          try {
            const res = await this.request(url);
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            if (res.status >= 400) failed++;
          } catch (error) {
            if (error instanceof InterruptedError) throw error;
            failed++;
            statuses.error = (statuses.error ?? 0) + 1;
          }
        }
      };
      await Promise.all(Array.from({ length: burst.concurrency }, worker));
      const rate = failed / burst.requests;
      const details = { requests: burst.requests, concurrency: burst.concurrency, failed, statuses };
      return rate > burst.maxErrorRate
        ? {
            ok: false,
            message: `${failed} of ${burst.requests} concurrent requests to ${burst.path} failed`,
            details,
          }
        : {
            ok: true,
            message: `${burst.requests} requests to ${burst.path}, ${burst.concurrency} at a time: ${failed} failed`,
            details,
          };
    });
  }
}

export interface WaitUntilLiveOptions {
  /** The service's base URL. */
  baseUrl: string;
  health?: ProductionTests["health"];
  /**
   * The version that must answer. A Worker whose health body reports a version id (from its
   * `version_metadata` binding) must report this one; one that reports none is judged by health.
   */
  expectVersion?: string;
  /** Give up after this long. Default 30 s. */
  timeoutMs?: number;
  /**
   * Asked once, at the first 5xx whose body names no version: does the API's deployment serve only the
   * expected version? When it does, 5xx answers are the new version failing (ended early as below),
   * not a rollout still in progress.
   */
  servesOnlyExpectedVersion?: () => Promise<boolean>;
  http?: HttpClient;
  clock?: Clock;
  signal?: AbortSignal;
}

const VERSION_ID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * A Worker that reports its version (e.g. from a `version_metadata` binding in `/health`) is live
 * when it reports the expected one; a Worker that reports no version id is judged by health alone.
 */
function isExpectedVersion(body: string, expected: string | undefined): boolean {
  if (expected === undefined || body.includes(expected)) return true;
  return !VERSION_ID_IN_TEXT.test(body);
}

/** The new version, recognised by its own id in the body, failing its health check this often in a row… */
const FAILING_ANSWERS = 5;
/** …over at least this long, is taken as broken rather than still starting. */
const FAILING_FOR_MS = 2_000;

/**
 * Polls the health check with backoff (100 ms, growing 1.5x to 2 s) until the new version answers,
 * instead of a fixed sleep. Throws `ERR_NOT_LIVE` with the last observation on timeout, or sooner
 * when the new version itself (its id in the health body, or 5xx answers while the API says only it is
 * deployed: `servesOnlyExpectedVersion`) keeps failing the check: 5 answers in a row over at least 2 s.
 * An old version still answering (a rollout in progress) never ends it early.
 */
export async function waitUntilLive(
  options: WaitUntilLiveOptions,
): Promise<{ attempts: number; elapsedMs: number }> {
  const http = options.http ?? defaultHttpClient;
  const clock = options.clock ?? systemClock;
  const health = options.health ?? defaultProductionTests.health;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const url = new URL(health.path, options.baseUrl).href;
  const started = clock.now();
  let delay = 100;
  let attempts = 0;
  let last = "no answer yet";
  let failing: { since: number; answers: number } | undefined;
  let serving: boolean | undefined;
  for (;;) {
    attempts++;
    try {
      const res = await http(url, {
        timeoutMs: Math.min(10_000, timeoutMs),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const problem = ProductionTester.judgeHealth(res, health);
      if (!problem && isExpectedVersion(res.body, options.expectVersion)) {
        return { attempts, elapsedMs: clock.now() - started };
      }
      last = problem ?? `answered ${res.status}, still as another version than ${options.expectVersion}`;
      const serverError = problem !== undefined && res.status >= 500;
      if (serverError && serving === undefined && options.servesOnlyExpectedVersion)
        serving = await options.servesOnlyExpectedVersion().catch(() => false);
      const newVersionFailing =
        problem !== undefined &&
        options.expectVersion !== undefined &&
        (res.body.includes(options.expectVersion) || (serverError && serving === true));
      failing = newVersionFailing
        ? { since: failing?.since ?? clock.now(), answers: (failing?.answers ?? 0) + 1 }
        : undefined;
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      last = (error as Error).message;
      failing = undefined;
    }
    if (failing && failing.answers >= FAILING_ANSWERS && clock.now() - failing.since >= FAILING_FOR_MS) {
      throw new OperationError({
        code: "ERR_NOT_LIVE",
        message: `${url}: the new version ${options.expectVersion} answers${serving ? " (the only version deployed)" : ""}, but failed its health check ${failing.answers} times in a row: ${last}`,
        hint: "Look at the Worker's logs; the health check's expectations are in the domain config's tests.health.",
        details: { url, attempts, last },
      });
    }
    const elapsed = clock.now() - started;
    if (elapsed >= timeoutMs) {
      throw new OperationError({
        code: "ERR_NOT_LIVE",
        message: `${url} did not answer as the new version within ${Math.round(timeoutMs / 1000)} s (${attempts} attempts): ${last}`,
        hint: "Check the deploy's targets and the Worker's logs; raise the timeout with --live-timeout if the service is slow to start.",
        details: { url, attempts, last },
      });
    }
    await clock.sleep(Math.min(delay, timeoutMs - elapsed), options.signal);
    delay = Math.min(2_000, Math.round(delay * 1.5));
  }
}
