import { readdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Cloud } from "@lego/cloudflare";
import {
  type AuditEvent,
  AuditLog,
  type Clock,
  isLegoError,
  type LockInfo,
  portfolioStateDir,
  readLock,
  systemClock,
} from "@lego/core";
import {
  defaultHttpClient,
  defaultProductionTests,
  type HttpClient,
  ProductionTester,
  urlForHostname,
} from "@lego/deployment";
import type { Portfolio } from "@lego/discovery";
import { readRun } from "@lego/orchestration";
import { percentile } from "./stats.ts";

/** A version serving a service, and its share of the traffic, as read back from the API. */
export interface ServingVersion {
  versionId: string;
  percentage: number;
}

/** What the last deploy or rollback of a service was, from the audit trail. */
export interface LastChange {
  /** `deploy.finished` or `rollback.finished`. */
  action: string;
  at: string;
  who: string;
  result?: string | undefined;
  runId: string;
  versionBefore?: string | null | undefined;
  versionAfter?: string | null | undefined;
}

/** The health of a service over `probes` requests of its health path. */
export interface HealthProbe {
  ok: boolean;
  url: string;
  probes: number;
  failures: number;
  /** How many probes answered each status (`error` for no answer). */
  statuses: Record<string, number>;
  p50Ms: number;
  p95Ms: number;
  /** What the last failing probe saw. */
  problem?: string | undefined;
}

/** A run that holds locks: in progress (its process lives) or stale (its process is gone). */
export interface RunInProgress {
  runId?: string | undefined;
  command: string;
  pid: number;
  hostname: string;
  startedAt: string;
  /** `running`: its pid lives on this host; `stale`: it died and left its locks; `elsewhere`: another host holds them. */
  state: "running" | "stale" | "elsewhere";
  services: string[];
  /** From its journal: the step each service is at. */
  steps: Array<{ service: string; status: string; step?: string | undefined }>;
}

/** One service in one environment. */
export interface ServiceSnapshot {
  service: string;
  environment: string;
  scriptName: string;
  url?: string | undefined;
  /**
   * `healthy`: serving and every probe passed (or nothing to probe); `unhealthy`: a probe failed or
   * the API could not say what serves; `not-deployed`: nothing of it serves in this environment.
   */
  state: "healthy" | "unhealthy" | "not-deployed";
  /** What serves, read back from the deployments endpoint (newest deployment). */
  serving: ServingVersion[];
  deployedAt?: string | undefined;
  /** The API's answer when it could not be read. */
  apiError?: string | undefined;
  lastChange?: LastChange | undefined;
  health?: HealthProbe | undefined;
  /** Runs holding this service's lock. */
  runs: RunInProgress[];
}

/** The whole portfolio in one environment, at one moment. */
export interface PortfolioSnapshot {
  environment: string;
  target: { kind: string; apiBaseUrl?: string | undefined };
  at: string;
  /** Every service is healthy or not deployed. */
  healthy: boolean;
  services: ServiceSnapshot[];
  /** Every run holding locks in the portfolio (in progress, stale, elsewhere). */
  runs: RunInProgress[];
  /** Services without this environment, left out. */
  skipped: string[];
}

export interface MonitorOptions {
  portfolio: Portfolio;
  environment: string;
  /** Only these services (default: all that have the environment). */
  services?: readonly string[] | undefined;
  /** Health requests per service; p50/p95 are over them. Default 5. */
  probes?: number | undefined;
  /** Per-request timeout. Default 5 s. */
  timeoutMs?: number | undefined;
  /** Services read and probed at once. Default 8 (an API call and a few requests each). */
  concurrency?: number | undefined;
}

/** `fn` over `items`, at most `limit` at once, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export interface MonitorContext {
  /** The target's client (the deployments endpoint) and its URL pattern: from `openCloud`. */
  cloud: Pick<Cloud, "client" | "target">;
  http?: HttpClient | undefined;
  clock?: Clock | undefined;
  signal?: AbortSignal | undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs holding locks under `<root>/.lego/locks/`, grouped by run: in progress when the holder's pid
 * lives on this host, `stale` when it is gone (a lock left by a killed run is never shown as running).
 * Each run's journal says which step each of its services is at.
 */
export async function readRunsInProgress(root: string): Promise<RunInProgress[]> {
  const dir = join(portfolioStateDir(root), "locks");
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith(".lock"));
  } catch {
    return [];
  }
  const held = await Promise.all(
    files.map(async (f) => ({
      service: decodeURIComponent(f.slice(0, -".lock".length)),
      info: await readLock(join(dir, f)),
    })),
  );
  const byRun = new Map<string, { info: LockInfo; services: string[] }>();
  for (const { service, info } of held) {
    if (!info) continue;
    const key = info.runId ?? `${info.hostname}:${info.pid}:${info.startedAt}`;
    const entry = byRun.get(key) ?? { info, services: [] };
    entry.services.push(service);
    byRun.set(key, entry);
  }
  const here = hostname();
  const runs = await Promise.all(
    [...byRun.values()].map(async ({ info, services }): Promise<RunInProgress> => {
      const state = info.hostname !== here ? "elsewhere" : alive(info.pid) ? "running" : "stale";
      const run = info.runId ? await readRun(root, info.runId).catch(() => undefined) : undefined;
      return {
        ...(info.runId ? { runId: info.runId } : {}),
        command: info.command,
        pid: info.pid,
        hostname: info.hostname,
        startedAt: info.startedAt,
        state,
        services: services.sort(),
        steps: run?.summary.services ?? [],
      };
    }),
  );
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

async function probe(
  url: string,
  health: typeof defaultProductionTests.health,
  count: number,
  http: HttpClient,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<HealthProbe> {
  const target = new URL(health.path, url).href;
  const durations: number[] = [];
  const statuses: Record<string, number> = {};
  let failures = 0;
  let problem: string | undefined;
  for (let i = 0; i < count; i++) {
    if (signal?.aborted) break;
    const started = performance.now();
    try {
      const res = await http(target, { timeoutMs, ...(signal ? { signal } : {}) });
      durations.push(res.durationMs);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const bad = ProductionTester.judgeHealth(res, health);
      if (bad) {
        failures++;
        problem = `GET ${health.path}: ${bad}`;
      }
    } catch (error) {
      durations.push(performance.now() - started);
      statuses.error = (statuses.error ?? 0) + 1;
      failures++;
      problem = `GET ${health.path}: ${(error as Error).message}`;
    }
  }
  const round = (n: number | undefined) => Math.round((n ?? 0) * 10) / 10;
  return {
    ok: failures === 0 && durations.length > 0,
    url: target,
    probes: durations.length,
    failures,
    statuses,
    p50Ms: round(percentile(durations, 50)),
    p95Ms: round(percentile(durations, 95)),
    ...(problem ? { problem } : {}),
  };
}

function lastChangeOf(events: AuditEvent[], service: string, environment: string): LastChange | undefined {
  const e = events.findLast(
    (x) =>
      x.service === service &&
      x.environment === environment &&
      (x.action === "deploy.finished" || x.action === "rollback.finished"),
  );
  if (!e) return undefined;
  return {
    action: e.action,
    at: e.at,
    who: e.who,
    ...(e.result ? { result: e.result } : {}),
    runId: e.runId,
    ...(e.versionBefore !== undefined ? { versionBefore: e.versionBefore } : {}),
    ...(e.versionAfter !== undefined ? { versionAfter: e.versionAfter } : {}),
  };
}

/**
 * A snapshot of a portfolio in one environment: for each service, what serves and with what share of
 * the traffic (read back from the API's deployments endpoint, never inferred), its last deploy or
 * rollback (who, when, how it ended: the audit trail), its health over `probes` requests of its
 * health path (status, p50/p95 latency), and the runs of other lego processes holding its lock (from
 * their lock files and journals; a lock whose process died is `stale`). Read-only: nothing changes.
 * The same code reads the local cloud and Cloudflare: the target gives the client and URL pattern.
 *
 * @example
 * const cloud = openCloud({ target, cwd: portfolio.root });
 * const snap = await monitorPortfolio({ portfolio, environment: "staging", probes: 5 }, { cloud });
 * if (!snap.healthy) console.error(snap.services.filter((s) => s.state === "unhealthy"));
 */
export async function monitorPortfolio(
  options: MonitorOptions,
  ctx: MonitorContext,
): Promise<PortfolioSnapshot> {
  const clock = ctx.clock ?? systemClock;
  const http = ctx.http ?? defaultHttpClient;
  const probes = Math.max(1, options.probes ?? 5);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const { portfolio, environment } = options;
  const wanted = options.services && options.services.length > 0 ? new Set(options.services) : undefined;
  const picked = portfolio.services.filter((s) => !wanted || wanted.has(s.name));
  const skipped = picked.filter((s) => !s.environments[environment]).map((s) => s.name);
  const [events, runs] = await Promise.all([
    new AuditLog({ root: portfolio.root, who: "lego monitor" }).query({}),
    readRunsInProgress(portfolio.root),
  ]);
  const services = await mapLimit(
    picked.filter((s) => s.environments[environment]),
    options.concurrency ?? 8,
    async (service): Promise<ServiceSnapshot> => {
      const env = service.environments[environment] as NonNullable<(typeof service.environments)[string]>;
      const host = env.hostname ?? env.hostnames[0];
      const url = host ? urlForHostname(ctx.cloud.target.workersUrlPattern, host) : undefined;
      let serving: ServingVersion[] = [];
      let deployedAt: string | undefined;
      let apiError: string | undefined;
      try {
        const deployments = await ctx.cloud.client.listDeployments(
          env.scriptName,
          ctx.signal ? { signal: ctx.signal } : undefined,
        );
        const live = deployments[0];
        serving = (live?.versions ?? []).map((v) => ({
          versionId: v.version_id,
          percentage: v.percentage,
        }));
        deployedAt = live?.created_on;
      } catch (error) {
        if (!(isLegoError(error) && error.code === "ERR_CF_NOT_FOUND")) apiError = (error as Error).message;
      }
      const health =
        url && serving.length > 0
          ? await probe(
              url,
              service.tests?.health ?? defaultProductionTests.health,
              probes,
              http,
              timeoutMs,
              ctx.signal,
            )
          : undefined;
      const state: ServiceSnapshot["state"] =
        apiError !== undefined || health?.ok === false
          ? "unhealthy"
          : serving.length === 0
            ? "not-deployed"
            : "healthy";
      const lastChange = lastChangeOf(events, service.name, environment);
      return {
        service: service.name,
        environment,
        scriptName: env.scriptName,
        ...(url ? { url } : {}),
        state,
        serving,
        ...(deployedAt ? { deployedAt } : {}),
        ...(apiError ? { apiError } : {}),
        ...(lastChange ? { lastChange } : {}),
        ...(health ? { health } : {}),
        runs: runs.filter((r) => r.services.includes(service.name)),
      };
    },
  );
  return {
    environment,
    target: {
      kind: ctx.cloud.target.kind,
      ...(ctx.cloud.target.apiBaseUrl ? { apiBaseUrl: ctx.cloud.target.apiBaseUrl } : {}),
    },
    at: new Date(clock.now()).toISOString(),
    healthy: services.every((s) => s.state !== "unhealthy"),
    services,
    runs,
    skipped,
  };
}
