import { LegoError } from "@lego/core";
import type { ResolvedContext } from "./context.ts";
import { compareMigrationNames, listMigrationFiles, type MigrationFile } from "./migrations.ts";
import type { D1Target } from "./ports.ts";
import { quoteIdentifier } from "./sql.ts";

/**
 * The table where Lego records the checksum of each migration file it applied, in the database
 * itself, beside wrangler's `d1_migrations`. It travels with the data: every machine and every CI
 * run sees it, a backup holds it and a restore brings it back in step with `d1_migrations`.
 */
export const CHECKSUM_TABLE = "lego_migration_checksums";

/** A row of the migrations table (`d1_migrations`). */
export interface AppliedMigration {
  id?: number | undefined;
  name: string;
  appliedAt?: string | undefined;
}

/** A row of {@link CHECKSUM_TABLE}: `sha256` null means "accepted as removed from the folder". */
export interface RecordedChecksum {
  name: string;
  sha256: string | null;
  adopted: boolean;
}

/** How an applied migration compares with its file. */
export type ChecksumState = "ok" | "changed" | "untracked" | "missing-file" | "removed";

/** An applied migration, as `status` reports it. */
export interface AppliedMigrationStatus {
  name: string;
  appliedAt?: string | undefined;
  /** `ok` same content as applied; `changed` drift; `untracked` applied without Lego (no checksum yet); `missing-file` drift; `removed` accepted removal. */
  checksum: ChecksumState;
  /** sha256 of the file as it is now, when it exists. */
  sha256?: string | undefined;
}

/** A migration in the folder that the database has not applied. */
export interface PendingMigration {
  name: string;
  sha256: string;
  /** It sorts before a migration that is already applied (added late): wrangler applies it anyway. */
  outOfOrder: boolean;
}

/** A disagreement between the folder and what the database applied; blocks `migrate` (exit 4). */
export interface DriftEntry {
  name: string;
  kind: "changed" | "missing-file";
  recorded?: string | undefined;
  current?: string | undefined;
}

/** The comparison of a migrations folder with a database's applied migrations. */
export interface MigrationPlan {
  applied: AppliedMigrationStatus[];
  pending: PendingMigration[];
  drift: DriftEntry[];
  warnings: string[];
}

/**
 * Compares the migration files with the applied migrations and the recorded checksums. Pure: the
 * same answer wrangler would give for "what is pending", plus drift.
 *
 * @example
 * planMigrations({ files, applied: [{ name: "0001_init.sql" }], checksums: [] }).pending
 */
export function planMigrations(input: {
  files: readonly MigrationFile[];
  applied: readonly AppliedMigration[];
  checksums: readonly RecordedChecksum[];
}): MigrationPlan {
  const byName = new Map(input.files.map((f) => [f.name, f]));
  const recorded = new Map(input.checksums.map((c) => [c.name, c]));
  const appliedNames = new Set(input.applied.map((a) => a.name));
  const applied: AppliedMigrationStatus[] = [];
  const drift: DriftEntry[] = [];
  const warnings: string[] = [];
  for (const a of input.applied) {
    const file = byName.get(a.name);
    const rec = recorded.get(a.name);
    let checksum: ChecksumState;
    if (!file) {
      if (rec && rec.sha256 === null) checksum = "removed";
      else {
        checksum = "missing-file";
        drift.push({ name: a.name, kind: "missing-file", recorded: rec?.sha256 ?? undefined });
      }
    } else if (!rec || rec.sha256 === null) checksum = "untracked";
    else if (rec.sha256 === file.sha256) checksum = "ok";
    else {
      checksum = "changed";
      drift.push({ name: a.name, kind: "changed", recorded: rec.sha256, current: file.sha256 });
    }
    applied.push({
      name: a.name,
      ...(a.appliedAt ? { appliedAt: a.appliedAt } : {}),
      checksum,
      ...(file ? { sha256: file.sha256 } : {}),
    });
  }
  const lastApplied = input.files.filter((f) => appliedNames.has(f.name)).at(-1);
  const pending: PendingMigration[] = [];
  for (const f of input.files) {
    if (appliedNames.has(f.name)) continue;
    const outOfOrder = lastApplied !== undefined && compareMigrationNames(f.name, lastApplied.name) < 0;
    if (outOfOrder)
      warnings.push(
        `${f.name} sorts before ${lastApplied.name}, which is already applied; it will be applied after it`,
      );
    pending.push({ name: f.name, sha256: f.sha256, outOfOrder });
  }
  return { applied, pending, drift, warnings };
}

/** Status of one D1 database of one service in one environment. */
export interface DatabaseStatus extends MigrationPlan {
  service: string;
  env: string;
  binding: string;
  databaseName: string;
  /** The database's id in the target; undefined when it does not exist yet. */
  databaseId?: string | undefined;
  /** False when the target has no such database yet (every migration is pending). */
  exists: boolean;
  migrationsDir: string;
  migrationsTable: string;
}

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Reads the applied migrations and recorded checksums of a database (missing tables read as empty). */
export async function readAppliedMigrations(
  ctx: Pick<ResolvedContext, "api">,
  databaseId: string,
  migrationsTable: string,
): Promise<{ applied: AppliedMigration[]; checksums: RecordedChecksum[] }> {
  const [tables] = await ctx.api.queryD1(
    databaseId,
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${literal(migrationsTable)}, ${literal(CHECKSUM_TABLE)})`,
  );
  const present = new Set((tables?.results ?? []).map((r) => String(r.name)));
  const applied: AppliedMigration[] = [];
  const checksums: RecordedChecksum[] = [];
  if (present.has(migrationsTable)) {
    const [rows] = await ctx.api.queryD1(
      databaseId,
      `SELECT * FROM ${quoteIdentifier(migrationsTable)} ORDER BY id`,
    );
    for (const r of rows?.results ?? [])
      applied.push({
        id: typeof r.id === "number" ? r.id : undefined,
        name: String(r.name),
        appliedAt: r.applied_at == null ? undefined : String(r.applied_at),
      });
  }
  if (present.has(CHECKSUM_TABLE)) {
    const [rows] = await ctx.api.queryD1(databaseId, `SELECT name, sha256, adopted FROM ${CHECKSUM_TABLE}`);
    for (const r of rows?.results ?? [])
      checksums.push({
        name: String(r.name),
        sha256: r.sha256 == null ? null : String(r.sha256),
        adopted: Boolean(r.adopted),
      });
  }
  return { applied, checksums };
}

/** The SQL that records checksums: `fresh` overwrite, `adopt` only fill gaps, `removed` accept deletions. */
export function checksumRecordSql(input: {
  now: string;
  fresh?: ReadonlyArray<{ name: string; sha256: string }>;
  adopt?: ReadonlyArray<{ name: string; sha256: string }>;
  removed?: readonly string[];
}): string {
  const parts = [
    `CREATE TABLE IF NOT EXISTS ${CHECKSUM_TABLE} (name TEXT PRIMARY KEY, sha256 TEXT, recorded_at TEXT NOT NULL, adopted INTEGER NOT NULL DEFAULT 0)`,
  ];
  const row = (name: string, sha: string | null, adopted: number) =>
    `(${literal(name)}, ${sha === null ? "NULL" : literal(sha)}, ${literal(input.now)}, ${adopted})`;
  const cols = `${CHECKSUM_TABLE} (name, sha256, recorded_at, adopted)`;
  if (input.fresh?.length)
    parts.push(
      `INSERT OR REPLACE INTO ${cols} VALUES ${input.fresh.map((f) => row(f.name, f.sha256, 0)).join(", ")}`,
    );
  if (input.adopt?.length)
    parts.push(
      `INSERT OR IGNORE INTO ${cols} VALUES ${input.adopt.map((f) => row(f.name, f.sha256, 1)).join(", ")}`,
    );
  if (input.removed?.length)
    parts.push(
      `INSERT OR REPLACE INTO ${cols} VALUES ${input.removed.map((n) => row(n, null, 0)).join(", ")}`,
    );
  return `${parts.join(";\n")};`;
}

/** Resolves a target's database in the account: its id, or undefined when it does not exist. */
export async function resolveDatabaseId(
  ctx: Pick<ResolvedContext, "api">,
  target: Pick<D1Target, "databaseId" | "databaseName">,
): Promise<string | undefined> {
  const found = await ctx.api.getD1Database(target.databaseId ?? target.databaseName);
  if (!found && target.databaseId) {
    // A database_id that is not in the account: also try the name (a recreated database).
    const byName = await ctx.api.getD1Database(target.databaseName);
    return byName?.uuid;
  }
  return found?.uuid;
}

/** Like {@link resolveDatabaseId}, but a missing database is an error naming the service and env. */
export async function requireDatabaseId(
  ctx: Pick<ResolvedContext, "api">,
  target: Pick<D1Target, "databaseId" | "databaseName" | "service" | "env" | "binding">,
): Promise<string> {
  const id = await resolveDatabaseId(ctx, target);
  if (!id)
    throw new LegoError({
      code: "ERR_DATABASE_NOT_FOUND",
      message: `D1 database ${target.databaseName} (binding ${target.binding} of ${target.service}, ${target.env}) does not exist in the target account`,
      hint: `Deploy the service once (wrangler creates the database), or create it: wrangler d1 create ${target.databaseName}`,
      exitCode: 1,
      kind: "user",
      details: { service: target.service, env: target.env, database: target.databaseName },
    });
  return id;
}

/** Reads the status of one D1 target: the folder, the database's migrations table, and the checksums. */
export async function readDatabaseStatus(
  ctx: Pick<ResolvedContext, "api">,
  target: D1Target,
): Promise<DatabaseStatus> {
  const { exists: dirExists, files } = await listMigrationFiles(target);
  const databaseId = await resolveDatabaseId(ctx, target);
  const { applied, checksums } = databaseId
    ? await readAppliedMigrations(ctx, databaseId, target.migrationsTable)
    : { applied: [], checksums: [] };
  const plan = planMigrations({ files, applied, checksums });
  if (!dirExists) plan.warnings.unshift(`no migrations folder at ${target.migrationsDir}`);
  if (!databaseId) plan.warnings.unshift(`database ${target.databaseName} does not exist yet`);
  return {
    service: target.service,
    env: target.env,
    binding: target.binding,
    databaseName: target.databaseName,
    ...(databaseId ? { databaseId } : {}),
    exists: databaseId !== undefined,
    migrationsDir: target.migrationsDir,
    migrationsTable: target.migrationsTable,
    ...plan,
  };
}
