import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AuditLog, type Clock, portfolioStateDir } from "@lego/core";

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
