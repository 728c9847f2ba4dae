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
import { type AuditSink, createFileAuditSink } from "./audit.ts";
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
  /** Default: appends to `<root>/.lego/audit.jsonl`; apps pass `@lego/deployment`'s `DeploymentAuditor`. */
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
  /** Records an audit event (and a journal line): `service` and `env` are lifted, the rest goes to `details`. */
  emit(action: string, data?: Record<string, unknown>): Promise<void>;
}

/** Fills in a context's defaults; resolving an already resolved one returns it unchanged. */
export function resolveContext(ctx: DatabaseContext | ResolvedContext): ResolvedContext {
  if ("emit" in ctx && typeof ctx.emit === "function") return ctx as ResolvedContext;
  const c = ctx as DatabaseContext;
  const clock = c.clock ?? systemClock;
  const runId = c.runId ?? createRunId(new Date(clock.now()));
  const audit = c.audit ?? createFileAuditSink(c.root, { clock });
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
    async emit(action, data = {}) {
      const { service, env, ...details } = data;
      const result = action.endsWith(".failed") ? "failed" : action.endsWith(".started") ? undefined : "ok";
      await audit.record({
        runId,
        action,
        ...(target ? { target } : {}),
        ...(typeof service === "string" ? { service } : {}),
        ...(typeof env === "string" ? { environment: env } : {}),
        ...(result ? { result } : {}),
        ...(Object.keys(details).length > 0 ? { details } : {}),
      });
      if (c.journal) await c.journal.append(action, { ...(target ? { target } : {}), ...data });
    },
  };
}
