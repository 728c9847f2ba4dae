import { LegoError } from "@lego/core";
import { type BackupEntry, createBackup, verifyBackupFile } from "./backup.ts";
import { type DatabaseContext, type ResolvedContext, resolveContext } from "./context.ts";
import type { D1Target } from "./ports.ts";
import { isInternalTable, quoteIdentifier } from "./sql.ts";
import { readAppliedMigrations, requireDatabaseId } from "./status.ts";

/** A user object of a database (table, view or trigger), with the tables a table references. */
interface SchemaObject {
  type: string;
  name: string;
  sql: string;
}

async function readUserObjects(
  ctx: Pick<ResolvedContext, "api">,
  databaseId: string,
): Promise<SchemaObject[]> {
  const [res] = await ctx.api.queryD1(
    databaseId,
    "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') AND substr(name, 1, 7) <> 'sqlite_' AND substr(name, 1, 4) <> '_cf_'",
  );
  return (res?.results ?? [])
    .map((r) => ({ type: String(r.type), name: String(r.name), sql: String(r.sql ?? "") }))
    .filter((o) => !isInternalTable(o.name));
}

/**
 * The statements that empty a database of user objects: views and triggers, then tables with the ones
 * that reference others first, so no foreign key ever points at a dropped parent.
 */
export function dropUserObjectsSql(
  objects: ReadonlyArray<{ type: string; name: string; sql: string }>,
): string {
  const tables = objects.filter((o) => o.type === "table");
  const lower = new Map(tables.map((t) => [t.name.toLowerCase(), t.name]));
  const refs = new Map<string, Set<string>>();
  for (const t of tables) {
    const set = new Set<string>();
    for (const m of t.sql.matchAll(/\bREFERENCES\s+(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|([\w$]+))/gi)) {
      const name = (m[1]?.replaceAll('""', '"') ?? m[2] ?? m[3] ?? m[4] ?? "").toLowerCase();
      const real = lower.get(name);
      if (real && real !== t.name) set.add(real);
    }
    refs.set(t.name, set);
  }
  // Children before parents: repeatedly take a table no remaining table references.
  const order: string[] = [];
  const left = new Set(tables.map((t) => t.name));
  while (left.size > 0) {
    const free = [...left].filter((t) => ![...left].some((o) => o !== t && refs.get(o)?.has(t)));
    const pick = free.length > 0 ? free : [...left]; // a cycle: rely on deferred foreign keys
    for (const t of pick) {
      order.push(t);
      left.delete(t);
    }
  }
  const stmts = ["PRAGMA defer_foreign_keys = on"];
  for (const o of objects)
    if (o.type === "view") stmts.push(`DROP VIEW IF EXISTS ${quoteIdentifier(o.name)}`);
  for (const o of objects)
    if (o.type === "trigger") stmts.push(`DROP TRIGGER IF EXISTS ${quoteIdentifier(o.name)}`);
  for (const t of order) stmts.push(`DROP TABLE IF EXISTS ${quoteIdentifier(t)}`);
  return `${stmts.join(";\n")};`;
}

/** Rows per user table of a live database. */
export async function readTableCounts(
  ctx: Pick<ResolvedContext, "api">,
  databaseId: string,
): Promise<Record<string, number>> {
  const tables = (await readUserObjects(ctx, databaseId))
    .filter((o) => o.type === "table")
    .map((o) => o.name);
  const counts: Record<string, number> = {};
  // SQLite caps a compound SELECT at 500 terms.
  for (let i = 0; i < tables.length; i += 200) {
    const chunk = tables.slice(i, i + 200);
    const sql = chunk
      .map((t) => `SELECT '${t.replaceAll("'", "''")}' AS t, COUNT(*) AS n FROM ${quoteIdentifier(t)}`)
      .join(" UNION ALL ");
    const [res] = await ctx.api.queryD1(databaseId, sql);
    for (const r of res?.results ?? []) counts[String(r.t)] = Number(r.n);
  }
  return counts;
}

/** A difference between a database and a backup. */
export interface CountMismatch {
  table: string;
  expected?: number | undefined;
  actual?: number | undefined;
}

/** Compares live row counts with a backup's (table names compared as SQLite does, ignoring case). */
export function compareRowCounts(
  expected: Record<string, number>,
  actual: Record<string, number>,
  uncounted: readonly string[] = [],
): CountMismatch[] {
  const skip = new Set(uncounted.map((t) => t.toLowerCase()));
  const live = new Map(Object.entries(actual).map(([k, v]) => [k.toLowerCase(), { name: k, n: v }]));
  const out: CountMismatch[] = [];
  for (const [table, n] of Object.entries(expected)) {
    const got = live.get(table.toLowerCase());
    live.delete(table.toLowerCase());
    if (skip.has(table.toLowerCase()) && got) continue;
    if (!got || got.n !== n) out.push({ table, expected: n, actual: got?.n });
  }
  for (const { name, n } of live.values()) out.push({ table: name, actual: n });
  return out;
}

/** What a verified restore did. */
export interface RestoreResult {
  service: string;
  env: string;
  database: string;
  databaseId: string;
  /** The backup restored. */
  backup: string;
  /** `file`: the dump was re-imported; `bookmark`: Time Travel restored the bookmark. */
  method: "file" | "bookmark";
  /** Verified rows per table (equal to the backup's). */
  rowCounts: Record<string, number>;
  /** The backup taken just before a manual restore, to undo it. */
  safetyBackup?: string | undefined;
}

/** Options of {@link restoreBackup}. */
export interface RestoreOptions {
  /** Take a `pre-restore` backup first so the restore can be undone. Default true. */
  safetyBackup?: boolean | undefined;
  /** Why (recorded in the audit log): `manual`, `migration-failed`, `worker-failed`, `sync-failed`. */
  reason?: string | undefined;
}

async function verifyRestored(
  ctx: ResolvedContext,
  databaseId: string,
  target: D1Target,
  backup: BackupEntry,
): Promise<{ counts: Record<string, number>; mismatches: CountMismatch[]; migrations: string[] }> {
  const counts = await readTableCounts(ctx, databaseId);
  const mismatches = compareRowCounts(backup.rowCounts, counts, backup.uncounted);
  const { applied } = await readAppliedMigrations(ctx, databaseId, target.migrationsTable);
  const migrations = applied.map((a) => a.name);
  if (migrations.join("\n") !== backup.migrations.join("\n"))
    mismatches.push({
      table: target.migrationsTable,
      expected: backup.migrations.length,
      actual: migrations.length,
    });
  return { counts, mismatches, migrations };
}

/**
 * Restores one D1 database from a backup and proves it: checks the dump's sha256, drops every user
 * table, view and trigger, re-imports the dump (`wrangler d1 execute --remote --file`), then compares
 * each table's row count and the applied migrations with the backup. If that fails and the backup has
 * a Time Travel bookmark (and the runner can restore one), it restores the bookmark and verifies again.
 * Emits `db.restore.started`, then `db.restore.verified` or `db.restore.failed`.
 */
export async function restoreBackup(
  target: D1Target,
  backup: BackupEntry,
  context: DatabaseContext | ResolvedContext,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const ctx = resolveContext(context);
  if (backup.service !== target.service || backup.env !== target.env || backup.binding !== target.binding)
    throw new LegoError({
      code: "ERR_DATABASE_USAGE",
      message: `Backup ${backup.id} belongs to ${backup.service} (${backup.env}, ${backup.binding}), not ${target.service} (${target.env}, ${target.binding})`,
      hint: "Restore a backup of the same service, environment and binding.",
      exitCode: 2,
    });
  await verifyBackupFile(backup);
  const databaseId = await requireDatabaseId(ctx, target);
  const base = { service: target.service, env: target.env, database: target.databaseName, backup: backup.id };
  let safety: string | undefined;
  if (options.safetyBackup ?? true) safety = (await createBackup(target, ctx, { reason: "pre-restore" })).id;
  await ctx.emit("db.restore.started", {
    ...base,
    reason: options.reason ?? "manual",
    ...(safety ? { safetyBackup: safety } : {}),
  });
  const wranglerOptions = {
    cwd: target.serviceDir,
    configPath: target.configPath,
    database: target.databaseName,
    env: target.wranglerEnv,
    signal: ctx.signal,
  };
  let problem: string;
  let mismatches: CountMismatch[] = [];
  try {
    await ctx.api.queryD1(databaseId, dropUserObjectsSql(await readUserObjects(ctx, databaseId)));
    if (Object.keys(backup.rowCounts).length > 0)
      await ctx.wrangler.d1Execute({ ...wranglerOptions, file: backup.path });
    const v = await verifyRestored(ctx, databaseId, target, backup);
    if (v.mismatches.length === 0) {
      await ctx.emit("db.restore.verified", {
        ...base,
        method: "file",
        tables: Object.keys(v.counts).length,
        rowCounts: v.counts,
      });
      return {
        ...base,
        databaseId,
        method: "file",
        rowCounts: v.counts,
        ...(safety ? { safetyBackup: safety } : {}),
      };
    }
    mismatches = v.mismatches;
    problem = `the restored database does not match the backup (${describeMismatches(mismatches)})`;
  } catch (error) {
    problem = (error as Error).message;
  }
  if (backup.bookmark && ctx.wrangler.d1TimeTravelRestore) {
    ctx.logger.warn(
      `restoring ${target.databaseName} from its dump failed (${problem}); trying Time Travel bookmark`,
    );
    try {
      await ctx.wrangler.d1TimeTravelRestore({ ...wranglerOptions, bookmark: backup.bookmark });
      const v = await verifyRestored(ctx, databaseId, target, backup);
      if (v.mismatches.length === 0) {
        await ctx.emit("db.restore.verified", {
          ...base,
          method: "bookmark",
          tables: Object.keys(v.counts).length,
          rowCounts: v.counts,
        });
        return {
          ...base,
          databaseId,
          method: "bookmark",
          rowCounts: v.counts,
          ...(safety ? { safetyBackup: safety } : {}),
        };
      }
      mismatches = v.mismatches;
      problem = `after the Time Travel restore the database still does not match (${describeMismatches(mismatches)})`;
    } catch (error) {
      problem = `${problem}; the Time Travel restore failed too: ${(error as Error).message}`;
    }
  }
  await ctx.emit("db.restore.failed", { ...base, problem, mismatches });
  throw new LegoError({
    code: "ERR_RESTORE_FAILED",
    message: `Restoring ${target.databaseName} of ${target.service} (${target.env}) from backup ${backup.id} failed: ${problem}`,
    hint: `The dump is intact at ${backup.path}; retry with: lego db restore ${target.service} --env ${target.env} --from ${backup.id}`,
    exitCode: 1,
    details: { ...base, mismatches },
  });
}

function describeMismatches(m: readonly CountMismatch[]): string {
  return m
    .slice(0, 5)
    .map((x) =>
      x.expected === undefined
        ? `${x.table}: not in the backup`
        : x.actual === undefined
          ? `${x.table}: missing`
          : `${x.table}: ${x.actual} rows, backup has ${x.expected}`,
    )
    .concat(m.length > 5 ? [`${m.length - 5} more`] : [])
    .join("; ");
}
