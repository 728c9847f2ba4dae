import { readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { LegoError } from "@lego/core";
import { type BackupEntry, createBackup, verifyBackupFile } from "./backup.ts";
import { type DatabaseContext, type ResolvedContext, resolveContext } from "./context.ts";
import type { D1Target } from "./ports.ts";
import { retryTransient } from "./retry.ts";
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

/** The most terms D1 takes in one compound SELECT. */
const COMPOUND_TERMS = 5;

/** Rows per user table of a live database. */
export async function readTableCounts(
  ctx: Pick<ResolvedContext, "api">,
  databaseId: string,
): Promise<Record<string, number>> {
  const tables = (await readUserObjects(ctx, databaseId))
    .filter((o) => o.type === "table")
    .map((o) => o.name);
  const counts: Record<string, number> = {};
  // D1's SQLite (workerd's build) caps a compound SELECT at 5 terms (plain SQLite: 500); 6 fails with
  // "too many terms in compound SELECT".
  for (let i = 0; i < tables.length; i += COMPOUND_TERMS) {
    const chunk = tables.slice(i, i + COMPOUND_TERMS);
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
  /** `bookmark`: Time Travel restored the backup's bookmark; `file`: the dump was re-imported (no bookmark). */
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

/** What a database holds, enough to tell whether a failed migration changed anything. */
export interface DatabaseFingerprint {
  /** Every user table, view, trigger and index: `type name sql`, sorted. */
  objects: string[];
  /** Rows per user table. */
  counts: Record<string, number>;
}

/** Reads a database's {@link DatabaseFingerprint} (reads only: retried by the API client). */
export async function readDatabaseFingerprint(
  ctx: Pick<ResolvedContext, "api">,
  databaseId: string,
): Promise<DatabaseFingerprint> {
  const [res] = await ctx.api.queryD1(
    databaseId,
    "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view', 'trigger', 'index') AND substr(name, 1, 7) <> 'sqlite_' AND substr(name, 1, 4) <> '_cf_'",
  );
  const rows = (res?.results ?? [])
    .map((r) => ({ type: String(r.type), name: String(r.name), sql: String(r.sql ?? "") }))
    .filter((o) => !isInternalTable(o.name));
  const counts = await readTableCounts(ctx, databaseId);
  return { objects: rows.map((o) => `${o.type}\u0000${o.name}\u0000${o.sql}`).sort(), counts };
}

/** True when two fingerprints describe the same schema and the same row count in every table. */
export function sameFingerprint(a: DatabaseFingerprint, b: DatabaseFingerprint): boolean {
  return a.objects.join("\n") === b.objects.join("\n") && compareRowCounts(a.counts, b.counts).length === 0;
}

/**
 * Restores one D1 database from a backup and proves it, without ever dropping live tables before the
 * replacement is in:
 * - **Time Travel** (the backup recorded a bookmark: Cloudflare always, the local cloud too): the
 *   database goes back to the bookmark in one atomic step (`restoreD1Bookmark` through the API, else
 *   `wrangler d1 time-travel restore`), retried on transient failures (restoring the same bookmark
 *   twice ends in the same state).
 * - **The dump** (a target without Time Travel): one file, the `DROP`s of what is there followed by the
 *   dump, imported in one `wrangler d1 execute --file`, which the target ingests as one batch (one
 *   transaction on the local cloud: a failure changes nothing). Retried, recomputing the drops each time.
 *
 * Then it compares each table's row count and the applied migrations with the backup. When it cannot
 * finish, it throws `ERR_RESTORE_FAILED` whose `details.state` says what the database holds and whose
 * hint is the one command that finishes the restore. Emits `db.restore.started`, then
 * `db.restore.verified` or `db.restore.failed`.
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
  const wranglerOptions = {
    cwd: target.serviceDir,
    configPath: target.configPath,
    database: target.databaseName,
    env: target.wranglerEnv,
    signal: ctx.signal,
  };
  const bookmark = backup.bookmark;
  const timeTravel =
    bookmark && (ctx.api.restoreD1Bookmark || ctx.wrangler.d1TimeTravelRestore) ? bookmark : undefined;
  const method: RestoreResult["method"] = timeTravel ? "bookmark" : "file";
  await ctx.emit("db.restore.started", {
    ...base,
    method,
    reason: options.reason ?? "manual",
    ...(safety ? { safetyBackup: safety } : {}),
  });
  const command = `lego db restore ${target.service} --env ${target.env} --from ${backup.id}`;
  const retry = { clock: ctx.clock, logger: ctx.logger, signal: ctx.signal };
  const failed = async (
    problem: string,
    state: string,
    cause?: unknown,
    mismatches: CountMismatch[] = [],
  ) => {
    await ctx.emit("db.restore.failed", { ...base, method, problem, state, mismatches });
    return new LegoError({
      code: "ERR_RESTORE_FAILED",
      message: `Restoring ${target.databaseName} of ${target.service} (${target.env}) from backup ${backup.id} failed: ${problem}. ${state}`,
      hint: `Finish it with: ${command} (the dump is intact at ${backup.path}).`,
      exitCode: 1,
      ...(cause ? { cause } : {}),
      details: { ...base, method, state, command, mismatches },
    });
  };

  if (timeTravel) {
    try {
      await retryTransient(
        () =>
          ctx.api.restoreD1Bookmark
            ? ctx.api.restoreD1Bookmark(databaseId, timeTravel)
            : ctx.wrangler.d1TimeTravelRestore!({ ...wranglerOptions, bookmark: timeTravel }),
        { ...retry, label: `Time Travel restore of ${target.databaseName}` },
      );
    } catch (error) {
      throw await failed(
        `the Time Travel restore to bookmark ${timeTravel} failed: ${(error as Error).message.split("\n")[0]}`,
        "Nothing was dropped: a Time Travel restore is all or nothing, so the database holds either what it held before the restore or the whole backup.",
        error,
      );
    }
  } else {
    const dump = await readFile(backup.path, "utf8");
    const file = join(dirname(backup.path), `.${backup.id}.restore.sql`);
    try {
      await retryTransient(
        async () => {
          // Recomputed per attempt: what is there now is what the file must drop.
          const objects = await readUserObjects(ctx, databaseId);
          if (objects.length === 0 && Object.keys(backup.rowCounts).length === 0) return;
          await writeFile(file, `${dropUserObjectsSql(objects)}\n${dump}`, { mode: 0o600 });
          await ctx.wrangler.d1Execute({ ...wranglerOptions, file });
        },
        { ...retry, label: `re-importing ${backup.file} into ${target.databaseName}` },
      );
    } catch (error) {
      throw await failed(
        `re-importing the dump failed: ${(error as Error).message.split("\n")[0]}`,
        "The drops and the dump travel in one import, which the target runs as one transaction: the database holds what it held before the restore.",
        error,
      );
    } finally {
      await rm(file, { force: true });
    }
  }
  let v: Awaited<ReturnType<typeof verifyRestored>>;
  try {
    v = await verifyRestored(ctx, databaseId, target, backup);
  } catch (error) {
    throw await failed(
      `the restored database could not be read back: ${(error as Error).message.split("\n")[0]}`,
      "The restore itself finished; only its check did not.",
      error,
    );
  }
  if (v.mismatches.length > 0)
    throw await failed(
      `the restored database does not match the backup (${describeMismatches(v.mismatches)})`,
      method === "bookmark"
        ? `The database is at the Time Travel bookmark ${timeTravel}, taken just before the dump: rows written between the two differ.`
        : "The database holds the re-imported dump, which does not count the same rows as when it was taken.",
      undefined,
      v.mismatches,
    );
  await ctx.emit("db.restore.verified", {
    ...base,
    method,
    tables: Object.keys(v.counts).length,
    rowCounts: v.counts,
  });
  return {
    ...base,
    databaseId,
    method,
    rowCounts: v.counts,
    ...(safety ? { safetyBackup: safety } : {}),
  };
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
