import { readdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { type JournalEvent, portfolioStateDir, readJournal } from "@lego/core";
import { type RunReport, readRunReport, serviceStatus } from "@lego/deployment";

/** A run as `lego runs list` shows it: from its report, or, for a run that never wrote one, its journal. */
export interface RunSummary {
  runId: string;
  kind: string;
  command: string;
  /**
   * `running`: its process is alive. `interrupted`: Ctrl-C, or the process died (kill -9, a crash)
   * before it finished: the journal ends without `run.finished`.
   */
  status: "ok" | "failed" | "interrupted" | "running";
  startedAt: string | undefined;
  finishedAt?: string | undefined;
  durationMs?: number | undefined;
  who?: string | undefined;
  environment?: string | undefined;
  target?: string | undefined;
  /** Each service and how it ended (`not started` for one a dead run never reached). */
  services: Array<{ service: string; status: string; step?: string | undefined }>;
  /** Where the journal ends, for a run that died. */
  lastEvent?: string | undefined;
  /** `.lego/runs/<id>/` */
  dir: string;
  hasReport: boolean;
}

function alive(pid: unknown, host: unknown): boolean | undefined {
  if (typeof pid !== "number" || host !== hostname()) return undefined;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function fromReport(report: RunReport, dir: string, journal: JournalEvent[]): RunSummary {
  const interrupted = report.services.some((s) => serviceStatus(s) === "interrupted");
  const finished = journal.findLast((e) => e.type === "run.finished");
  return {
    runId: report.runId,
    kind: report.kind ?? "deploy",
    command: report.command,
    status: interrupted || finished?.interrupted === true ? "interrupted" : report.ok ? "ok" : "failed",
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    who: report.who,
    environment: report.services[0]?.environment,
    target: report.target.kind,
    services: report.services.map((s) => ({ service: s.service, status: serviceStatus(s) })),
    dir,
    hasReport: true,
  };
}

/**
 * What a journal alone says of a run: every run writes `run.started` first (with its pid), steps as
 * they happen, and `run.finished` last. Without `run.finished`, the run is running (its pid lives on
 * this host) or was killed.
 */
export function summarizeJournal(runId: string, events: JournalEvent[], dir: string): RunSummary {
  const start = events.find((e) => e.type === "run.started");
  const end = events.findLast((e) => e.type === "run.finished");
  const command = String(start?.command ?? "?");
  const kind = String(start?.kind ?? command.replace(/^lego\s+/, "").split(/\s+/)[0] ?? "run");
  const services = new Map<string, { service: string; status: string; step?: string | undefined }>();
  for (const name of Array.isArray(start?.services) ? (start.services as string[]) : [])
    services.set(name, { service: name, status: "not started" });
  for (const e of events) {
    const service = typeof e.service === "string" ? e.service : undefined;
    if (!service) continue;
    const entry = services.get(service) ?? { service, status: "not started" };
    if (e.type === "step.started") Object.assign(entry, { status: "running", step: e.step });
    if (e.type === "step.finished" && e.status === "failed") entry.status = "failed";
    if (e.type === "service.finished" && typeof e.status === "string") {
      entry.status = e.status;
      entry.step = undefined;
    }
    services.set(service, entry);
  }
  let status: RunSummary["status"];
  if (end) status = end.interrupted === true ? "interrupted" : end.ok === true ? "ok" : "failed";
  else status = alive(start?.pid, start?.hostname) === true ? "running" : "interrupted";
  if (!end && status === "interrupted")
    for (const entry of services.values()) if (entry.status === "running") entry.status = "interrupted";
  const last = events.at(-1);
  return {
    runId,
    kind,
    command,
    status,
    startedAt: start?.at ?? events[0]?.at,
    ...(end ? { finishedAt: end.at } : {}),
    ...(typeof end?.durationMs === "number" ? { durationMs: end.durationMs } : {}),
    ...(typeof start?.environment === "string" ? { environment: start.environment } : {}),
    ...(typeof start?.target === "string" ? { target: start.target } : {}),
    services: [...services.values()],
    ...(!end && last
      ? {
          lastEvent: `${last.type}${typeof last.service === "string" ? ` ${last.service}` : ""}${typeof last.step === "string" ? ` ${last.step}` : ""}`,
        }
      : {}),
    dir,
    hasReport: false,
  };
}

/** One run: its summary, its report (when it wrote one) and its journal. Undefined when there is no such run. */
export async function readRun(
  root: string,
  runId: string,
): Promise<{ summary: RunSummary; report?: RunReport; journal: JournalEvent[] } | undefined> {
  if (!/^[\w.-]+$/.test(runId)) return undefined;
  const dir = join(portfolioStateDir(root), "runs", runId);
  const [report, journal] = await Promise.all([
    readRunReport(root, runId).catch(() => undefined),
    readJournal(join(dir, "journal.jsonl")).catch(() => [] as JournalEvent[]),
  ]);
  if (!report && journal.length === 0) return undefined;
  const summary = report ? fromReport(report, dir, journal) : summarizeJournal(runId, journal, dir);
  return { summary, ...(report ? { report } : {}), journal };
}

/**
 * Every run of a portfolio, newest first: deploys, rollbacks, database and secrets runs, and runs
 * that were interrupted or killed (derived from their journals).
 */
export async function listRunSummaries(root: string): Promise<RunSummary[]> {
  let ids: string[];
  try {
    ids = await readdir(join(portfolioStateDir(root), "runs"));
  } catch {
    return [];
  }
  const runs = await Promise.all(
    ids
      .sort()
      .reverse()
      .map((id) => readRun(root, id)),
  );
  return runs.flatMap((r) => (r ? [r.summary] : []));
}
