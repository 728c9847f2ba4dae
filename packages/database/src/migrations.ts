import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, posix, relative, sep } from "node:path";
import { LegoError } from "@lego/core";
import type { D1Target } from "./ports.ts";

/** A migration file on disk, named the way wrangler names it in the migrations table. */
export interface MigrationFile {
  /** Path relative to the migrations folder, with `/` separators (`0001_init.sql`, `0002_x/migration.sql`). */
  name: string;
  /** Absolute path. */
  path: string;
  /** sha256 (hex) of the content with CRLF line endings folded to LF, so a Windows checkout is not drift. */
  sha256: string;
}

/** The leading number of a migration name (`0012_add.sql` → 12), NaN when it has none. As wrangler 4.164. */
function leadingMigrationNumber(segment: string): number {
  return Number.parseInt(segment.split("/")[0]!.split("_")[0]!, 10);
}

function compareSegments(a: string, b: string): number {
  const an = leadingMigrationNumber(a);
  const bn = leadingMigrationNumber(b);
  if (an !== bn) {
    if (Number.isFinite(an) && Number.isFinite(bn)) return an - bn;
    if (Number.isFinite(an)) return -1;
    if (Number.isFinite(bn)) return 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders migration names exactly as wrangler 4.164 applies them: segment by segment, by the leading
 * number when both have one (so `10_x.sql` follows `9_y.sql`), numbered before unnumbered, then by
 * code unit; a shorter path first.
 */
export function compareMigrationNames(a: string, b: string): number {
  const as = a.split("/");
  const bs = b.split("/");
  const shared = Math.min(as.length, bs.length);
  for (let i = 0; i < shared; i++) {
    const cmp = compareSegments(as[i]!, bs[i]!);
    if (cmp !== 0) return cmp;
  }
  return as.length - bs.length;
}

/** The sha256 that drift detection compares: hex digest of the text with CRLF folded to LF. */
export function migrationChecksum(content: string | Uint8Array): string {
  const text = typeof content === "string" ? content : Buffer.from(content).toString("utf8");
  return createHash("sha256").update(text.replaceAll("\r\n", "\n")).digest("hex");
}

function normalizeRelative(p: string): string {
  const normalized = posix.normalize(p.replaceAll("\\", "/"));
  return normalized.endsWith("/") ? normalized.slice(0, -1) : normalized;
}

/**
 * The glob a migration's name must match, relative to the migrations folder: `*.sql` by default, or
 * the config's `migrations_pattern` with its `migrations_dir/` prefix removed (wrangler's rule).
 */
export function migrationNamePattern(
  target: Pick<D1Target, "serviceDir" | "migrationsDir" | "migrationsPattern">,
): string {
  if (target.migrationsPattern === undefined) return "*.sql";
  const dir = normalizeRelative(
    relative(target.serviceDir, target.migrationsDir).split(sep).join("/") || ".",
  );
  const pattern = normalizeRelative(target.migrationsPattern);
  if (dir === ".") return pattern;
  if (!pattern.startsWith(`${dir}/`)) {
    throw new LegoError({
      code: "ERR_MIGRATIONS_DIR",
      message: `migrations_pattern "${target.migrationsPattern}" does not start with the migrations folder "${dir}/"`,
      hint: `Make migrations_pattern start with "${dir}/", as wrangler requires.`,
      exitCode: 2,
    });
  }
  return pattern.slice(dir.length + 1);
}

async function walk(dir: string, rel: string, out: string[]): Promise<boolean> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw new LegoError({
      code: "ERR_MIGRATIONS_DIR",
      message: `Cannot read the migrations folder ${dir}: ${(error as Error).message}`,
      hint: "Check the folder's permissions.",
      exitCode: 1,
      cause: error,
    });
  }
  for (const entry of entries) {
    const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!entry.name.startsWith(".")) await walk(join(dir, entry.name), childRel, out);
    } else if (entry.isFile()) out.push(childRel);
  }
  return true;
}

/** The migration files of a D1 target, in the order wrangler applies them; `exists` is false without a folder. */
export async function listMigrationFiles(
  target: Pick<D1Target, "serviceDir" | "migrationsDir" | "migrationsPattern">,
): Promise<{ exists: boolean; files: MigrationFile[] }> {
  const pattern = migrationNamePattern(target);
  const all: string[] = [];
  const exists = await walk(target.migrationsDir, "", all);
  const names = all.filter((name) => posix.matchesGlob(name, pattern)).sort(compareMigrationNames);
  const files: MigrationFile[] = [];
  for (const name of names) {
    const path = join(target.migrationsDir, ...name.split("/"));
    files.push({ name, path, sha256: migrationChecksum(await readFile(path)) });
  }
  return { exists, files };
}
