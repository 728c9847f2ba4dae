import { ConflictError, LegoError, OperationError } from "@lego/core";
import { type BackupEntry, type BackupReason, backupTimestamp, createBackup } from "./backup.ts";
import { type DatabaseContext, type ResolvedContext, resolveContext } from "./context.ts";
import type { D1Target } from "./ports.ts";
import { type RestoreResult, restoreBackup } from "./restore.ts";
import {
  checksumRecordSql,
  type DatabaseStatus,
  type DriftEntry,
  readAppliedMigrations,
  readDatabaseStatus,
} from "./status.ts";

/** Options of {@link migrateService}. */
export interface MigrateOptions {
  /** Confirmed in advance: no question for protected environments (`--yes`). */
  yes?: boolean | undefined;
  /** Plan only: read the status, change nothing, take no backup. */
  dryRun?: boolean | undefined;
  /** Record the current files of drifted migrations as applied, and go on (`--accept-drift`). */
  acceptDrift?: boolean | undefined;
  /** Retention after the pre-migration backup: keep the newest N backups (`--keep`). */
  keep?: number | undefined;
  /** Recorded on the backup: `pre-migrate` (default) or `pre-deploy`. */
  backupReason?: BackupReason | undefined;
  /** Statuses already read (by a portfolio plan), to avoid reading them twice. */
  statuses?: readonly DatabaseStatus[] | undefined;
}

/** What happened to one database. */
export interface DatabaseMigrateResult {
  service: string;
  env: string;
  binding: string;
  database: string;
  databaseId?: string | undefined;
  /** `applied`: migrations ran; `up-to-date`: nothing pending; `planned`: dry run. */
  outcome: "applied" | "up-to-date" | "planned";
  /** Migrations pending before the run (applied now unless planned). */
  pending: string[];
  /** The backup taken just before applying. */
  backup?: string | undefined;
  backupPath?: string | undefined;
  /** Drift accepted with `acceptDrift`. */
  acceptedDrift: DriftEntry[];
  warnings: string[];
}

/** What happened to one service in one environment. */
export interface ServiceMigrateResult {
  service: string;
  env: string;
  outcome: "applied" | "up-to-date" | "planned";
  databases: DatabaseMigrateResult[];
}

/** A human line for a list of drift entries. */
export function describeDrift(
  status: Pick<DatabaseStatus, "service" | "env" | "databaseName" | "drift">,
): string {
  return status.drift
    .map((d) =>
      d.kind === "changed"
        ? `${d.name} changed after it was applied to ${status.databaseName} (${status.service}, ${status.env})`
        : `${d.name} was applied to ${status.databaseName} (${status.service}, ${status.env}) but its file is gone`,
    )
    .join("; ");
}

/** Throws `ERR_MIGRATION_DRIFT` (exit 4) when any status has drift. */
export function assertNoDrift(statuses: readonly DatabaseStatus[]): void {
  const drifted = statuses.filter((s) => s.drift.length > 0);
  if (drifted.length === 0) return;
  throw new ConflictError({
    code: "ERR_MIGRATION_DRIFT",
    message: `Migration drift: ${drifted.map(describeDrift).join("; ")}`,
    hint: "Restore the applied content of the file (see git log -p on it) and put the change in a new migration. If the edit is harmless, pass --accept-drift to record the current files.",
    details: {
      drift: drifted.map((s) => ({
        service: s.service,
        env: s.env,
        database: s.databaseName,
        entries: s.drift,
      })),
    },
  });
}

/**
 * Asks before changing a protected environment (production by default) unless `yes`. Without a
 * terminal the default prompter fails with exit 2 naming `--yes`; a "no" is `ERR_NOT_CONFIRMED`.
 */
export async function confirmChange(
  ctx: ResolvedContext,
  env: string,
  question: string,
  yes: boolean | undefined,
) {
  if (yes || !ctx.protectedEnvironments.includes(env)) return;
  const ok = await ctx.prompter.confirm({ message: question, default: false, flag: "--yes" });
  if (!ok)
    throw new LegoError({
      code: "ERR_NOT_CONFIRMED",
      message: `Not confirmed: nothing was changed in ${env}`,
      hint: "Answer yes, or pass --yes.",
      exitCode: 1,
      kind: "user",
    });
}

/**
 * What went wrong, in one line: the line of wrangler's output that names the SQL error when there is
 * one (wrangler's own message only says "A request to the Cloudflare API (…/query) failed."), else
 * the error's first line. The whole error stays the `cause`.
 */
export function describeFailure(error: unknown): string {
  const message =
    (error instanceof Error ? error.message : String(error)).split("\n").filter((l) => l.trim())[0] ?? "";
  const tail = (error as { details?: { stderrTail?: unknown } })?.details?.stderrTail;
  const lines = (Array.isArray(tail) ? tail.map(String) : typeof tail === "string" ? tail.split("\n") : [])
    .map((l) => l.replace(/^[\s│├└✘▲X]*(\[ERROR\]\s*)?/u, "").trim())
    .filter((l) => l && !message.includes(l));
  const sql = lines.find((l) => /\[code: \d+\]|SQLITE_|no such |syntax error|constraint failed/i.test(l));
  return (sql ?? message).slice(0, 800);
}

function wranglerOptions(target: D1Target, ctx: ResolvedContext) {
  return {
    cwd: target.serviceDir,
    configPath: target.configPath,
    database: target.databaseName,
    env: target.wranglerEnv,
    signal: ctx.signal,
  };
}

/**
 * Migrates the D1 databases of one service in one environment, safely:
 * 1. reads the status of each database; drift stops everything (exit 4) before any change;
 * 2. asks for confirmation on protected environments (or needs `yes`);
 * 3. per database with pending migrations: backs up (`.lego/backups/…`), runs
 *    `wrangler d1 migrations apply --remote`, checks that the migrations table now lists every one,
 *    and records the files' checksums;
 * 4. on a failure: restores the failed database (and any of the service's databases migrated in this
 *    run) from their backups, verifies row counts, and throws `ERR_MIGRATION_FAILED` (exit 1) naming
 *    the migration and saying the data was restored.
 *
 * @example
 * await migrateService(targets, { root, api, wrangler, prompter }, { yes: true });
 */
export async function migrateService(
  targets: readonly D1Target[],
  context: DatabaseContext | ResolvedContext,
  options: MigrateOptions = {},
): Promise<ServiceMigrateResult> {
  const ctx = resolveContext(context);
  const first = targets[0];
  if (!first)
    throw new LegoError({
      code: "ERR_DATABASE_NOT_CONFIGURED",
      message: "No D1 database to migrate",
      hint: "Add a d1_databases entry to the service's wrangler config for that environment.",
      exitCode: 2,
    });
  const { service, env } = first;
  const statuses: DatabaseStatus[] = [];
  for (const t of targets) {
    const known = options.statuses?.find(
      (s) => s.service === t.service && s.env === t.env && s.binding === t.binding,
    );
    statuses.push(known ?? (await readDatabaseStatus(ctx, t)));
  }
  if (!options.acceptDrift) assertNoDrift(statuses);
  const work = targets.map((t, i) => ({ target: t, status: statuses[i]! }));
  const todo = work.filter(
    (w) => w.status.pending.length > 0 || (options.acceptDrift && w.status.drift.length > 0),
  );
  const result = (
    w: (typeof work)[number],
    extra: Partial<DatabaseMigrateResult>,
  ): DatabaseMigrateResult => ({
    service: w.target.service,
    env: w.target.env,
    binding: w.target.binding,
    database: w.target.databaseName,
    ...(w.status.databaseId ? { databaseId: w.status.databaseId } : {}),
    outcome: "up-to-date",
    pending: w.status.pending.map((p) => p.name),
    acceptedDrift: [],
    warnings: w.status.warnings,
    ...extra,
  });
  if (todo.length === 0) {
    return { service, env, outcome: "up-to-date", databases: work.map((w) => result(w, {})) };
  }
  if (options.dryRun) {
    return {
      service,
      env,
      outcome: "planned",
      databases: work.map((w) => result(w, w.status.pending.length ? { outcome: "planned" } : {})),
    };
  }
  const count = todo.reduce((n, w) => n + w.status.pending.length, 0);
  await confirmChange(
    ctx,
    env,
    `Apply ${count} migration${count === 1 ? "" : "s"} to ${todo.map((w) => w.target.databaseName).join(", ")} of ${service} in ${env}?`,
    options.yes,
  );

  const done: Array<{ w: (typeof work)[number]; backup: BackupEntry }> = [];
  const results = new Map<(typeof work)[number], DatabaseMigrateResult>();
  const stamp = backupTimestamp(ctx.clock.now());
  for (const w of todo) {
    const { target, status } = w;
    let databaseId = status.databaseId;
    if (!databaseId) {
      if (target.databaseId || !ctx.api.createD1Database)
        throw new LegoError({
          code: "ERR_DATABASE_NOT_FOUND",
          message: `D1 database ${target.databaseName} (binding ${target.binding} of ${service}, ${env}) does not exist in the target account`,
          hint: target.databaseId
            ? `The config names database_id ${target.databaseId}; fix it, or remove it and let Lego create the database.`
            : `Create it: wrangler d1 create ${target.databaseName}`,
          exitCode: 1,
          kind: "user",
        });
      databaseId = (await ctx.api.createD1Database(target.databaseName)).uuid;
      await ctx.emit("db.database.created", { service, env, database: target.databaseName, databaseId });
    }
    const backup = await createBackup(target, ctx, {
      reason: options.backupReason ?? "pre-migrate",
      stem: targets.length > 1 ? `${stamp}-${target.binding}` : stamp,
      keep: options.keep,
    });
    const pending = status.pending.map((p) => p.name);
    const base = { service, env, database: target.databaseName };
    if (pending.length > 0) {
      await ctx.emit("db.migrate.started", { ...base, pending, backup: backup.id });
      let failure: { error: unknown; code: string } | undefined;
      try {
        await ctx.wrangler.d1MigrationsApply(wranglerOptions(target, ctx));
      } catch (error) {
        failure = { error, code: "ERR_MIGRATION_FAILED" };
      }
      let appliedAfter: string[] | undefined;
      try {
        appliedAfter = (await readAppliedMigrations(ctx, databaseId, target.migrationsTable)).applied.map(
          (a) => a.name,
        );
      } catch (error) {
        failure ??= { error, code: "ERR_MIGRATION_UNVERIFIED" };
      }
      const missing = appliedAfter ? pending.filter((p) => !appliedAfter.includes(p)) : pending;
      if (!failure && missing.length > 0)
        failure = {
          error: new Error(
            `wrangler exited 0 but ${target.migrationsTable} does not list ${missing.join(", ")}`,
          ),
          code: "ERR_MIGRATION_UNVERIFIED",
        };
      if (failure) {
        const failedMigration = missing[0];
        const applied = pending.filter((p) => !missing.includes(p));
        await fail(ctx, { w, backup, failedMigration, applied, failure, done, service, env });
      }
    }
    const accepted = options.acceptDrift ? status.drift : [];
    await ctx.api.queryD1(
      databaseId,
      checksumRecordSql({
        now: new Date(ctx.clock.now()).toISOString(),
        fresh: [
          ...status.pending.map((p) => ({ name: p.name, sha256: p.sha256 })),
          ...accepted.flatMap((d) =>
            d.kind === "changed" && d.current ? [{ name: d.name, sha256: d.current }] : [],
          ),
        ],
        adopt: status.applied.flatMap((a) =>
          a.checksum === "untracked" && a.sha256 ? [{ name: a.name, sha256: a.sha256 }] : [],
        ),
        removed: accepted.filter((d) => d.kind === "missing-file").map((d) => d.name),
      }),
    );
    if (accepted.length > 0) await ctx.emit("db.drift.accepted", { ...base, entries: accepted });
    if (pending.length > 0)
      await ctx.emit("db.migrate.completed", { ...base, applied: pending, backup: backup.id });
    done.push({ w, backup });
    results.set(
      w,
      result(w, {
        databaseId,
        outcome: pending.length > 0 ? "applied" : "up-to-date",
        backup: backup.id,
        backupPath: backup.path,
        acceptedDrift: accepted,
      }),
    );
  }
  const databases = work.map((w) => results.get(w) ?? result(w, {}));
  return {
    service,
    env,
    outcome: databases.some((d) => d.outcome === "applied") ? "applied" : "up-to-date",
    databases,
  };
}

async function fail(
  ctx: ResolvedContext,
  input: {
    w: { target: D1Target; status: DatabaseStatus };
    backup: BackupEntry;
    failedMigration: string | undefined;
    applied: string[];
    failure: { error: unknown; code: string };
    done: Array<{ w: { target: D1Target }; backup: BackupEntry }>;
    service: string;
    env: string;
  },
): Promise<never> {
  const { w, backup, failedMigration, failure, service, env } = input;
  const target = w.target;
  const cause = describeFailure(failure.error);
  await ctx.emit("db.migrate.failed", {
    service,
    env,
    database: target.databaseName,
    ...(failedMigration ? { failedMigration } : {}),
    appliedBeforeFailure: input.applied,
    code: failure.code,
    error: cause,
    backup: backup.id,
  });
  const restores: RestoreResult[] = [];
  try {
    restores.push(
      await restoreBackup(target, backup, ctx, { safetyBackup: false, reason: "migration-failed" }),
    );
    for (const d of [...input.done].reverse())
      restores.push(
        await restoreBackup(d.w.target, d.backup, ctx, { safetyBackup: false, reason: "migration-failed" }),
      );
  } catch (restoreError) {
    throw new LegoError({
      code: "ERR_RESTORE_AFTER_FAILURE",
      message: `${failedMigration ? `Migration ${failedMigration}` : "Migrating"} failed on ${target.databaseName} (${service}, ${env}): ${cause}. Restoring the backup failed too: ${(restoreError as Error).message}`,
      hint: `Restore by hand: lego db restore ${service} --env ${env} --from ${backup.id} (the dump is ${backup.path}).`,
      exitCode: 1,
      kind: "system",
      cause: failure.error,
      details: {
        service,
        env,
        database: target.databaseName,
        failedMigration,
        backup: backup.id,
        restored: false,
      },
    });
  }
  const main = restores[0]!;
  const tables = Object.keys(main.rowCounts).length;
  throw new OperationError({
    code: failure.code,
    message: `${failedMigration ? `Migration ${failedMigration}` : "Migrating"} failed on ${target.databaseName} (${service}, ${env}): ${cause}. The data was restored from backup ${backup.id}${main.method === "bookmark" ? " (Time Travel bookmark)" : ""}; the row counts of all ${tables} tables match the backup.`,
    hint: `Fix the migration, then run: lego db migrate ${service} --env ${env}`,
    cause: failure.error,
    details: {
      service,
      env,
      database: target.databaseName,
      ...(failedMigration ? { failedMigration } : {}),
      appliedBeforeFailure: input.applied,
      backup: backup.id,
      backupPath: backup.path,
      restored: true,
      restores: restores.map((r) => ({
        database: r.database,
        backup: r.backup,
        method: r.method,
        rowCounts: r.rowCounts,
      })),
    },
  });
}
