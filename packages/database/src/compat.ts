import { readFile } from "node:fs/promises";
import { UsageError } from "@lego/core";
import { splitSqlStatements } from "./sql.ts";

/** A statement that old code reading the database cannot survive: a table or column removed or renamed. */
export interface BreakingChange {
  kind: "drop-table" | "drop-column" | "rename-table" | "rename-column";
  table: string;
  /** The column dropped or renamed (for `*-column`). */
  column?: string;
  /** The new name (for `rename-*`). */
  to?: string;
  /** The statement as written, whitespace folded, at most 200 characters. */
  statement: string;
}

/** A migration file holding at least one {@link BreakingChange}. */
export interface BreakingMigration {
  /** The migration's name (path relative to the migrations folder). */
  migration: string;
  path: string;
  changes: BreakingChange[];
}

// An identifier as SQLite accepts it: bare, "double", `back`, [bracket] quoted; optionally schema-qualified.
const IDENT = String.raw`(?:"(?:[^"]|"")+"|\x60(?:[^\x60]|\x60\x60)+\x60|\[[^\]]+\]|[A-Za-z_][\w$]*)`;
const NAME = String.raw`(${IDENT}(?:\s*\.\s*${IDENT})?)`;
const QUALIFIED = new RegExp(String.raw`^${IDENT}\s*\.\s*(${IDENT})$`);
const DROP_TABLE = new RegExp(String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?${NAME}`, "i");
const ALTER = new RegExp(String.raw`^ALTER\s+TABLE\s+${NAME}\s+(.*)$`, "is");
const DROP_COLUMN = new RegExp(String.raw`^DROP\s+(?:COLUMN\s+)?${NAME}`, "i");
const RENAME_TABLE = new RegExp(String.raw`^RENAME\s+TO\s+${NAME}`, "i");
const RENAME_COLUMN = new RegExp(String.raw`^RENAME\s+(?:COLUMN\s+)?${NAME}\s+TO\s+${NAME}`, "i");

/** `"a""b"` → `a"b`, `[x]` → `x`, `main.t` → `t` (the schema does not matter to the Worker). */
function unquote(name: string): string {
  const qualified = QUALIFIED.exec(name);
  const t = (qualified ? (qualified[1] as string) : name).trim();
  if (t.startsWith('"')) return t.slice(1, -1).replaceAll('""', '"');
  if (t.startsWith("`")) return t.slice(1, -1).replaceAll("``", "`");
  if (t.startsWith("[")) return t.slice(1, -1);
  return t;
}

/** Removes `-- …` and `/* … *\/` comments outside strings, and folds whitespace. */
function normalize(statement: string): string {
  let out = "";
  for (let i = 0; i < statement.length; i++) {
    const c = statement[i] as string;
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      while (j < statement.length && !(statement[j] === close && statement[j + 1] !== close)) {
        j += statement[j] === close ? 2 : 1;
      }
      out += statement.slice(i, j + 1);
      i = j;
    } else if (c === "-" && statement[i + 1] === "-") {
      while (i < statement.length && statement[i] !== "\n") i++;
      out += " ";
    } else if (c === "/" && statement[i + 1] === "*") {
      const end = statement.indexOf("*/", i + 2);
      i = end < 0 ? statement.length : end + 1;
      out += " ";
    } else out += c;
  }
  return out.replace(/\s+/g, " ").trim();
}

/**
 * The statements of a migration that drop or rename a table or a column (`DROP TABLE`, `ALTER TABLE …
 * DROP COLUMN`, `ALTER TABLE … RENAME TO`, `ALTER TABLE … RENAME COLUMN`): changes the version still
 * serving during a canary cannot survive. Additive changes (new tables, columns, indexes) and data
 * changes are not listed. Statements are split and comments skipped as SQLite does, so a `DROP TABLE`
 * inside a string or a comment is not one.
 *
 * @example
 * findBreakingChanges("ALTER TABLE users RENAME COLUMN name TO full_name;")
 * // [{ kind: "rename-column", table: "users", column: "name", to: "full_name", statement: "ALTER TABLE …" }]
 */
export function findBreakingChanges(sql: string): BreakingChange[] {
  const out: BreakingChange[] = [];
  for (const raw of splitSqlStatements(sql)) {
    const statement = normalize(raw);
    const shown = statement.length > 200 ? `${statement.slice(0, 197)}…` : statement;
    const drop = DROP_TABLE.exec(statement);
    if (drop) {
      out.push({ kind: "drop-table", table: unquote(drop[1] as string), statement: shown });
      continue;
    }
    const alter = ALTER.exec(statement);
    if (!alter) continue;
    const table = unquote(alter[1] as string);
    const action = (alter[2] as string).trim();
    const renameTable = RENAME_TABLE.exec(action);
    if (renameTable) {
      out.push({ kind: "rename-table", table, to: unquote(renameTable[1] as string), statement: shown });
      continue;
    }
    const renameColumn = RENAME_COLUMN.exec(action);
    if (renameColumn) {
      out.push({
        kind: "rename-column",
        table,
        column: unquote(renameColumn[1] as string),
        to: unquote(renameColumn[2] as string),
        statement: shown,
      });
      continue;
    }
    const dropColumn = DROP_COLUMN.exec(action);
    if (dropColumn) {
      out.push({ kind: "drop-column", table, column: unquote(dropColumn[1] as string), statement: shown });
    }
  }
  return out;
}

/** Reads migration files and returns those with breaking changes, in the order given. */
export async function findBreakingMigrations(
  files: ReadonlyArray<{ name: string; path: string }>,
): Promise<BreakingMigration[]> {
  const out: BreakingMigration[] = [];
  for (const file of files) {
    const changes = findBreakingChanges(await readFile(file.path, "utf8"));
    if (changes.length > 0) out.push({ migration: file.name, path: file.path, changes });
  }
  return out;
}

/** One line per change: `0003_rename.sql: ALTER TABLE users RENAME COLUMN name TO full_name`. */
function describe(found: readonly BreakingMigration[]): string {
  return found
    .flatMap((m) => m.changes.map((c) => `${m.migration}: ${c.statement}`))
    .map((l) => `  ${l}`)
    .join("\n");
}

/**
 * The refusal (exit 2, `ERR_MIGRATION_NOT_BACKWARD_COMPATIBLE`) for pending migrations that drop or
 * rename a table or column while two versions serve; names each file and statement and says what to do.
 */
export function breakingMigrationError(
  found: readonly BreakingMigration[],
  where: { service: string; env: string; database: string; why: string },
): UsageError {
  const first = found[0];
  const change = first?.changes[0];
  return new UsageError({
    code: "ERR_MIGRATION_NOT_BACKWARD_COMPATIBLE",
    message: `${first?.migration ?? "A pending migration"} of ${where.database} (${where.service}, ${where.env}) ${change ? change.kind.replace("-", "s a ") : "is not backward compatible"}: the version still serving ${where.why} would break. Pending statements that drop or rename:\n${describe(found)}`,
    hint: "Expand/contract: first add the new table or column and deploy code that works with both shapes; drop or rename the old one in a later deploy, once no version uses it (see the database README). Pass --force to apply it anyway.",
    details: {
      migrations: found.map((m) => ({
        migration: m.migration,
        path: m.path,
        changes: m.changes,
      })),
    },
  });
}
