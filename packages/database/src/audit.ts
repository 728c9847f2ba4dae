import { readFile } from "node:fs/promises";
import { type AuditEvent, AuditLog, type AuditRecord, auditLogPath, type Clock } from "@lego/core";

/**
 * One line of `.lego/audit.jsonl`: `@lego/core`'s shape, the one every brick writes, so `lego audit`
 * shows database events (`db.backup.created`, `db.migrate.failed`, `db.restore.verified`, …) beside
 * deploys. Never a secret, never row data: names, counts, checksums, backup ids.
 */
export type { AuditEvent, AuditRecord } from "@lego/core";

/**
 * Where audit events go. `@lego/deployment`'s `DeploymentAuditor` fits (the CLI passes it, so `who`
 * is the git user and every line is redacted); the default is {@link createFileAuditSink}.
 */
export interface AuditSink {
  record(event: AuditRecord): Promise<unknown>;
}

export { auditLogPath } from "@lego/core";

/**
 * The default audit sink: `@lego/core`'s `AuditLog`, the one writer of `<root>/.lego/audit.jsonl` that
 * every brick uses (who = the git user, else the OS user; one `appendFile` per event, never rewritten).
 */
export function createFileAuditSink(root: string, options: { who?: string; clock?: Clock } = {}): AuditSink {
  return new AuditLog({
    root,
    ...(options.who !== undefined ? { who: options.who } : {}),
    clock: options.clock,
  });
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
