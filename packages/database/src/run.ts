import { join } from "node:path";
import { acquireLock, createRunId, createRunJournal, portfolioStateDir, toLegoError } from "@lego/core";
import { type DatabaseContext, type ResolvedContext, resolveContext } from "./context.ts";

/** Options of {@link withDatabaseRun}. */
export interface DatabaseRunOptions {
  /** Take the portfolio lock (`.lego/lock`). Default true; false when the caller already holds it (a deploy). */
  lock?: boolean | undefined;
  /** Remove a lock left by a dead run (`--break-stale-lock`). */
  breakStaleLock?: boolean | undefined;
}

/**
 * Runs a changing database operation as a Lego run: takes the portfolio lock, opens the run's
 * journal (`.lego/runs/<run-id>/journal.jsonl`, which then receives every event besides the audit
 * log), and releases the lock however it ends.
 */
export async function withDatabaseRun<T>(
  context: DatabaseContext,
  command: string,
  fn: (ctx: ResolvedContext) => Promise<T>,
  options: DatabaseRunOptions = {},
): Promise<T> {
  const clock = context.clock;
  const now = () => new Date(clock ? clock.now() : Date.now());
  const runId = context.runId ?? createRunId(now());
  const lock =
    options.lock === false
      ? undefined
      : await acquireLock(join(portfolioStateDir(context.root), "lock"), {
          command,
          runId,
          breakStale: options.breakStaleLock ?? false,
          now,
        });
  try {
    // A journal handed in belongs to a run someone else owns (the run engine of @lego/orchestration):
    // it writes run.started / run.finished itself.
    if (context.journal) return await fn(resolveContext({ ...context, runId, journal: context.journal }));
    const journal = await createRunJournal({ root: context.root, runId, now });
    const ctx = resolveContext({ ...context, runId, journal });
    await journal.append("run.started", { command });
    try {
      const result = await fn(ctx);
      await journal.append("run.finished", { ok: true });
      return result;
    } catch (error) {
      const e = toLegoError(error);
      await journal.append("run.finished", { ok: false, code: e.code, exitCode: e.exitCode });
      throw error;
    }
  } finally {
    await lock?.release();
  }
}
