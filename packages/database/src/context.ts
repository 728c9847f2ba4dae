import {
  type Clock,
  createNonInteractivePrompter,
  createNullLogger,
  createRunId,
  type Logger,
  type Prompter,
  type RunJournal,
  systemClock,
} from "@lego/core";
import { type AuditEvent, type AuditSink, createFileAuditSink } from "./audit.ts";
import type { D1ApiPort, D1WranglerPort } from "./ports.ts";

/**
 * Everything the database operations act through. Apps assemble it (the CLI from `@lego/cloudflare`);
 * tests pass their own ports.
 */
export interface DatabaseContext {
  /** Portfolio root: state goes to `<root>/.lego` (backups, audit log, run journals). */
  root: string;
  api: D1ApiPort;
  wrangler: D1WranglerPort;
  logger?: Logger | undefined;
  /** Asked before production changes; the default never asks and fails naming `--yes`. */
  prompter?: Prompter | undefined;
  clock?: Clock | undefined;
  /** The run these operations belong to (a new id by default). */
  runId?: string | undefined;
  /** Default: `<root>/.lego/audit.jsonl`. */
  audit?: AuditSink | undefined;
  /** The run's journal; every audit event is also appended to it. */
  journal?: RunJournal | undefined;
  /** `local` or `cloudflare`: recorded in backup manifests and audit events. */
  target?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Environments that need confirmation (or `--yes`) before a change. Default: `["production"]`. */
  protectedEnvironments?: readonly string[] | undefined;
}

/** A context with its defaults filled in. */
export interface ResolvedContext {
  root: string;
  api: D1ApiPort;
  wrangler: D1WranglerPort;
  logger: Logger;
  prompter: Prompter;
  clock: Clock;
  runId: string;
  target: string | undefined;
  signal: AbortSignal | undefined;
  protectedEnvironments: readonly string[];
  emit(type: string, data?: Record<string, unknown>): Promise<void>;
}

/** Fills in a context's defaults; resolving an already resolved one returns it unchanged. */
export function resolveContext(ctx: DatabaseContext | ResolvedContext): ResolvedContext {
  if ("emit" in ctx && typeof ctx.emit === "function") return ctx as ResolvedContext;
  const c = ctx as DatabaseContext;
  const clock = c.clock ?? systemClock;
  const runId = c.runId ?? createRunId(new Date(clock.now()));
  const audit = c.audit ?? createFileAuditSink(c.root);
  const target = c.target;
  return {
    root: c.root,
    api: c.api,
    wrangler: c.wrangler,
    logger: c.logger ?? createNullLogger(),
    prompter: c.prompter ?? createNonInteractivePrompter(),
    clock,
    runId,
    target,
    signal: c.signal,
    protectedEnvironments: c.protectedEnvironments ?? ["production"],
    async emit(type, data = {}) {
      const event: AuditEvent = {
        at: new Date(clock.now()).toISOString(),
        type,
        runId,
        ...(target ? { target } : {}),
        ...data,
      };
      await audit.append(event);
      if (c.journal) await c.journal.append(type, { ...(target ? { target } : {}), ...data });
    },
  };
}
