import { appendFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { LegoError } from "./errors.ts";
import { randomHex } from "./random.ts";

/** One line of a run's journal. `type` says what happened; the rest is its data (never a secret). */
export interface JournalEvent {
  /** ISO time. */
  at: string;
  type: string;
  [key: string]: unknown;
}

/** The portfolio's state folder, `<root>/.lego` (git-ignored). */
export function portfolioStateDir(root: string): string {
  return join(root, ".lego");
}

/** A new run id: sortable by time, unique: `20261125-043700-1a2b3c`. */
export function createRunId(now: Date = new Date()): string {
  const iso = now.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
  return `${stamp}-${randomHex(3)}`;
}

export interface RunJournal {
  readonly runId: string;
  /** `.lego/runs/<run-id>` */
  readonly dir: string;
  readonly path: string;
  /** Appends one event (one line, one write: never torn, never rewritten). */
  append(type: string, data?: Record<string, unknown>): Promise<JournalEvent>;
  read(): Promise<JournalEvent[]>;
}

/**
 * Opens the append-only journal of a run at `<root>/.lego/runs/<run-id>/journal.jsonl`. Every step of a
 * run is appended as it happens, so a crash leaves a record of how far it got.
 */
export async function createRunJournal(options: {
  root: string;
  runId?: string;
  now?: () => Date;
}): Promise<RunJournal> {
  const now = options.now ?? (() => new Date());
  const runId = options.runId ?? createRunId(now());
  const dir = join(portfolioStateDir(options.root), "runs", runId);
  const path = join(dir, "journal.jsonl");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return {
    runId,
    dir,
    path,
    async append(type, data = {}) {
      const event: JournalEvent = { at: now().toISOString(), type, ...data };
      await appendFile(path, `${JSON.stringify(event)}\n`, { flag: "a", mode: 0o600 });
      return event;
    },
    read: () => readJournal(path),
  };
}

/**
 * Reads a journal file. A torn last line (a crash mid-write) is skipped; an unreadable line before it
 * means the file was damaged some other way, and is an error naming the file and line.
 */
export async function readJournal(path: string): Promise<JournalEvent[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const events: JournalEvent[] = [];
  const lines = text.split("\n");
  const last = lines.findLastIndex((l) => l.trim() !== "");
  for (const [index, line] of lines.entries()) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as JournalEvent);
    } catch (error) {
      if (index === last) continue;
      throw new LegoError({
        code: "ERR_FILE_INVALID",
        message: `${path}:${index + 1} is not a JSON line: the journal was damaged`,
        hint: "Every line but the last is written whole; look at the file, or move it aside.",
        cause: error,
      });
    }
  }
  return events;
}
