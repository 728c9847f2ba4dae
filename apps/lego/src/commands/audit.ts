import { isAbsolute, resolve } from "node:path";
import { UsageError } from "@lego/core";
import type { AuditEvent } from "@lego/deployment";
import { type CommandContext, defineCommand } from "../framework/define.ts";
import { rootArg } from "../wiring.ts";

function parseSince(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const rel = /^(\d+)([smhd])$/.exec(value);
  if (rel) {
    const n = Number(rel[1]);
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as "s" | "m" | "h" | "d"];
    return new Date(Date.now() - n * unit);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError({
      code: "ERR_BAD_FLAG",
      message: `--since "${value}" is not a date or a duration`,
      hint: "Use an ISO date (2026-11-25) or a duration (30m, 2h, 7d).",
    });
  }
  return date;
}

function rootOf(cwd: string, root: string | undefined): string {
  if (root !== undefined && root.trim() === "") {
    throw new UsageError({
      code: "ERR_BAD_FLAG",
      message: "--root is empty",
      hint: "Pass the portfolio folder (--root ./portfolio), or leave --root out to use the current folder.",
    });
  }
  return root ? (isAbsolute(root) ? root : resolve(cwd, root)) : cwd;
}

type AuditRead = { events: AuditEvent[]; unreadable: number; firstUnreadableLine?: number | undefined };

function isEvent(event: unknown): event is AuditEvent {
  const e = event as Partial<AuditEvent> | null;
  return typeof e === "object" && e !== null && typeof e.at === "string" && typeof e.action === "string";
}

/**
 * `--service` that names no service of the portfolio and no service in the log is a typo: exit 2 with
 * the closest names, rather than an empty (and so reassuring) answer.
 */
async function assertServiceKnown(ctx: CommandContext, root: string, service: string): Promise<void> {
  const { closeNames, scanPortfolio } = await import("@lego/discovery");
  const portfolio = await scanPortfolio({ root, logger: ctx.logger, clock: ctx.clock }).catch(
    () => undefined,
  );
  if (portfolio?.services.some((s) => s.name === service)) return;
  const close = portfolio ? closeNames(portfolio, service) : [];
  throw new UsageError({
    code: "ERR_SERVICE_NOT_FOUND",
    message: `--service ${service}: no service of ${root} and no event in its audit log has that name`,
    hint:
      close.length > 0
        ? `Did you mean ${close.map((c) => `"${c}"`).join(", ")}? \`lego list\` shows every service.`
        : "`lego list` shows every service; `lego audit` without --service shows every event.",
    details: { service },
  });
}

/** `lego audit`: the append-only audit log of the portfolio. */
export const auditCommand = defineCommand({
  meta: {
    name: "audit",
    description: "Show the audit log: who deployed, rolled back or migrated what, when, and how it ended",
    examples: ["lego audit", "lego audit --service api-gateway --since 7d --json"],
  },
  args: {
    service: { type: "string", description: "Only events of this service" },
    since: {
      type: "string",
      description: "Only events since a date (2026-11-25) or a duration (30m, 2h, 7d)",
    },
    ...rootArg,
  },
  async run(ctx, args) {
    const { DeploymentAuditor } = await import("@lego/deployment");
    const since = parseSince(args.since);
    const root = rootOf(ctx.cwd, args.root);
    const auditor = new DeploymentAuditor({ root, who: "-" });
    const filter = { ...(since ? { since } : {}) };
    // `read` (when the auditor has it) also counts the lines it could not parse; `query` skips them.
    const reader = auditor as unknown as { read?: (f: typeof filter) => Promise<AuditRead> };
    const read: AuditRead =
      typeof reader.read === "function"
        ? await reader.read(filter)
        : { events: await auditor.query(filter), unreadable: 0 };
    // A line that parses but is not an event (a stray value, a half-written object) is unreadable too.
    const all = read.events.filter(isEvent);
    const unreadable = read.unreadable + (read.events.length - all.length);
    if (unreadable > 0) {
      ctx.ui.warn(
        `${unreadable} line${unreadable === 1 ? "" : "s"} of ${auditor.path} could not be read${read.firstUnreadableLine ? ` (first: line ${read.firstUnreadableLine})` : ""} and ${unreadable === 1 ? "is" : "are"} left out`,
      );
    }
    if (args.service && !all.some((e) => e.service === args.service))
      await assertServiceKnown(ctx, root, args.service);
    const events = args.service ? all.filter((e) => e.service === args.service) : all;
    return { path: auditor.path, events, unreadable };
  },
  human(result, ui) {
    if (result.events.length === 0) return ui.print(`No audit events in ${result.path}`);
    for (const e of result.events) {
      const versions =
        e.versionAfter !== undefined ? ` ${e.versionBefore ?? "none"} → ${e.versionAfter ?? "none"}` : "";
      const where = e.service ? ` ${e.service}${e.environment ? ` (${e.environment})` : ""}` : "";
      ui.print(`${e.at}  ${e.who ?? "?"}  ${e.action}${where}${versions}${e.result ? `  ${e.result}` : ""}`);
    }
  },
});
