import { createHash } from "node:crypto";
import { access, chmod, mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, isAbsolute, join, resolve } from "node:path";
import { LegoError, PRIVATE_FILE, portfolioStateDir, readJsonFile, writeJsonAtomic } from "@lego/core";
// zod/mini: the same checks, tree-shakable (the lego CLI loads this module on every deploy).
import * as z from "zod/mini";
import { type DatabaseContext, type ResolvedContext, resolveContext } from "./context.ts";
import type { D1Target } from "./ports.ts";
import { retryTransient } from "./retry.ts";
import { summarizeDump } from "./sql.ts";
import { readAppliedMigrations, requireDatabaseId } from "./status.ts";

/** Why a backup was taken. */
export type BackupReason = "manual" | "pre-migrate" | "pre-restore" | "pre-deploy";

/** The sidecar `<stem>.json` written beside every `<stem>.sql`; written last, so its presence marks a complete backup. */
export const backupManifestSchema = z.object({
  version: z.literal(1),
  /** The file stem, unique per service and environment: `2026-11-25T04-37-00-123Z` (`…-<binding>` with several databases). */
  id: z.string(),
  service: z.string(),
  env: z.string(),
  binding: z.string(),
  databaseName: z.string(),
  databaseId: z.string(),
  /** The dump's file name, beside the manifest. */
  file: z.string(),
  createdAt: z.string(),
  bytes: z.int(),
  /** sha256 (hex) of the dump file; checked before every restore. */
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  /** Rows per user table, counted from the dump; a restore must reproduce them. */
  rowCounts: z.record(z.string(), z.int()),
  /** Tables whose rows the dump inserts with `INSERT … SELECT` (not countable from the text). */
  uncounted: z._default(z.array(z.string()), []),
  /** The migrations the database had applied when the backup was taken. */
  migrations: z.array(z.string()),
  /** The Time Travel bookmark of the database just before the export, when the target has one. */
  bookmark: z.optional(z.string()),
  reason: z.enum(["manual", "pre-migrate", "pre-restore", "pre-deploy"]),
  runId: z.optional(z.string()),
  target: z.optional(z.string()),
});
/** A backup's manifest. */
export type BackupManifest = z.infer<typeof backupManifestSchema>;

/** A backup found on disk: its manifest and where its files are. */
export interface BackupEntry extends BackupManifest {
  /** Absolute path of the `.sql` dump. */
  path: string;
  /** Absolute path of the manifest. */
  manifestPath: string;
}

/** `<root>/.lego/backups`, or one service's / environment's folder below it. */
export function backupsDir(root: string, service?: string, env?: string): string {
  const base = join(portfolioStateDir(root), "backups");
  if (service === undefined) return base;
  return env === undefined ? join(base, service) : join(base, service, env);
}

/** A file-name-safe timestamp that sorts by time: `2026-11-25T04-37-00-123Z`. */
export function backupTimestamp(ms: number): string {
  return new Date(ms).toISOString().replaceAll(":", "-").replace(".", "-");
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** sha256 (hex) of a file. */
export async function sha256File(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

async function readManifest(path: string): Promise<BackupManifest | undefined> {
  const raw = await readJsonFile(path).catch(() => undefined);
  const parsed = backupManifestSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Lists backups, newest first, optionally for one service (and environment, and binding). A `.sql`
 * without a valid manifest is an interrupted backup and is not listed.
 */
export async function listBackups(
  root: string,
  filter: { service?: string | undefined; env?: string | undefined; binding?: string | undefined } = {},
): Promise<BackupEntry[]> {
  const base = backupsDir(root);
  const dirsOf = async (dir: string) =>
    (await readdir(dir, { withFileTypes: true }).catch(() => []))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  const services = filter.service !== undefined ? [filter.service] : await dirsOf(base);
  const out: BackupEntry[] = [];
  for (const service of services) {
    const envs = filter.env !== undefined ? [filter.env] : await dirsOf(join(base, service));
    for (const env of envs) {
      const dir = join(base, service, env);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        if (!name.endsWith(".json") || name.startsWith(".")) continue;
        const manifestPath = join(dir, name);
        const m = await readManifest(manifestPath);
        if (!m || m.service !== service || m.env !== env) continue;
        if (filter.binding !== undefined && m.binding !== filter.binding) continue;
        out.push({ ...m, path: join(dir, m.file), manifestPath });
      }
    }
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/**
 * Finds one backup of a service and environment by what a user types after `--from`: its id
 * (`2026-11-25T04-37-00-123Z`; with several databases, the shared timestamp matches `<id>-<binding>`),
 * its file name, a path to its `.sql` or manifest, or `latest`.
 */
export async function findBackup(
  root: string,
  query: { service: string; env: string; binding?: string | undefined; from: string },
): Promise<BackupEntry> {
  const all = await listBackups(root, { service: query.service, env: query.env, binding: query.binding });
  let match: BackupEntry | undefined;
  if (query.from === "latest") match = all[0];
  else {
    const abs = isAbsolute(query.from) ? query.from : resolve(root, query.from);
    match = all.find(
      (b) =>
        b.id === query.from ||
        (query.binding !== undefined && b.id === `${query.from}-${query.binding}`) ||
        b.file === query.from ||
        basename(b.manifestPath) === query.from ||
        b.path === abs ||
        b.manifestPath === abs,
    );
  }
  if (!match)
    throw new LegoError({
      code: "ERR_BACKUP_NOT_FOUND",
      message: `No backup "${query.from}" of ${query.service} (${query.env})${all.length ? "" : ": there are none"}`,
      hint: all.length
        ? `Pick one of: ${all
            .slice(0, 5)
            .map((b) => b.id)
            .join(", ")}${all.length > 5 ? ", …" : ""} (lego db backups --service ${query.service}).`
        : `Take one with: lego db backup ${query.service} --env ${query.env}`,
      exitCode: 2,
      details: { service: query.service, env: query.env, from: query.from },
    });
  return match;
}

/** Checks a backup's dump against its recorded sha256; a mismatch is `ERR_BACKUP_CORRUPT`. */
export async function verifyBackupFile(backup: BackupEntry): Promise<void> {
  let actual: string;
  try {
    actual = await sha256File(backup.path);
  } catch (error) {
    throw new LegoError({
      code: "ERR_BACKUP_CORRUPT",
      message: `Backup ${backup.id} of ${backup.service} (${backup.env}) has no readable dump at ${backup.path}`,
      hint: "Pick another backup: lego db backups",
      exitCode: 1,
      kind: "user",
      cause: error,
    });
  }
  if (actual !== backup.sha256)
    throw new LegoError({
      code: "ERR_BACKUP_CORRUPT",
      message: `Backup ${backup.id} of ${backup.service} (${backup.env}) does not match its checksum: the dump changed after it was taken`,
      hint: "Pick another backup: lego db backups",
      exitCode: 1,
      kind: "user",
      details: { expected: backup.sha256, actual, path: backup.path },
    });
}

/** Options of {@link createBackup}. */
export interface CreateBackupOptions {
  reason?: BackupReason | undefined;
  /** The file stem to use instead of the timestamp (with several databases: `<timestamp>-<binding>`). */
  stem?: string | undefined;
  /** After this backup, keep only the newest N backups of this database (see {@link pruneBackups}). */
  keep?: number | undefined;
}

/**
 * Backs up one D1 database: `wrangler d1 export --remote` into
 * `.lego/backups/<service>/<env>/<timestamp>.sql`, then its manifest (sha256, per-table row counts,
 * applied migrations, Time Travel bookmark when the target returns one). Emits `db.backup.created`.
 */
export async function createBackup(
  target: D1Target,
  context: DatabaseContext | ResolvedContext,
  options: CreateBackupOptions = {},
): Promise<BackupEntry> {
  const ctx = resolveContext(context);
  const databaseId = await requireDatabaseId(ctx, target);
  const dir = backupsDir(ctx.root, target.service, target.env);
  const createdMs = ctx.clock.now();
  const base = options.stem ?? backupTimestamp(createdMs);
  // Backups hold user data: the folders 0700, the dump and its manifest 0600.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Two backups in the same millisecond (or a clock that stands still) must not overwrite each other.
  let stem = base;
  for (let n = 1; (await exists(join(dir, `${stem}.json`))) || (await exists(join(dir, `${stem}.sql`))); n++)
    stem = `${base}-${n}`;
  const file = `${stem}.sql`;
  const path = join(dir, file);
  const partial = join(dir, `.${file}.partial`);
  const { applied } = await readAppliedMigrations(ctx, databaseId, target.migrationsTable);
  let bookmark: string | undefined;
  try {
    bookmark = await ctx.api.getD1Bookmark?.(databaseId);
  } catch (error) {
    ctx.logger.debug("no Time Travel bookmark", { database: target.databaseName, error: String(error) });
  }
  await rm(partial, { force: true });
  try {
    // An export only reads: a transient failure is simply run again.
    await retryTransient(
      () =>
        ctx.wrangler.d1Export({
          cwd: target.serviceDir,
          configPath: target.configPath,
          database: target.databaseName,
          env: target.wranglerEnv,
          output: partial,
          signal: ctx.signal,
        }),
      {
        clock: ctx.clock,
        logger: ctx.logger,
        signal: ctx.signal,
        label: `wrangler d1 export ${target.databaseName}`,
      },
    );
  } catch (error) {
    await rm(partial, { force: true });
    throw new LegoError({
      code: "ERR_BACKUP_FAILED",
      message: `Backing up ${target.databaseName} of ${target.service} (${target.env}) failed: ${(error as Error).message}`,
      hint: "Nothing was changed. Check the target is reachable (lego local status, or your token), then retry.",
      exitCode: 1,
      cause: error,
      details: { service: target.service, env: target.env, database: target.databaseName },
    });
  }
  const raw = await readFile(partial).catch(() => undefined);
  if (raw === undefined) {
    throw new LegoError({
      code: "ERR_BACKUP_FAILED",
      message: `wrangler d1 export of ${target.databaseName} (${target.service}, ${target.env}) wrote no file`,
      hint: "Retry; if it persists, run the export by hand with WRANGLER_LOG=debug.",
      exitCode: 1,
    });
  }
  const summary = summarizeDump(raw.toString("utf8"));
  const sha256 = createHash("sha256").update(raw).digest("hex");
  const bytes = raw.byteLength;
  // wrangler wrote the dump with the umask's mode (0644): private before it gets its name.
  await chmod(partial, 0o600);
  await rename(partial, path);
  const manifest: BackupManifest = {
    version: 1,
    id: stem,
    service: target.service,
    env: target.env,
    binding: target.binding,
    databaseName: target.databaseName,
    databaseId,
    file,
    createdAt: new Date(createdMs).toISOString(),
    bytes,
    sha256,
    rowCounts: summary.rowCounts,
    uncounted: summary.uncounted,
    migrations: applied.map((a) => a.name),
    ...(bookmark ? { bookmark } : {}),
    reason: options.reason ?? "manual",
    runId: ctx.runId,
    ...(ctx.target ? { target: ctx.target } : {}),
  };
  const manifestPath = join(dir, `${stem}.json`);
  await writeJsonAtomic(manifestPath, manifest, PRIVATE_FILE);
  const rows = Object.values(summary.rowCounts).reduce((a, b) => a + b, 0);
  await ctx.emit("db.backup.created", {
    service: target.service,
    env: target.env,
    database: target.databaseName,
    backup: stem,
    reason: manifest.reason,
    sha256,
    bytes,
    tables: Object.keys(summary.rowCounts).length,
    rows,
    ...(bookmark ? { bookmark } : {}),
  });
  ctx.logger.info(`backed up ${target.databaseName} (${target.service}, ${target.env}) to ${path}`, {
    rows,
    bytes,
  });
  if (options.keep !== undefined)
    await pruneBackups(ctx, {
      service: target.service,
      env: target.env,
      binding: target.binding,
      keep: options.keep,
    });
  return { ...manifest, path, manifestPath };
}

/**
 * Retention: deletes all but the newest `keep` backups of a service and environment (and binding),
 * dump and manifest. Returns what it deleted. Emits `db.backup.pruned` per backup.
 */
export async function pruneBackups(
  context: DatabaseContext | ResolvedContext,
  options: { service: string; env: string; binding?: string | undefined; keep: number },
): Promise<BackupEntry[]> {
  const ctx = resolveContext(context);
  if (!Number.isInteger(options.keep) || options.keep < 1)
    throw new LegoError({
      code: "ERR_DATABASE_USAGE",
      message: `--keep must be a whole number of at least 1 (got ${options.keep})`,
      hint: "Pass --keep 1 or more; Lego never deletes the last backup.",
      exitCode: 2,
    });
  const all = await listBackups(ctx.root, options);
  const doomed = all.slice(options.keep);
  for (const b of doomed) {
    // The manifest goes first: a dump without one is no longer listed, so a crash leaves no half backup.
    await rm(b.manifestPath, { force: true });
    await rm(b.path, { force: true });
    await ctx.emit("db.backup.pruned", {
      service: b.service,
      env: b.env,
      database: b.databaseName,
      backup: b.id,
    });
  }
  return doomed;
}
