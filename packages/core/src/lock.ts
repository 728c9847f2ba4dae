import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { ConflictError } from "./errors.ts";
import { randomHex } from "./random.ts";

/** What a lock file holds: enough to tell who holds it and whether they are still alive. */
export interface LockInfo {
  pid: number;
  hostname: string;
  command: string;
  runId?: string | undefined;
  startedAt: string;
}

export interface AcquireLockOptions {
  command: string;
  runId?: string;
  /** Remove a lock whose holder is dead on this host. Off by default: a stale lock is reported. */
  breakStale?: boolean;
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
    startedAt: (options.now?.() ?? new Date()).toISOString(),
  };
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    const draft = `${path}.${process.pid}.${randomHex(4)}.tmp`;
    try {
      await writeFile(draft, `${JSON.stringify(info)}\n`, { mode: 0o644 });
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
    const sameHost = holder.hostname === info.hostname;
    if (!sameHost || isAlive(holder.pid)) {
      throw new ConflictError({
        code: "ERR_LOCK_HELD",
        message: `Another run holds the portfolio lock: \`${holder.command}\` (pid ${holder.pid} on ${holder.hostname}, since ${holder.startedAt})`,
        hint: "Wait for it to finish, or stop it. Runs on one portfolio take turns.",
        details: { path, holder },
      });
    }
    if (!options.breakStale) {
      throw new ConflictError({
        code: "ERR_LOCK_STALE",
        message: `A dead run left the portfolio lock behind: \`${holder.command}\` (pid ${holder.pid}, since ${holder.startedAt}${holder.runId ? `, run ${holder.runId}` : ""})`,
        hint: `Look at its journal${holder.runId ? ` in .lego/runs/${holder.runId}/` : ""}, then pass --break-stale-lock to continue.`,
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
