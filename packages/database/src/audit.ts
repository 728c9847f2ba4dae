import { appendFile, mkdir, readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { type Clock, portfolioStateDir, systemClock } from "@lego/core";

/**
 * One line of `.lego/audit.jsonl`, in the shape every Lego brick writes there (the same as
 * `@lego/deployment`'s `DeploymentAuditor`), so `lego audit` shows database events beside deploys.
 * Never a secret, never row data: names, counts, checksums, backup ids.
 */
export interface AuditEvent {
  at: string;
  runId: string;
  /** Who acted (git user or OS user). */
  who: string;
  /** `db.backup.created`, `db.migrate.failed`, `db.restore.verified`, … */
  action: string;
  /** `local` or `cloudflare`. */
  target?: string | undefined;
  service?: string | undefined;
  environment?: string | undefined;
  result?: "ok" | "failed" | undefined;
  details?: Record<string, unknown> | undefined;
}

/** What a sink is given: the event without `at` and `who`, which the sink adds. */
export type AuditRecord = Omit<AuditEvent, "at" | "who">;

/**
 * Where audit events go. `@lego/deployment`'s `DeploymentAuditor` fits (the CLI passes it, so `who`
 * is the git user and every line is redacted); the default is {@link createFileAuditSink}.
 */
export interface AuditSink {
  record(event: AuditRecord): Promise<unknown>;
}

/** The portfolio's audit log file: `<root>/.lego/audit.jsonl`. */
export function auditLogPath(root: string): string {
  return join(portfolioStateDir(root), "audit.jsonl");
}

/**
 * An audit sink appending one JSON line per event to `<root>/.lego/audit.jsonl`. Each event is one
 * `appendFile` call (O_APPEND), so writers never interleave inside a line and nothing is rewritten.
 */
export function createFileAuditSink(root: string, options: { who?: string; clock?: Clock } = {}): AuditSink {
  const path = auditLogPath(root);
  const clock = options.clock ?? systemClock;
  let who = options.who;
  let ready: Promise<unknown> | undefined;
  return {
    async record(event) {
      if (who === undefined) {
        try {
          who = userInfo().username;
        } catch {
          who = "unknown";
        }
      }
      const line: AuditEvent = { at: new Date(clock.now()).toISOString(), who, ...event };
      ready ??= mkdir(dirname(path), { recursive: true });
      await ready;
      await appendFile(path, `${JSON.stringify(line)}\n`, { flag: "a" });
    },
  };
}

/** Reads the audit log, oldest first (for tests and tools); a torn last line is skipped. */
export async function readAuditLog(root: string): Promise<AuditEvent[]> {
  let text: string;
  try {
    text = await readFile(auditLogPath(root), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const events: AuditEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as AuditEvent);
    } catch {
      // a torn final line from a crash
    }
  }
  return events;
}
