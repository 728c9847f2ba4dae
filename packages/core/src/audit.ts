import { execFile } from "node:child_process";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { portfolioStateDir } from "./journal.ts";
import { type Clock, systemClock } from "./ports.ts";
import type { Redactor } from "./redact.ts";

const run = promisify(execFile);

/** One line of `.lego/audit.jsonl`. Never holds a secret value. */
export interface AuditEvent {
  at: string;
  /** The run this event belongs to. */
  runId: string;
  /** git user (name <email>) or OS user. */
  who: string;
  /** e.g. `run.started`, `deploy.finished`, `rollback.finished`, `db.restore.verified`, `secrets.push`. */
  action: string;
  /** `local` or `cloudflare`. */
  target?: string | undefined;
  service?: string | undefined;
  environment?: string | undefined;
  versionBefore?: string | null | undefined;
  versionAfter?: string | null | undefined;
  result?: "ok" | "failed" | "rolled-back" | "skipped" | "interrupted" | undefined;
  durationMs?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

/** What a writer is given: the event without `at` and `who`, which the log adds. */
export type AuditRecord = Omit<AuditEvent, "at" | "who"> & { who?: string };

/** The portfolio's audit log file: `<root>/.lego/audit.jsonl`. */
export function auditLogPath(root: string): string {
  return join(portfolioStateDir(root), "audit.jsonl");
}

/** Who is acting: `git config user.name/email` in the portfolio, else the OS user. */
export async function resolveActor(cwd: string): Promise<string> {
  // One `git config` for both keys (a process start costs more than the lookup). The last value of a
  // key wins, as with `git config --get`.
  let name: string | undefined;
  let email: string | undefined;
  try {
    const { stdout } = await run("git", ["config", "--get-regexp", "^user\\.(name|email)$"], {
      cwd,
      timeout: 2_000,
    });
    for (const line of stdout.split("\n")) {
      const space = line.indexOf(" ");
      const key = space === -1 ? line : line.slice(0, space);
      const value = space === -1 ? "" : line.slice(space + 1).trim();
      if (!value) continue;
      if (key === "user.name") name = value;
      else if (key === "user.email") email = value;
    }
  } catch {
    // Not a git checkout, git missing, or neither key set (exit 1): the OS user below.
  }
  if (name || email) return [name, email ? `<${email}>` : undefined].filter(Boolean).join(" ");
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

export interface AuditLogOptions {
  /** Portfolio root; events go to `<root>/.lego/audit.jsonl`. */
  root: string;
  /** Defaults to {@link resolveActor}, started at construction so it is ready by the first event. */
  who?: string | undefined;
  clock?: Clock | undefined;
  /** Applied to every line before it is written, as a last guard against a secret slipping in. */
  redactor?: Redactor | undefined;
}

/**
 * The one writer of the append-only audit trail (`.lego/audit.jsonl`): who did what, when, where, to
 * which versions, and how it ended. Every brick writes through it, so every line has the same `who`
 * and every line is redacted. Each event is one `appendFile` (O_APPEND): concurrent runs never
 * interleave inside a line, and nothing is rewritten.
 *
 * @example
 * const audit = new AuditLog({ root, redactor });
 * await audit.record({ runId, action: "deploy.finished", service: "api", environment: "staging", result: "ok" });
 */
export class AuditLog {
  readonly path: string;
  readonly #clock: Clock;
  readonly #redactor: Redactor | undefined;
  readonly #who: Promise<string>;

  constructor(options: AuditLogOptions) {
    this.path = auditLogPath(options.root);
    this.#clock = options.clock ?? systemClock;
    this.#redactor = options.redactor;
    // Resolved in the background (one short `git config`) while the caller does its other work.
    this.#who = options.who !== undefined ? Promise.resolve(options.who) : resolveActor(options.root);
  }

  /** Who the events are recorded as. */
  who(): Promise<string> {
    return this.#who;
  }

  /** Appends one event (one line, one write). */
  async record(event: AuditRecord): Promise<AuditEvent> {
    const who = event.who ?? (await this.#who);
    const full = { at: new Date(this.#clock.now()).toISOString(), ...event, who } as AuditEvent;
    let line = JSON.stringify(full);
    if (this.#redactor) line = this.#redactor.redact(line);
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await appendFile(this.path, `${line}\n`, { mode: 0o600 });
    return full;
  }

  /**
   * Reads events, oldest first, filtered by service, action prefix, run and time. A line that is not
   * an event (a torn last line from a crash, or one edited by hand) is counted in `unreadable`,
   * never returned as an event.
   */
  async query(
    filter: { service?: string; since?: Date; action?: string; runId?: string } = {},
  ): Promise<AuditEvent[]> {
    return (await this.read(filter)).events;
  }

  /** {@link query}, also saying how many lines could not be read (and where the first one is). */
  async read(
    filter: { service?: string; since?: Date; action?: string; runId?: string } = {},
  ): Promise<{ events: AuditEvent[]; unreadable: number; firstUnreadableLine?: number }> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { events: [], unreadable: 0 };
      throw error;
    }
    const events: AuditEvent[] = [];
    let unreadable = 0;
    let firstUnreadableLine: number | undefined;
    for (const [index, line] of text.split("\n").entries()) {
      if (!line.trim()) continue;
      let event: AuditEvent;
      try {
        event = JSON.parse(line) as AuditEvent;
      } catch {
        event = undefined as unknown as AuditEvent;
      }
      if (
        !event ||
        typeof event !== "object" ||
        typeof event.action !== "string" ||
        typeof event.at !== "string"
      ) {
        unreadable++;
        firstUnreadableLine ??= index + 1;
        continue;
      }
      if (filter.service && event.service !== filter.service) continue;
      if (filter.action && !event.action.startsWith(filter.action)) continue;
      if (filter.runId && event.runId !== filter.runId) continue;
      if (filter.since && Date.parse(event.at) < filter.since.getTime()) continue;
      events.push(event);
    }
    return {
      events,
      unreadable,
      ...(firstUnreadableLine !== undefined ? { firstUnreadableLine } : {}),
    };
  }
}
