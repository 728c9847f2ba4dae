// `lego db …`: D1 migrations, status, backups and restores. Thin: each command builds a
// DatabaseOrchestrator (@lego/database) from the command context and calls one of its methods.

import { AuditLog, type RunJournal } from "@lego/core";
import type {
  BackupEntry,
  DatabaseOrchestrator,
  DatabaseStatus,
  PortfolioStatus,
  RestoreResult,
  SyncResult,
} from "@lego/database";
import { parseIntegerFlag } from "../framework/args.ts";
import { type CommandContext, defineCommand, defineGroup } from "../framework/define.ts";
import type { Ui } from "../framework/ui.ts";
import { openCloud, openPortfolio, rootArg } from "../wiring.ts";

const envArg = {
  env: {
    type: "string",
    alias: "environment",
    description: "Environment (default: production); the seed's --environment works too",
  },
} as const;
const changeArgs = {
  yes: { type: "boolean", description: "Skip the production confirmation" },
  "break-stale-lock": { type: "boolean", description: "Take over a lock left behind by a dead run" },
} as const;
const keepArg = {
  keep: { type: "string", description: "After backing up, keep only the newest N backups of each database" },
} as const;

interface Options {
  root: string | undefined;
  dryRun?: boolean | undefined;
  yes?: boolean | undefined;
  acceptDrift?: boolean | undefined;
  keep?: number | undefined;
  breakStaleLock?: boolean | undefined;
  /** Backups and their listing need no target. */
  offline?: boolean | undefined;
  /**
   * A changing operation: it runs through the run engine (@lego/orchestration), which takes the locks
   * of these services (names, hostnames or script names; none: every service with a D1 database in
   * `env`), writes the journal, audit events and the report. Not for dry runs.
   */
  run?: { kind: string; env: string; services?: readonly string[] | undefined } | undefined;
}

/** Builds the orchestrator over the portfolio and the target, runs `fn`, and disposes the runner. */
async function withOrchestrator<T>(
  ctx: CommandContext,
  options: Options,
  fn: (db: DatabaseOrchestrator) => Promise<T>,
): Promise<T> {
  const { DatabaseOrchestrator, fromCloudflare } = await import("@lego/database");
  const portfolio = await openPortfolio(ctx, options.root);
  // What a changing operation touches is settled before the cloud is opened: a service that does not
  // exist, has a broken config or no D1 database in this environment is bad input (exit 2).
  const services = options.run ? await servicesOfRun(portfolio, options.run) : [];
  const cloud = options.offline ? undefined : await openCloud(ctx, portfolio.root, portfolio);
  const ports = cloud ? fromCloudflare({ client: cloud.client, wrangler: cloud.wrangler }) : undefined;
  const unavailable = async (): Promise<never> => {
    throw new Error("this command does not reach the target");
  };
  const make = (run?: { journal: RunJournal; id: string; audit: AuditLog }) =>
    new DatabaseOrchestrator({
      projectRoot: portfolio.root,
      portfolio,
      dryRun: options.dryRun,
      yes: options.yes,
      acceptDrift: options.acceptDrift,
      keep: options.keep,
      api: ports?.api ?? { queryD1: unavailable, getD1Database: unavailable },
      wrangler: ports?.wrangler ?? {
        d1MigrationsApply: unavailable,
        d1Export: unavailable,
        d1Execute: unavailable,
      },
      ...(cloud ? { target: cloud.target } : {}),
      logger: ctx.logger,
      prompter: ctx.prompter,
      clock: ctx.clock,
      signal: ctx.signal,
      audit: run?.audit ?? new AuditLog({ root: portfolio.root, clock: ctx.clock, redactor: ctx.redactor }),
      // Inside the run engine's run, its service locks stand; no portfolio lock on top.
      run: run ? { lock: false } : { breakStaleLock: options.breakStaleLock },
      ...(run ? { journal: run.journal, runId: run.id } : {}),
    });
  const use = async (db: DatabaseOrchestrator): Promise<T> => {
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };
  try {
    if (!options.run || options.dryRun) return await use(make());
    const { executeServiceRun } = await import("@lego/orchestration");
    const { env, kind } = options.run;
    const { result } = await executeServiceRun(
      {
        root: portfolio.root,
        portfolio,
        kind,
        command: `lego ${ctx.argv.join(" ")}`,
        services,
        environment: env,
        target: cloud?.target ?? { kind: "local" },
        clock: ctx.clock,
        redactor: ctx.redactor,
        signal: ctx.signal,
        breakStaleLock: options.breakStaleLock,
      },
      (run) => use(make(run)),
    );
    return result;
  } finally {
    await cloud?.dispose();
  }
}

/** The services a database run touches: those named (checked), or every one with D1 in `env`. */
async function servicesOfRun(
  portfolio: Awaited<ReturnType<typeof openPortfolio>>,
  run: NonNullable<Options["run"]>,
): Promise<string[]> {
  const { assertServicesReady, resolveService } = await import("@lego/discovery");
  const named = run.services ?? [];
  if (named.length === 0)
    return portfolio.services
      .filter((s) => (s.environments[run.env]?.d1Databases.length ?? 0) > 0)
      .map((s) => s.name);
  const resolved = [
    ...new Map(named.map((n) => resolveService(portfolio, n).service).map((s) => [s.name, s])).values(),
  ];
  assertServicesReady(resolved);
  const without = resolved.filter((s) => (s.environments[run.env]?.d1Databases.length ?? 0) === 0);
  if (without.length > 0) {
    const { UsageError } = await import("@lego/core");
    const first = without[0] as (typeof without)[number];
    throw new UsageError({
      code: "ERR_NO_DATABASE",
      message: `${without.map((s) => s.name).join(", ")} ${without.length === 1 ? "has" : "have"} no D1 database in ${run.env} (${first.wranglerConfigFile})`,
      hint: `Bind one under d1_databases${run.env === "production" ? "" : ` in env.${run.env}`}, or name a service that has one (\`lego db status\`).`,
      details: { services: without.map((s) => s.name), environment: run.env },
    });
  }
  return resolved.map((s) => s.name);
}

function statusLine(d: DatabaseStatus, ui: Ui): string {
  const where = `${d.service} (${d.env}) ${d.databaseName}`;
  if (!d.exists) return `${where}: ${ui.style("yellow", "not created yet")}, ${d.pending.length} pending`;
  const pending =
    d.pending.length === 0
      ? ui.style("green", "up to date")
      : ui.style("yellow", `${d.pending.length} pending: ${d.pending.map((p) => p.name).join(", ")}`);
  return `${where}: ${d.applied.length} applied, ${pending}`;
}

function renderStatus(result: PortfolioStatus, ui: Ui): void {
  if (result.databases.length === 0) {
    ui.print("No D1 databases in these services.");
    return;
  }
  for (const d of result.databases) {
    ui.print(statusLine(d, ui));
    for (const x of d.drift)
      ui.print(
        `  ${ui.style("red", "drift")}: ${x.name} ${x.kind === "changed" ? "changed after it was applied" : "was applied but its file is gone"}`,
      );
    for (const w of d.warnings) ui.print(`  ${ui.style("dim", w)}`);
  }
  const s = result.summary;
  ui.print(
    `${s.databases} database${s.databases === 1 ? "" : "s"}, ${s.pending} pending migration${s.pending === 1 ? "" : "s"}${s.drifted ? `, ${s.drifted} with drift` : ""}`,
  );
}

function renderSync(result: SyncResult, ui: Ui): void {
  if (result.services.length === 0) {
    ui.print(`No D1 databases in ${result.env}.`);
    return;
  }
  for (const s of result.services)
    for (const d of s.databases) {
      const what =
        d.outcome === "applied"
          ? ui.style("green", `applied ${d.pending.join(", ")}`)
          : d.outcome === "planned"
            ? `would apply ${d.pending.join(", ")}`
            : "up to date";
      ui.print(`${s.service} (${s.env}) ${d.database}: ${what}${d.backup ? ` (backup ${d.backup})` : ""}`);
    }
}

function renderBackups(result: { backups: BackupEntry[] }, ui: Ui): void {
  if (result.backups.length === 0) {
    ui.print("No backups.");
    return;
  }
  for (const b of result.backups) {
    const rows = Object.values(b.rowCounts).reduce((n, c) => n + c, 0);
    ui.print(
      `${b.service} (${b.env}) ${b.databaseName}  ${b.id}  ${b.reason}  ${Object.keys(b.rowCounts).length} tables, ${rows} rows  ${b.path}`,
    );
  }
}

const statusCommand = defineCommand({
  meta: {
    name: "status",
    description: "Applied and pending D1 migrations per service and environment, and drift",
    examples: ["lego db status --all", "lego db status api --env staging --json"],
  },
  args: {
    services: { type: "positional", multiple: true, required: false, description: "Services (default: all)" },
    all: { type: "boolean", description: "Every service of the portfolio (the default without names)" },
    env: { type: "string", alias: "environment", description: "Only this environment (default: all)" },
    ...rootArg,
  },
  async run(ctx, args) {
    const names = args.services ?? [];
    return withOrchestrator(ctx, { root: args.root }, (db) =>
      db.status({ env: args.env, service: args.all || names.length === 0 ? undefined : names }),
    );
  },
  human: renderStatus,
});

const migrateArgs = {
  "dry-run": { type: "boolean", description: "Show what would be applied; change nothing" },
  "accept-drift": {
    type: "boolean",
    description: "Record edited or deleted applied migrations as they are now, instead of stopping (exit 4)",
  },
  ...keepArg,
  ...changeArgs,
  ...rootArg,
} as const;

const migrateCommand = defineCommand({
  meta: {
    name: "migrate",
    description: "Back up, apply pending D1 migrations, and restore the backup if one fails",
    examples: [
      "lego db migrate api --env staging",
      "lego db migrate api --env production --yes",
      "lego db migrate --all --env staging --dry-run",
    ],
  },
  args: {
    services: { type: "positional", multiple: true, required: false, description: "Services to migrate" },
    all: { type: "boolean", description: "Every service, in dependency order" },
    ...envArg,
    ...migrateArgs,
  },
  async run(ctx, args) {
    const names = args.services ?? [];
    if (!args.all && names.length === 0) {
      const { UsageError } = await import("@lego/core");
      throw new UsageError({
        code: "ERR_SERVICE_REQUIRED",
        message: "Name the service to migrate, or pass --all",
        hint: "lego db migrate <service> --env <env>, or lego db sync --all --env <env>.",
      });
    }
    const env = args.env ?? "production";
    return withOrchestrator(
      ctx,
      {
        root: args.root,
        dryRun: args.dryRun,
        yes: args.yes,
        acceptDrift: args.acceptDrift,
        keep: parseIntegerFlag(args.keep, "--keep", { min: 1 }),
        breakStaleLock: args.breakStaleLock,
        run: { kind: "db.migrate", env, services: args.all ? undefined : names },
      },
      (db) => db.runMigrations(env, { service: args.all ? undefined : names }),
    );
  },
  human: renderSync,
});

const syncCommand = defineCommand({
  meta: {
    name: "sync",
    description: "Apply every service's pending migrations in dependency order; stop at the first failure",
    examples: ["lego db sync --all --env staging", "lego-db sync --portfolio --environment production --yes"],
  },
  args: {
    all: {
      type: "boolean",
      alias: "portfolio",
      description: "Every service (the default; the seed's --portfolio)",
    },
    ...envArg,
    ...migrateArgs,
  },
  async run(ctx, args) {
    const env = args.env ?? "production";
    return withOrchestrator(
      ctx,
      {
        root: args.root,
        dryRun: args.dryRun,
        yes: args.yes,
        acceptDrift: args.acceptDrift,
        keep: parseIntegerFlag(args.keep, "--keep", { min: 1 }),
        breakStaleLock: args.breakStaleLock,
        run: { kind: "db.sync", env },
      },
      (db) => db.runMigrations(env),
    );
  },
  human: renderSync,
});

const backupCommand = defineCommand({
  meta: {
    name: "backup",
    description: "Export a service's D1 databases to .lego/backups with a checksum manifest",
    examples: ["lego db backup api --env production", "lego db backup --all --env staging --keep 10"],
  },
  args: {
    services: { type: "positional", multiple: true, required: false, description: "Services to back up" },
    all: { type: "boolean", description: "Every service with a database in the environment" },
    ...envArg,
    ...keepArg,
    "break-stale-lock": changeArgs["break-stale-lock"],
    ...rootArg,
  },
  async run(ctx, args) {
    const names = args.services ?? [];
    if (!args.all && names.length === 0) {
      const { UsageError } = await import("@lego/core");
      throw new UsageError({
        code: "ERR_SERVICE_REQUIRED",
        message: "Name the service to back up, or pass --all",
        hint: "lego db backup <service> --env <env>",
      });
    }
    const env = args.env ?? "production";
    const keep = parseIntegerFlag(args.keep, "--keep", { min: 1 });
    const backups = await withOrchestrator(
      ctx,
      { root: args.root, keep, breakStaleLock: args.breakStaleLock },
      (db) => db.createBackup(env, { service: args.all ? undefined : names }),
    );
    return { backups };
  },
  human: renderBackups,
});

const backupsCommand = defineCommand({
  meta: {
    name: "backups",
    description: "List backups, newest first",
    examples: ["lego db backups", "lego db backups --service api --env production --json"],
  },
  args: {
    service: { type: "string", description: "Only this service" },
    env: { type: "string", alias: "environment", description: "Only this environment" },
    ...rootArg,
  },
  async run(ctx, args) {
    const backups = await withOrchestrator(ctx, { root: args.root, offline: true }, (db) =>
      db.listBackups({ service: args.service, env: args.env }),
    );
    return { backups };
  },
  human: renderBackups,
});

const pruneCommand = defineCommand({
  meta: {
    name: "prune",
    description: "Delete all but the newest N backups of a service in an environment",
    examples: ["lego db prune api --env production --keep 10"],
  },
  args: {
    service: { type: "positional", description: "Service" },
    ...envArg,
    keep: {
      type: "string",
      required: true,
      description: "How many of the newest backups to keep (at least 1)",
    },
    ...rootArg,
  },
  async run(ctx, args) {
    const keep = parseIntegerFlag(args.keep, "--keep", { min: 1 }) as number;
    const deleted = await withOrchestrator(ctx, { root: args.root, offline: true }, (db) =>
      db.pruneBackups({ service: args.service, env: args.env ?? "production", keep }),
    );
    return { deleted: deleted.map((b) => ({ id: b.id, path: b.path })) };
  },
  human(result, ui) {
    ui.print(
      result.deleted.length === 0
        ? "Nothing to delete."
        : `Deleted ${result.deleted.map((d) => d.id).join(", ")}`,
    );
  },
});

const restoreCommand = defineCommand({
  meta: {
    name: "restore",
    description: "Replace a service's D1 data with a backup (after a safety backup); verifies every table",
    examples: [
      "lego db restore api --env staging --from 2026-11-25T04-37-00-123Z",
      "lego db restore api --env production --from latest --yes",
    ],
  },
  args: {
    service: { type: "positional", description: "Service" },
    ...envArg,
    from: {
      type: "string",
      required: true,
      description: "Backup id, file name or path (see lego db backups), or latest",
    },
    binding: { type: "string", description: "Only the database with this binding (services with several)" },
    ...changeArgs,
    ...rootArg,
  },
  async run(ctx, args) {
    const env = args.env ?? "production";
    const restored: RestoreResult[] = await withOrchestrator(
      ctx,
      {
        root: args.root,
        yes: args.yes,
        breakStaleLock: args.breakStaleLock,
        run: { kind: "db.restore", env, services: [args.service] },
      },
      (db) => db.restore({ service: args.service, env, from: args.from, binding: args.binding }),
    );
    return { restored };
  },
  human(result, ui) {
    for (const r of result.restored) {
      const tables = Object.keys(r.rowCounts).length;
      ui.print(
        `${r.service} (${r.env}) ${r.database}: restored backup ${r.backup}; ${tables} tables match it${r.safetyBackup ? ` (the data before is in backup ${r.safetyBackup})` : ""}`,
      );
    }
  },
});

/** `lego db`: the seed's `lego-db`. */
export const dbGroup = defineGroup({
  meta: { name: "db", description: "D1 databases: status, migrate with backup and restore, backups" },
  commands: [
    statusCommand,
    migrateCommand,
    syncCommand,
    backupCommand,
    backupsCommand,
    restoreCommand,
    pruneCommand,
  ],
});
