import { readFileSync } from "node:fs";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { ConflictError } from "./errors.ts";
import { randomHex } from "./random.ts";

/** What a lock file holds: enough to tell who holds it and whether they are still alive. */
export interface LockInfo {
  pid: number;
  hostname: string;
  command: string;
  runId?: string | undefined;
  /** The run's journal, for a holder that died: where to look before breaking the lock. */
  journal?: string | undefined;
  startedAt: string;
}

export interface AcquireLockOptions {
  command: string;
  runId?: string | undefined;
  journal?: string | undefined;
  /** What the lock guards, for messages: "the portfolio lock" (default), "service api". */
  what?: string | undefined;
  /** Remove a lock whose holder is dead on this host. Off by default: a stale lock is reported. */
  breakStale?: boolean | undefined;
  now?: () => Date;
}

export interface HeldLock {
  readonly path: string;
  readonly info: LockInfo;
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether a lock holder's pid still runs lego: `dead`, `lego` (a Node process, as lego is), or
 * `other` (the pid was reused by an unrelated program; only told apart where /proc exists).
 */
function processState(pid: number): "dead" | "lego" | "other" {
  if (!isAlive(pid)) return "dead";
  if (pid === process.pid) return "lego";
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /node|lego/i.test(cmdline) ? "lego" : "other";
  } catch {
    return "lego";
  }
}

/** Reads a lock file, or undefined when there is none (or it is unreadable garbage). */
export async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * Takes the portfolio lock (`.lego/lock`) with an exclusive create. The holder's details are written to
 * a private file first and hard-linked into place, so another run never reads a lock half-written (and
 * never takes a live one for a torn, stale one). A lock held by a live process is
 * exit 4 (`ERR_LOCK_HELD`); one whose process is dead is reported as `ERR_LOCK_STALE` unless
 * `breakStale` is set: it is never broken silently.
 */
export async function acquireLock(path: string, options: AcquireLockOptions): Promise<HeldLock> {
  const info: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    command: options.command,
    ...(options.runId ? { runId: options.runId } : {}),
    ...(options.journal ? { journal: options.journal } : {}),
    startedAt: (options.now?.() ?? new Date()).toISOString(),
  };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    const draft = `${path}.${process.pid}.${randomHex(4)}.tmp`;
    try {
      await writeFile(draft, `${JSON.stringify(info)}\n`, { mode: 0o600 });
      await link(draft, path);
      let released = false;
      return {
        path,
        info,
        release: async () => {
          if (released) return;
          released = true;
          const current = await readLock(path);
          if (current && current.pid === info.pid && current.startedAt === info.startedAt)
            await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      await rm(draft, { force: true });
    }
    const holder = await readLock(path);
    if (!holder) {
      // Unreadable: not one this code wrote (it links only complete files). Treat as stale.
      if (options.breakStale) {
        await rm(path, { force: true });
        continue;
      }
      throw new ConflictError({
        code: "ERR_LOCK_STALE",
        message: `The lock ${path} is unreadable (a run died while taking it)`,
        hint: "Make sure no other lego run is active, then pass --break-stale-lock.",
        details: { path },
      });
    }
    const what = options.what ?? "the portfolio lock";
    const run = `\`${holder.command}\`${holder.runId ? ` (run ${holder.runId})` : ""}`;
    const journal = holder.journal ?? (holder.runId ? `.lego/runs/${holder.runId}/journal.jsonl` : undefined);
    if (holder.hostname !== info.hostname) {
      throw new ConflictError({
        code: "ERR_LOCK_HELD",
        message: `A run on another host holds ${what}: ${run}, pid ${holder.pid} on ${holder.hostname}, since ${holder.startedAt}`,
        hint: `Lego cannot tell from here whether it still runs. If it does not, remove ${path} (or pass --break-stale-lock on ${holder.hostname}).`,
        details: { path, holder },
      });
    }
    const state = processState(holder.pid);
    if (state === "lego") {
      throw new ConflictError({
        code: "ERR_LOCK_HELD",
        message: `Another run holds ${what}: ${run}, pid ${holder.pid}, since ${holder.startedAt}`,
        hint: "Wait for it to finish, or stop it. Runs that touch the same services take turns.",
        details: { path, holder },
      });
    }
    if (!options.breakStale) {
      const why =
        state === "other"
          ? `its pid ${holder.pid} now belongs to an unrelated process`
          : `its process ${holder.pid} is gone`;
      throw new ConflictError({
        code: "ERR_LOCK_STALE",
        message: `A dead run left ${what} behind: ${run}, since ${holder.startedAt} (${why})`,
        hint: `Look at its journal${journal ? ` (${journal})` : ""}, then pass --break-stale-lock to continue.`,
        details: { path, holder },
      });
    }
    await rm(path, { force: true });
  }
  throw new ConflictError({
    code: "ERR_LOCK_HELD",
    message: `Could not take the lock ${path}`,
    hint: "Retry.",
  });
}

/** The lock file of one service: `<root>/.lego/locks/<service>.lock`. */
export function serviceLockPath(root: string, service: string): string {
  return join(root, ".lego", "locks", `${encodeURIComponent(service)}.lock`);
}

/**
 * Takes the locks of the services a run touches (`.lego/locks/<service>.lock`), all or none: in name
 * order, so two runs never wait on each other in a cycle, and released again when one is held. Runs
 * over disjoint services go on at once; an overlapping run is exit 4 naming the holder and its run.
 * A live holder of the portfolio lock (`.lego/lock`, taken by runs over the whole portfolio) is a conflict too.
 */
export async function acquireServiceLocks(
  root: string,
  services: readonly string[],
  options: AcquireLockOptions,
): Promise<HeldLock> {
  const held: HeldLock[] = [];
  // A whole-portfolio run (a database or secrets run) excludes the others while it is alive. It is
  // read, not taken: two runs starting together must not collide on a gate neither keeps.
  const whole = await readLock(join(root, ".lego", "lock"));
  if (whole && whole.hostname === hostname() && processState(whole.pid) === "lego") {
    throw new ConflictError({
      code: "ERR_LOCK_HELD",
      message: `Another run holds the portfolio lock: \`${whole.command}\`${whole.runId ? ` (run ${whole.runId})` : ""}, pid ${whole.pid}, since ${whole.startedAt}`,
      hint: "Wait for it to finish, or stop it.",
      details: { path: join(root, ".lego", "lock"), holder: whole },
    });
  }
  try {
    for (const service of [...new Set(services)].sort()) {
      held.push(
        await acquireLock(serviceLockPath(root, service), { ...options, what: `service ${service}` }),
      );
    }
  } catch (error) {
    await Promise.all(held.map((l) => l.release()));
    throw error;
  }
  return {
    path: join(root, ".lego", "locks"),
    info: held[0]?.info ?? {
      pid: process.pid,
      hostname: hostname(),
      command: options.command,
      startedAt: new Date().toISOString(),
    },
    release: async () => {
      await Promise.all(held.map((l) => l.release()));
    },
  };
}
