import { type AuditEvent, AuditLog, type Clock, systemClock } from "@lego/core";
import { type RunReport, readRunReport } from "@lego/deployment";
import { mean, percentile } from "./stats.ts";

const DAY = 86_400_000;

/** One deploy of one service, as the audit trail tells it, with what came of it. */
export interface DeployRecord {
  service: string;
  environment: string;
  runId: string;
  /** When it finished (`deploy.finished`). */
  at: string;
  who: string;
  /** `ok`, `failed` (the new version did not pass and still serves, or never went out), `rolled-back`. */
  result: string;
  versionBefore?: string | null | undefined;
  versionAfter?: string | null | undefined;
  durationMs?: number | undefined;
  /** The git commit the run deployed (recorded by the run engine in `run.started`). */
  commit?: string | undefined;
  /** Commit time to live, for a successful deploy whose commit time git knows. */
  leadTimeMs?: number | undefined;
  /** A new version went out (a change), whatever came of it. */
  change: boolean;
  /**
   * How the change failed: `rolled-back` (by the deploy itself), `reverted` (by a run's failure
   * policy), `rolled-back-by-hand` (`lego rollback` later took it off), `failed` (it still served
   * failing, until something else replaced it). Absent for a change that did not fail.
   */
  failure?: "rolled-back" | "reverted" | "rolled-back-by-hand" | "failed" | undefined;
  /** For a failed change: how long until a good version served again (absent while it is not restored). */
  restoreMs?: number | undefined;
}

/** Where deploy time goes: one pipeline step over every deploy of the window. */
export interface StepStat {
  name: string;
  count: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  /** Its share of the time of all steps (0..1). */
  share: number;
}

/** The four delivery metrics (and the step breakdown) for a set of deploys. */
export interface MetricSet {
  /** Deploys that finished (ok, failed or rolled back; interrupted and skipped ones are left out). */
  deploys: number;
  successful: number;
  /** Successful deploys per day over the window. */
  deploysPerDay: number;
  /** Deploys that put a new version out. */
  changes: number;
  failedChanges: number;
  /** failedChanges / changes; `null` without changes. */
  changeFailureRate: number | null;
  rollbacks: { automatic: number; byHand: number };
  /** Commit time to live, over successful deploys with a known commit. */
  leadTime: { count: number; medianMs: number | null; p95Ms: number | null; meanMs: number | null };
  /** Failed change to a good version serving again; `open`: failed changes not restored yet. */
  timeToRestore: { count: number; medianMs: number | null; meanMs: number | null; open: number };
  steps: StepStat[];
}

/** `deliveryMetrics`' answer: the portfolio, each service, per day, and every deploy behind them. */
export interface DeliveryMetrics {
  since: string;
  until: string;
  windowDays: number;
  environment?: string | undefined;
  service?: string | undefined;
  portfolio: MetricSet;
  services: Array<{ service: string } & MetricSet>;
  /** One entry per UTC day of the window: successful and failed deploys. */
  daily: Array<{ day: string; ok: number; failed: number }>;
  deploys: DeployRecord[];
  /** Audit lines that could not be read (a torn line), left out. */
  unreadable: number;
}

export interface DeliveryMetricsOptions {
  /** Portfolio root: reads `.lego/audit.jsonl` and the run reports under `.lego/runs/`. */
  root: string;
  /** Start of the window. */
  since: Date;
  /** End of the window. Default: now. */
  until?: Date | undefined;
  service?: string | undefined;
  environment?: string | undefined;
  /** When a commit was made; default `git log -1 --format=%cI <sha>` in `root` (undefined when unknown). */
  commitTime?: ((sha: string) => Promise<Date | undefined>) | undefined;
  clock?: Clock | undefined;
}

/** The commit time of `sha` in the repository at `cwd`, read with `git log`; undefined when git does not know it. */
export async function gitCommitTime(cwd: string, sha: string): Promise<Date | undefined> {
  if (!/^[0-9a-f]{7,64}$/i.test(sha)) return undefined;
  const { execa } = await import("execa");
  const res = await execa("git", ["log", "-1", "--format=%cI", sha], { cwd, reject: false, timeout: 5_000 });
  const at = res.exitCode === 0 ? Date.parse(String(res.stdout).trim()) : Number.NaN;
  return Number.isFinite(at) ? new Date(at) : undefined;
}

const stat = (values: number[]) => ({
  count: values.length,
  medianMs: percentile(values, 50) ?? null,
  p95Ms: percentile(values, 95) ?? null,
  meanMs: values.length ? Math.round(mean(values) as number) : null,
});

function stepStats(reports: Array<RunReport["services"][number]>): StepStat[] {
  const by = new Map<string, number[]>();
  for (const s of reports)
    for (const step of s.steps) {
      if (step.status === "skipped") continue;
      const list = by.get(step.name) ?? [];
      list.push(step.durationMs);
      by.set(step.name, list);
    }
  const all = [...by.values()].flat().reduce((a, b) => a + b, 0);
  return [...by.entries()].map(([name, d]) => {
    const totalMs = d.reduce((a, b) => a + b, 0);
    return {
      name,
      count: d.length,
      totalMs,
      meanMs: Math.round(totalMs / d.length),
      p50Ms: percentile(d, 50) as number,
      p95Ms: percentile(d, 95) as number,
      share: all > 0 ? totalMs / all : 0,
    };
  });
}

/**
 * Folds deploys (already classified) and rollbacks into the metric set. Pure: exported for tests and
 * for callers that bring their own records.
 */
export function summarizeDeploys(
  deploys: readonly DeployRecord[],
  rollbacks: readonly AuditEvent[],
  windowDays: number,
  stepReports: Array<RunReport["services"][number]> = [],
): MetricSet {
  const successful = deploys.filter((d) => d.result === "ok").length;
  const changes = deploys.filter((d) => d.change);
  const failed = changes.filter((d) => d.failure !== undefined);
  const lead = deploys.flatMap((d) =>
    d.result === "ok" && d.leadTimeMs !== undefined ? [d.leadTimeMs] : [],
  );
  const restore = failed.flatMap((d) => (d.restoreMs !== undefined ? [d.restoreMs] : []));
  const restoreStat = stat(restore);
  return {
    deploys: deploys.length,
    successful,
    deploysPerDay: Math.round((successful / Math.max(windowDays, 1 / 24)) * 100) / 100,
    changes: changes.length,
    failedChanges: failed.length,
    changeFailureRate: changes.length ? Math.round((failed.length / changes.length) * 1000) / 1000 : null,
    rollbacks: {
      automatic:
        deploys.filter((d) => d.result === "rolled-back").length +
        rollbacks.filter((r) => r.details?.policy === true && r.result === "ok").length,
      byHand: rollbacks.filter((r) => r.details?.policy !== true && r.result === "ok").length,
    },
    leadTime: stat(lead),
    timeToRestore: {
      count: restoreStat.count,
      medianMs: restoreStat.medianMs,
      meanMs: restoreStat.meanMs,
      open: failed.length - restore.length,
    },
    steps: stepStats(stepReports),
  };
}

/**
 * Classifies the deploys of an audit trail (oldest first): which changes failed and how, and when a
 * good version served again. A deploy `rolled-back` by its own pipeline failed and was restored when
 * it finished (time from its `deploy.started`); one `ok` whose version a later `rollback.finished`
 * took off (by hand, or by a run's failure policy) failed and was restored then; one `failed` whose
 * new version went out serves failing until the next good deploy or rollback of that service. Pure.
 */
export function classifyDeploys(events: readonly AuditEvent[]): DeployRecord[] {
  const started = new Map<string, string>();
  const commits = new Map<string, string>();
  const out: DeployRecord[] = [];
  for (const [i, e] of events.entries()) {
    if (e.action === "run.started" && typeof e.details?.commit === "string")
      commits.set(e.runId, e.details.commit);
    if (e.action === "deploy.started" && e.service) started.set(`${e.runId}/${e.service}`, e.at);
    if (e.action !== "deploy.finished" || !e.service) continue;
    if (e.result !== "ok" && e.result !== "failed" && e.result !== "rolled-back") continue;
    const environment = e.environment ?? "";
    const change =
      typeof e.versionAfter === "string" && e.versionAfter !== "" && e.versionAfter !== e.versionBefore;
    const record: DeployRecord = {
      service: e.service,
      environment,
      runId: e.runId,
      at: e.at,
      who: e.who,
      result: e.result,
      ...(e.versionBefore !== undefined ? { versionBefore: e.versionBefore } : {}),
      ...(e.versionAfter !== undefined ? { versionAfter: e.versionAfter } : {}),
      ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
      ...(commits.get(e.runId) ? { commit: commits.get(e.runId) } : {}),
      change,
    };
    const later = events
      .slice(i + 1)
      .filter((x) => x.service === e.service && (x.environment ?? "") === environment);
    if (change && e.result === "rolled-back") {
      record.failure = "rolled-back";
      const from = started.get(`${e.runId}/${e.service}`);
      record.restoreMs = from ? Date.parse(e.at) - Date.parse(from) : (e.durationMs ?? 0);
    } else if (change && e.result === "failed") {
      record.failure = "failed";
      const good = later.find(
        (x) =>
          (x.action === "deploy.finished" || x.action === "rollback.finished") &&
          x.result === "ok" &&
          x.versionAfter !== e.versionAfter,
      );
      if (good) record.restoreMs = Date.parse(good.at) - Date.parse(e.at);
    } else if (change && e.result === "ok") {
      // Taken off by a rollback before any other version of this service went out.
      for (const x of later) {
        if (x.action === "deploy.finished" && x.versionAfter && x.versionAfter !== e.versionAfter) break;
        if (x.action === "rollback.finished" && x.result === "ok" && x.versionBefore === e.versionAfter) {
          record.failure = x.details?.policy === true ? "reverted" : "rolled-back-by-hand";
          record.restoreMs = Date.parse(x.at) - Date.parse(e.at);
          break;
        }
      }
    }
    out.push(record);
  }
  return out;
}

/**
 * Delivery metrics of a portfolio over a window, from its audit trail, its run reports and git:
 * deployment frequency (successful deploys per day), lead time for changes (commit time to live),
 * change failure rate (changes rolled back automatically, by a failure policy or by hand, or left
 * failing) and time to restore, per service and for the portfolio; and where deploy time goes
 * (each pipeline step's share, from the run reports). Read-only.
 *
 * @example
 * const m = await deliveryMetrics({ root, since: new Date(Date.now() - 30 * 86_400_000) });
 * console.log(m.portfolio.deploysPerDay, m.portfolio.changeFailureRate);
 */
export async function deliveryMetrics(options: DeliveryMetricsOptions): Promise<DeliveryMetrics> {
  const clock = options.clock ?? systemClock;
  const until = options.until ?? new Date(clock.now());
  const since = options.since;
  const windowDays = Math.max(0, (until.getTime() - since.getTime()) / DAY);
  // Read from before the window too: a deploy in the window may have been started, or committed
  // (run.started), just before it; events are filtered to the window below.
  const { events: all, unreadable } = await new AuditLog({
    root: options.root,
    who: "lego analytics",
  }).read();
  const inScope = (e: AuditEvent) =>
    (!options.service || e.service === options.service || e.service === undefined) &&
    (!options.environment || e.environment === options.environment || e.environment === undefined);
  const inWindow = (iso: string) => {
    const t = Date.parse(iso);
    return t >= since.getTime() && t <= until.getTime();
  };
  const events = all.filter(inScope);
  const deploys = classifyDeploys(events).filter((d) => inWindow(d.at) && d.service);
  const commitTime = options.commitTime ?? ((sha: string) => gitCommitTime(options.root, sha));
  const times = new Map<string, Promise<Date | undefined>>();
  await Promise.all(
    deploys.map(async (d) => {
      if (d.result !== "ok" || !d.commit) return;
      if (!times.has(d.commit))
        times.set(
          d.commit,
          commitTime(d.commit).catch(() => undefined),
        );
      const at = await times.get(d.commit);
      if (at) d.leadTimeMs = Math.max(0, Date.parse(d.at) - at.getTime());
    }),
  );
  const rollbacks = events.filter(
    (e) => e.action === "rollback.finished" && e.service !== undefined && inWindow(e.at),
  );
  const reports = new Map<string, Promise<RunReport | undefined>>();
  for (const d of deploys)
    if (!reports.has(d.runId))
      reports.set(
        d.runId,
        readRunReport(options.root, d.runId).catch(() => undefined),
      );
  const stepReports = new Map<string, Array<RunReport["services"][number]>>();
  for (const d of deploys) {
    const report = await reports.get(d.runId);
    const s = report?.services.find((x) => x.service === d.service && x.environment === d.environment);
    if (!s) continue;
    const list = stepReports.get(d.service) ?? [];
    list.push(s);
    stepReports.set(d.service, list);
  }
  const names = [
    ...new Set([...deploys.map((d) => d.service), ...rollbacks.map((r) => r.service as string)]),
  ].sort();
  const daily: DeliveryMetrics["daily"] = [];
  const firstDay = Math.floor(since.getTime() / DAY);
  const lastDay = Math.floor(until.getTime() / DAY);
  for (let day = Math.max(firstDay, lastDay - 365); day <= lastDay; day++) {
    const key = new Date(day * DAY).toISOString().slice(0, 10);
    const of = deploys.filter((d) => d.at.slice(0, 10) === key);
    daily.push({
      day: key,
      ok: of.filter((d) => d.result === "ok").length,
      failed: of.filter((d) => d.result !== "ok").length,
    });
  }
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    windowDays: Math.round(windowDays * 100) / 100,
    ...(options.environment ? { environment: options.environment } : {}),
    ...(options.service ? { service: options.service } : {}),
    portfolio: summarizeDeploys(deploys, rollbacks, windowDays, [...stepReports.values()].flat()),
    services: names.map((service) => ({
      service,
      ...summarizeDeploys(
        deploys.filter((d) => d.service === service),
        rollbacks.filter((r) => r.service === service),
        windowDays,
        stepReports.get(service) ?? [],
      ),
    })),
    daily,
    deploys,
    unreadable,
  };
}
