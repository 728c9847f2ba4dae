import { execFile } from "node:child_process";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { type Clock, portfolioStateDir, type Redactor, systemClock } from "@lego/core";

const run = promisify(execFile);

/** One line of `.lego/audit.jsonl`. Never holds a secret value. */
export interface AuditEvent {
  at: string;
  /** The run this event belongs to. */
  runId: string;
  /** git user (name <email>) or OS user. */
  who: string;
  /** e.g. `deploy.started`, `deploy.finished`, `rollback.finished`, `db.restore`. */
  action: string;
  /** `local` or `cloudflare`. */
  target?: string;
  service?: string;
  environment?: string;
  versionBefore?: string | null;
  versionAfter?: string | null;
  result?: "ok" | "failed" | "rolled-back" | "skipped" | "interrupted";
  durationMs?: number;
  details?: Record<string, unknown>;
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

export interface DeploymentAuditorOptions {
  /** Portfolio root; events go to `<root>/.lego/audit.jsonl`. */
  root: string;
  /** Defaults to {@link resolveActor}, started at construction so it is ready by the first event. */
  who?: string;
  clock?: Clock;
  /** Applied to every line before it is written, as a last guard against a secret slipping in. */
  redactor?: Redactor;
}

/**
 * The append-only audit trail of every run (`.lego/audit.jsonl`): who did what, when, where, to
 * which versions, and how it ended.
 *
 * @example
 * const auditor = new DeploymentAuditor({ root });
 * await auditor.record({ runId, action: "deploy.finished", service: "api", environment: "staging", result: "ok" });
 * await auditor.logDeployment(runId, "started", { domains: ["api", "auth"] }); // the seed's form
 */
export class DeploymentAuditor {
  readonly path: string;
  readonly #clock: Clock;
  readonly #redactor: Redactor | undefined;
  readonly #who: Promise<string>;

  constructor(options: DeploymentAuditorOptions) {
    this.path = join(portfolioStateDir(options.root), "audit.jsonl");
    this.#clock = options.clock ?? systemClock;
    this.#redactor = options.redactor;
    // Resolved in the background (one short `git config`) while the caller does its other work.
    this.#who = options.who !== undefined ? Promise.resolve(options.who) : resolveActor(options.root);
  }

  /** Appends one event (one line, one write). */
  async record(event: Omit<AuditEvent, "at" | "who"> & { who?: string }): Promise<AuditEvent> {
    const who = await this.#who;
    const full: AuditEvent = { at: new Date(this.#clock.now()).toISOString(), who, ...event };
    let line = JSON.stringify(full);
    if (this.#redactor) line = this.#redactor.redact(line);
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, `${line}\n`);
    return full;
  }

  /** The seed's `logDeployment(deploymentId, status, data)`. */
  logDeployment(
    deploymentId: string,
    status: string,
    data: Record<string, unknown> = {},
  ): Promise<AuditEvent> {
    return this.record({ runId: deploymentId, action: `deployment.${status}`, details: data });
  }

  /** Reads events, oldest first, filtered by service, action prefix and time. */
  async query(
    filter: { service?: string; since?: Date; action?: string; runId?: string } = {},
  ): Promise<AuditEvent[]> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const events: AuditEvent[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let event: AuditEvent;
      try {
        event = JSON.parse(line) as AuditEvent;
      } catch {
        continue; // a torn last line from a crash
      }
      if (filter.service && event.service !== filter.service) continue;
      if (filter.action && !event.action.startsWith(filter.action)) continue;
      if (filter.runId && event.runId !== filter.runId) continue;
      if (filter.since && Date.parse(event.at) < filter.since.getTime()) continue;
      events.push(event);
    }
    return events;
  }
}
