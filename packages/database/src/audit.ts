import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { portfolioStateDir } from "@lego/core";

/** One line of `.lego/audit.jsonl`: what happened, when, in which run. Never a secret, never row data. */
export interface AuditEvent {
  /** ISO time. */
  at: string;
  /** Dotted name: `db.backup.created`, `db.migrate.failed`, `db.restore.verified`, … */
  type: string;
  runId?: string | undefined;
  [key: string]: unknown;
}

/** Where audit events go. The default appends to the portfolio's `.lego/audit.jsonl`. */
export interface AuditSink {
  append(event: AuditEvent): Promise<void>;
}

/** The portfolio's audit log file: `<root>/.lego/audit.jsonl`. */
export function auditLogPath(root: string): string {
  return join(portfolioStateDir(root), "audit.jsonl");
}

/**
 * An audit sink appending one JSON line per event to `<root>/.lego/audit.jsonl`. Each event is one
 * `appendFile` call (O_APPEND), so concurrent writers never interleave inside a line and nothing is
 * ever rewritten.
 */
export function createFileAuditSink(root: string): AuditSink {
  const path = auditLogPath(root);
  let ready: Promise<unknown> | undefined;
  return {
    async append(event) {
      ready ??= mkdir(dirname(path), { recursive: true });
      await ready;
      await appendFile(path, `${JSON.stringify(event)}\n`, { flag: "a" });
    },
  };
}

/** Reads the audit log (for tests and `lego audit`); a torn last line is skipped. */
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
