import { join } from "node:path";
import { ConflictError, LegoError, OperationError } from "@lego/core";
import { type BackupEntry, type BackupReason, backupTimestamp, createBackup } from "./backup.ts";
import { breakingMigrationError, findBreakingMigrations } from "./compat.ts";
import { type DatabaseContext, type ResolvedContext, resolveContext } from "./context.ts";
import type { D1Target } from "./ports.ts";
import {
  type DatabaseFingerprint,
  type RestoreResult,
  readDatabaseFingerprint,
  restoreBackup,
  sameFingerprint,
} from "./restore.ts";
import { retryTransient } from "./retry.ts";
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
  /**
   * Refuse (exit 2, `ERR_MIGRATION_NOT_BACKWARD_COMPATIBLE`) before any change when a pending migration
   * drops or renames a table or column, saying why the old shape must stay, e.g. "during a canary
   * deploy". Used while two Worker versions serve; `--force` leaves it unset.
   */
  refuseBreaking?: string | undefined;
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
  if (options.refuseBreaking) {
    for (const w of todo) {
      const found = await findBreakingMigrations(
        w.status.pending.map((p) => ({ name: p.name, path: join(w.target.migrationsDir, p.name) })),
      );
      if (found.length > 0)
        throw breakingMigrationError(found, {
          service,
          env,
          database: w.target.databaseName,
          why: options.refuseBreaking,
        });
    }
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
      try {
        databaseId = (await ctx.api.createD1Database(target.databaseName)).uuid;
      } catch (error) {
        // A create is not retried after a 5xx (it may have happened): read back whether it did.
        const found = await ctx.api.getD1Database(target.databaseName).catch(() => undefined);
        if (!found) throw error;
        databaseId = found.uuid;
      }
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
      // What the database holds just before the apply: a failure is compared with it, and restored only
      // when something changed.
      const before = await readDatabaseFingerprint(ctx, databaseId);
      let wranglerError: unknown;
      try {
        // Safe to repeat: wrangler applies only what d1_migrations does not list yet, and each file
        // (with its d1_migrations insert) is one query that applies whole or not at all.
        await retryTransient(() => ctx.wrangler.d1MigrationsApply(wranglerOptions(target, ctx)), {
          clock: ctx.clock,
          logger: ctx.logger,
          signal: ctx.signal,
          attempts: 3,
          label: `wrangler d1 migrations apply ${target.databaseName}`,
        });
      } catch (error) {
        wranglerError = error;
      }
      let appliedAfter: string[];
      let after: DatabaseFingerprint | undefined;
      try {
        appliedAfter = (await readAppliedMigrations(ctx, databaseId, target.migrationsTable)).applied.map(
          (a) => a.name,
        );
        const missing = pending.filter((p) => !appliedAfter.includes(p));
        if (missing.length > 0) after = await readDatabaseFingerprint(ctx, databaseId);
      } catch (readError) {
        await unknownState(ctx, { target, backup, pending, wranglerError, readError, done, service, env });
      }
      const missing = pending.filter((p) => !appliedAfter!.includes(p));
      if (missing.length === 0 && wranglerError)
        // Every migration is in d1_migrations: they applied, whatever wrangler's exit said (a response lost
        // after the last query, say). The cloud is the record.
        ctx.logger.warn(
          `wrangler d1 migrations apply ${target.databaseName} failed (${describeFailure(wranglerError)}), but ${target.migrationsTable} lists every migration: applied`,
        );
      if (missing.length > 0) {
        const failure = wranglerError
          ? { error: wranglerError, code: "ERR_MIGRATION_FAILED" }
          : {
              error: new Error(
                `wrangler exited 0 but ${target.migrationsTable} does not list ${missing.join(", ")}`,
              ),
              code: "ERR_MIGRATION_UNVERIFIED",
            };
        const appliedBefore = status.applied.map((a) => a.name);
        const unchanged =
          appliedAfter!.join("\n") === appliedBefore.join("\n") && sameFingerprint(before, after!);
        const failedMigration = missing[0];
        const applied = pending.filter((p) => !missing.includes(p));
        await fail(ctx, { w, backup, failedMigration, applied, failure, done, service, env, unchanged });
      }
    }
    const accepted = options.acceptDrift ? status.drift : [];
    const checksums = checksumRecordSql({
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
    });
    const warnings: string[] = [];
    try {
      // INSERT OR REPLACE / OR IGNORE of fixed values: safe to send twice, so retried on 5xx too.
      await ctx.api.queryD1(databaseId, checksums, undefined, { idempotent: true });
    } catch (error) {
      // The migrations are applied (d1_migrations says so): a lost checksum is not worth failing the run
      // over; the next migrate adopts them as untracked.
      if (pending.length === 0 && accepted.length > 0) throw error;
      warnings.push(
        `the checksums of ${pending.join(", ")} were not recorded (${describeFailure(error)}); the next migrate adopts them`,
      );
      ctx.logger.warn(warnings.at(-1)!);
    }
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
        warnings: [...w.status.warnings, ...warnings],
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
    /** d1_migrations, the schema and every row count are as before the apply: nothing to restore here. */
    unchanged: boolean;
  },
): Promise<never> {
  const { w, backup, failedMigration, failure, service, env, unchanged } = input;
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
    state: unchanged ? "unchanged" : "changed",
  });
  const restores: RestoreResult[] = [];
  try {
    if (!unchanged)
      restores.push(
        await restoreBackup(target, backup, ctx, { safetyBackup: false, reason: "migration-failed" }),
      );
    for (const d of [...input.done].reverse())
      restores.push(
        await restoreBackup(d.w.target, d.backup, ctx, { safetyBackup: false, reason: "migration-failed" }),
      );
  } catch (restoreError) {
    const details = (restoreError as LegoError).details ?? {};
    const command =
      typeof details.command === "string"
        ? details.command
        : `lego db restore ${service} --env ${env} --from ${backup.id}`;
    throw new LegoError({
      code: "ERR_RESTORE_AFTER_FAILURE",
      message: `${failedMigration ? `Migration ${failedMigration}` : "Migrating"} failed on ${target.databaseName} (${service}, ${env}): ${cause}. Restoring the backup failed too: ${(restoreError as Error).message}`,
      hint: `Finish the restore with: ${command} (the dump is ${backup.path}).`,
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
        state: typeof details.state === "string" ? details.state : undefined,
        command,
        restoreError: (restoreError as Error).message,
      },
    });
  }
  const main = restores[0];
  const tables = main ? Object.keys(main.rowCounts).length : 0;
  const outcome = main
    ? `The data was restored from backup ${backup.id}${main.method === "bookmark" ? " (Time Travel bookmark)" : ""}; the row counts of all ${tables} tables match the backup.`
    : `Nothing of it was applied: ${target.migrationsTable}, the schema and every table's row count are as before, so the data was left as it was (no restore needed)${restores.length > 0 ? `; the databases migrated before it in this run were restored from their backups` : ""}.`;
  throw new OperationError({
    code: failure.code,
    message: `${failedMigration ? `Migration ${failedMigration}` : "Migrating"} failed on ${target.databaseName} (${service}, ${env}): ${cause}. ${outcome}`,
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
      restored: main !== undefined,
      state: unchanged ? "unchanged" : "restored",
      restores: restores.map((r) => ({
        database: r.database,
        backup: r.backup,
        method: r.method,
        rowCounts: r.rowCounts,
      })),
    },
  });
}

/**
 * A migration failed and the database could not be read back (after the client's retries) to tell
 * whether it changed anything. Nothing is dropped or restored blind: the error says so and names the
 * one command that puts the database back to the backup.
 */
async function unknownState(
  ctx: ResolvedContext,
  input: {
    target: D1Target;
    backup: BackupEntry;
    pending: string[];
    wranglerError: unknown;
    readError: unknown;
    done: Array<{ w: { target: D1Target }; backup: BackupEntry }>;
    service: string;
    env: string;
  },
): Promise<never> {
  const { target, backup, service, env } = input;
  const command = `lego db restore ${service} --env ${env} --from ${backup.id}`;
  const why = input.wranglerError ? describeFailure(input.wranglerError) : "wrangler exited 0";
  await ctx.emit("db.migrate.failed", {
    service,
    env,
    database: target.databaseName,
    code: "ERR_MIGRATION_STATE_UNKNOWN",
    error: why,
    backup: backup.id,
    state: "unknown",
  });
  throw new LegoError({
    code: "ERR_MIGRATION_STATE_UNKNOWN",
    message: `Migrating ${target.databaseName} (${service}, ${env}) ended in doubt (${why}) and the database could not be read back: ${describeFailure(input.readError)}. Nothing was dropped or restored: it holds either what it held before or some of ${input.pending.join(", ")} (each migration applies whole or not at all).`,
    hint: `When the target answers again, see which with: lego db status ${service} --env ${env}; to put the data back as before the migration: ${command}`,
    exitCode: 1,
    kind: "system",
    cause: input.readError,
    details: {
      service,
      env,
      database: target.databaseName,
      pending: input.pending,
      backup: backup.id,
      backupPath: backup.path,
      restored: false,
      state: "unknown",
      command,
      migratedEarlierInRun: input.done.map((d) => d.w.target.databaseName),
    },
  });
}
