import { execFile } from "node:child_process";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  type AuditEvent,
  AuditLog,
  type AuditRecord,
  acquireServiceLocks,
  type Clock,
  createRunId,
  createRunJournal,
  ExitCode,
  InterruptedError,
  isLegoError,
  portfolioStateDir,
  type Redactor,
  type RunJournal,
  systemClock,
  toLegoError,
} from "@lego/core";
import { type RunReport, type ServiceRunReport, serviceStatus, writeRunReport } from "@lego/deployment";

/** What kind of run: listed by `lego runs list`, recorded in the journal, report and audit log. */
export type RunKind =
  | "deploy"
  | "rollback"
  | "db.migrate"
  | "db.restore"
  | "db.sync"
  | "secrets.push"
  | "secrets.rotate"
  | "secrets.sync"
  | (string & {});

export interface RunOptions {
  /** Portfolio root: `.lego/` (journal, locks, audit log, reports) goes under it. */
  root: string;
  kind: RunKind;
  /** The command as the user typed it (`lego deploy --all --env staging`): shown as is. */
  command: string;
  /** The services the run touches: their locks are taken for the whole run. */
  services: readonly string[];
  environment?: string | undefined;
  target: { kind: string; apiBaseUrl?: string | undefined };
  /** The one audit writer. Default: a new `AuditLog` on `root` (who = git user, redacted). */
  audit?: AuditLog | undefined;
  clock?: Clock | undefined;
  redactor?: Redactor | undefined;
  /** Ctrl-C: the work is told through it; the run records `interrupted` and exits 130. */
  signal?: AbortSignal | undefined;
  /** Take over locks left by a dead run (`--break-stale-lock`). */
  breakStaleLock?: boolean | undefined;
  runId?: string | undefined;
}

/**
 * The git commit checked out in the portfolio (`git rev-parse HEAD`), recorded with each run so
 * delivery analytics can tell how long a commit took to go live; undefined outside a git checkout.
 */
function headCommit(root: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["rev-parse", "--verify", "-q", "HEAD"],
      { cwd: root, timeout: 2_000 },
      (error, stdout) => {
        const sha = String(stdout ?? "").trim();
        resolve(!error && /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined);
      },
    );
  });
}

/** What the work of a run is given. */
export interface Run {
  readonly id: string;
  readonly root: string;
  readonly kind: RunKind;
  readonly journal: RunJournal;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly signal: AbortSignal | undefined;
  readonly target: { kind: string; apiBaseUrl?: string | undefined };
  /** Records an audit event of this run (`runId` and `target` filled in). */
  record(event: Omit<AuditRecord, "runId">): Promise<AuditEvent>;
}

/** What the work of a run returns: one entry per service, and a result for the caller. */
export interface RunOutcome<T> {
  services: ServiceRunReport[];
  result: T;
  /** Default: every service ok. */
  ok?: boolean | undefined;
  waves?: string[][] | undefined;
  schedule?: RunReport["schedule"];
  /** The run failed as a whole: recorded with the services above, then thrown by the engine. */
  failure?: unknown;
}

/** A finished run. */
export interface RunResult<T> {
  report: RunReport;
  result: T;
  /** `.lego/runs/<run-id>/`: journal and report files. */
  dir: string;
}

/**
 * The run engine: every command that changes something runs through it. It takes the locks of the
 * services the run touches (disjoint runs go on at once; an overlap is exit 4 naming the holder and
 * its run), opens the journal (`.lego/runs/<id>/journal.jsonl`, with the pid so a killed run is told
 * from a running one), records `run.started`/`run.finished` in the journal and the audit log (one
 * writer, redacted), writes the report (json, md, html), and releases the locks however it ends.
 *
 * Ctrl-C (the signal aborted, or the work throwing an interruption) still writes all of that, then
 * throws `InterruptedError` (exit 130). Any other error thrown by the work is recorded and rethrown.
 *
 * @example
 * const { report } = await executeRun({ root, kind: "deploy", command, services, target }, async (run) => {
 *   const s = await deployService(plan, planned, { ...ctx, journal: run.journal, auditor: run.audit });
 *   return { services: [s], result: s };
 * });
 */
export async function executeRun<T>(
  options: RunOptions,
  work: (run: Run) => Promise<RunOutcome<T>>,
): Promise<RunResult<T>> {
  const clock = options.clock ?? systemClock;
  const now = () => new Date(clock.now());
  const runId = options.runId ?? createRunId(now());
  const dir = join(portfolioStateDir(options.root), "runs", runId);
  const audit =
    options.audit ??
    new AuditLog({ root: options.root, clock, ...(options.redactor ? { redactor: options.redactor } : {}) });
  // Started with the locks (one short process): ready by the time `run.started` is recorded.
  const commit = headCommit(options.root);
  const locks = await acquireServiceLocks(options.root, options.services, {
    command: options.command,
    runId,
    journal: join(dir, "journal.jsonl"),
    breakStale: options.breakStaleLock === true,
    now,
  });
  try {
    const journal = await createRunJournal({ root: options.root, runId, now });
    const started = clock.now();
    const record = (event: Omit<AuditRecord, "runId">) =>
      audit.record({ runId, target: options.target.kind, ...event });
    await journal.append("run.started", {
      kind: options.kind,
      command: options.command,
      services: [...options.services],
      ...(options.environment ? { environment: options.environment } : {}),
      target: options.target.kind,
      pid: process.pid,
      hostname: hostname(),
      ...((await commit) ? { commit: await commit } : {}),
    });
    const startedEvent = await record({
      action: "run.started",
      ...(options.environment ? { environment: options.environment } : {}),
      details: {
        kind: options.kind,
        command: options.command,
        services: [...options.services],
        ...((await commit) ? { commit: await commit } : {}),
      },
    });
    const run: Run = {
      id: runId,
      root: options.root,
      kind: options.kind,
      journal,
      audit,
      clock,
      signal: options.signal,
      target: options.target,
      record,
    };

    let outcome: RunOutcome<T> | undefined;
    let failure: unknown;
    try {
      outcome = await work(run);
      if (outcome.failure !== undefined) failure = outcome.failure;
    } catch (error) {
      failure = error;
    }

    const services = outcome?.services ?? [];
    const interrupted =
      options.signal?.aborted === true ||
      (isLegoError(failure) && failure.exitCode === ExitCode.Interrupted) ||
      services.some((s) => serviceStatus(s) === "interrupted");
    const ok =
      failure === undefined &&
      !interrupted &&
      (outcome?.ok ?? services.every((s) => serviceStatus(s) === "ok"));
    const finished = clock.now();
    const error = failure === undefined ? undefined : toLegoError(failure);
    const report: RunReport = {
      runId,
      kind: options.kind,
      command: options.command,
      target: {
        kind: options.target.kind,
        ...(options.target.apiBaseUrl ? { apiBaseUrl: options.target.apiBaseUrl } : {}),
      },
      who: startedEvent.who,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      durationMs: finished - started,
      ok,
      ...(outcome?.waves ? { waves: outcome.waves } : {}),
      ...(outcome?.schedule ? { schedule: outcome.schedule } : {}),
      ...(error && !interrupted
        ? {
            error: {
              code: error.code,
              message: error.message,
              exitCode: error.exitCode,
              ...(error.hint ? { hint: error.hint } : {}),
            },
          }
        : {}),
      services,
    };
    const result = interrupted ? "interrupted" : ok ? "ok" : "failed";
    await journal.append("run.finished", {
      ok,
      result,
      durationMs: report.durationMs,
      ...(interrupted ? { interrupted: true } : {}),
      ...(error ? { code: error.code, exitCode: error.exitCode } : {}),
    });
    await record({ action: "run.finished", result, durationMs: report.durationMs });
    await writeRunReport(options.root, report, options.redactor);
    if (interrupted) {
      const where = services.find((s) => serviceStatus(s) === "interrupted");
      throw new InterruptedError(
        `Interrupted${where ? ` while working on ${where.service} (${where.environment})` : ""}; the run's report is in .lego/runs/${runId}/`,
      );
    }
    if (failure !== undefined) throw failure;
    return { report, result: (outcome as RunOutcome<T>).result, dir };
  } finally {
    await locks.release();
  }
}
