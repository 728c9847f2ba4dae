/**
 * Just enough SQL lexing to work with D1 dumps and migration files safely: statement splitting that
 * respects strings, quoted identifiers, comments and trigger bodies, and a summary of what a dump holds.
 */

const isWordStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
const isWordPart = (c: number) => isWordStart(c) || (c >= 48 && c <= 57) || c === 36;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12;

/**
 * Splits SQL text into statements (trimmed, without the trailing `;`). Semicolons inside strings,
 * quoted identifiers and comments do not split; in `CREATE TRIGGER … BEGIN … END;` only the `;` after
 * `END` ends the statement (the rule of SQLite's own `sqlite3_complete`).
 */
export function splitSqlStatements(sql: string): string[] {
  const out: string[] = [];
  const n = sql.length;
  let start = 0;
  let head: string[] = [];
  let last = "";
  let trigger = false;
  const finish = (end: number) => {
    const text = sql.slice(start, end).trim();
    if (text !== "" && !isOnlyComments(text)) out.push(text);
    start = end + 1;
    head = [];
    last = "";
    trigger = false;
  };
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 39 || c === 34 || c === 96) {
      // '…' string, "…" or `…` identifier; a doubled quote is an escaped one.
      let j = i + 1;
      for (;;) {
        if (j >= n) break;
        if (sql.charCodeAt(j) === c) {
          if (sql.charCodeAt(j + 1) === c) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
      last = "x";
    } else if (c === 91) {
      const j = sql.indexOf("]", i + 1);
      i = j < 0 ? n : j + 1;
      last = "x";
    } else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const j = sql.indexOf("\n", i + 2);
      i = j < 0 ? n : j + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const j = sql.indexOf("*/", i + 2);
      i = j < 0 ? n : j + 2;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordPart(sql.charCodeAt(j))) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (head.length < 3) {
        head.push(word);
        if (
          head[0] === "CREATE" &&
          (word === "TRIGGER" || (head.length === 3 && head[2] === "TRIGGER" && /^TEMP/.test(head[1]!)))
        )
          trigger = true;
      }
      last = word;
      i = j;
    } else if (c === 59) {
      if (!trigger || last === "END") finish(i);
      else last = ";";
      i++;
    } else {
      if (!isSpace(c)) last = sql[i]!;
      i++;
    }
  }
  finish(n);
  return out;
}

function isOnlyComments(text: string): boolean {
  let t = text;
  for (;;) {
    t = t.trimStart();
    if (t.startsWith("--")) {
      const j = t.indexOf("\n");
      t = j < 0 ? "" : t.slice(j + 1);
    } else if (t.startsWith("/*")) {
      const j = t.indexOf("*/");
      t = j < 0 ? "" : t.slice(j + 2);
    } else return t === "";
  }
}

/** Reads one identifier at `i` (quoted or bare, skipping a `schema.` prefix); returns it and the index after it. */
function readIdentifier(s: string, i: number): { name: string; end: number } | undefined {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  const c = s.charCodeAt(i);
  let name: string;
  let end: number;
  if (c === 34 || c === 96) {
    let j = i + 1;
    let value = "";
    for (;;) {
      if (j >= s.length) return undefined;
      if (s.charCodeAt(j) === c) {
        if (s.charCodeAt(j + 1) === c) {
          value += s[j];
          j += 2;
          continue;
        }
        break;
      }
      value += s[j];
      j++;
    }
    name = value;
    end = j + 1;
  } else if (c === 91) {
    const j = s.indexOf("]", i + 1);
    if (j < 0) return undefined;
    name = s.slice(i + 1, j);
    end = j + 1;
  } else if (isWordStart(c)) {
    let j = i + 1;
    while (j < s.length && isWordPart(s.charCodeAt(j))) j++;
    name = s.slice(i, j);
    end = j;
  } else return undefined;
  if (s[end] === ".") return readIdentifier(s, end + 1);
  return { name, end };
}

/** Quotes an identifier for SQLite: `"a""b"`. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** True for SQLite's and D1's internal tables (`sqlite_*`, `_cf_*`), which backups and counts leave out. */
export function isInternalTable(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("sqlite_") || lower.startsWith("_cf_");
}

/** Index after the quoted run starting at `i` (a doubled quote is an escaped one). */
function skipQuoted(s: string, i: number): number {
  const q = s.charCodeAt(i);
  let j = i + 1;
  while (j < s.length) {
    if (s.charCodeAt(j) === q) {
      if (s.charCodeAt(j + 1) === q) j += 2;
      else return j + 1;
    } else j++;
  }
  return j;
}

/** Counts the rows of `INSERT INTO t (cols) VALUES (…), (…)`; undefined for `INSERT … SELECT`. */
function countValuesRows(stmt: string, from: number): number | undefined {
  let i = from;
  while (i < stmt.length && isSpace(stmt.charCodeAt(i))) i++;
  if (stmt.charCodeAt(i) === 40) {
    let depth = 0;
    while (i < stmt.length) {
      const c = stmt.charCodeAt(i);
      if (c === 39 || c === 34 || c === 96) {
        i = skipQuoted(stmt, i);
        continue;
      }
      if (c === 40) depth++;
      else if (c === 41 && --depth === 0) {
        i++;
        break;
      }
      i++;
    }
  }
  const m = /^\s*(VALUES|DEFAULT\s+VALUES|SELECT|WITH)\b/i.exec(stmt.slice(i, i + 64));
  if (!m) return undefined;
  const kw = m[1]!.toUpperCase();
  if (kw.startsWith("DEFAULT")) return 1;
  if (kw !== "VALUES") return undefined;
  let depth = 0;
  let rows = 0;
  for (i += m[0].length; i < stmt.length; i++) {
    const c = stmt.charCodeAt(i);
    if (c === 39 || c === 34 || c === 96) i = skipQuoted(stmt, i) - 1;
    else if (c === 40) {
      if (depth === 0) rows++;
      depth++;
    } else if (c === 41) depth--;
    else if (depth === 0 && isWordStart(c)) break; // ON CONFLICT, RETURNING
  }
  return rows;
}

/** What a dump (a `wrangler d1 export` file) holds. */
export interface DumpSummary {
  /** Statements in the file. */
  statements: number;
  /** Rows per user table (tables created with no rows count 0); internal tables are left out. */
  rowCounts: Record<string, number>;
  /** Tables whose rows cannot be counted from the text (`INSERT … SELECT`); they are not verified by count. */
  uncounted: string[];
}

/**
 * Summarises a dump: the user tables it creates and the rows it inserts into each. Table names keep
 * the spelling of their `CREATE TABLE`; an `INSERT` matches it case-insensitively, as SQLite does.
 */
export function summarizeDump(sql: string): DumpSummary {
  const statements = splitSqlStatements(sql);
  const counts = new Map<string, { name: string; rows: number }>();
  const uncounted = new Set<string>();
  const entry = (name: string) => {
    const key = name.toLowerCase();
    let e = counts.get(key);
    if (!e) {
      e = { name, rows: 0 };
      counts.set(key, e);
    }
    return e;
  };
  for (const stmt of statements) {
    const head =
      /^(CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TABLE(?:\s+IF\s+NOT\s+EXISTS)?|(?:INSERT|REPLACE)(?:\s+OR\s+\w+)?\s+INTO)\s/i.exec(
        stmt,
      );
    if (!head) continue;
    const id = readIdentifier(stmt, head[0].length);
    if (!id || isInternalTable(id.name)) continue;
    if (/^CREATE/i.test(head[1]!)) {
      entry(id.name);
      continue;
    }
    const rows = countValuesRows(stmt, id.end);
    const e = entry(id.name);
    if (rows === undefined) uncounted.add(e.name);
    else e.rows += rows;
  }
  const rowCounts: Record<string, number> = {};
  for (const { name, rows } of counts.values()) rowCounts[name] = rows;
  return { statements: statements.length, rowCounts, uncounted: [...uncounted] };
}
