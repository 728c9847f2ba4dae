/**
 * Whether a D1 `/query` body may be sent again after a 5xx or a dropped connection: true only when every
 * statement reads (`SELECT`, `VALUES`, `EXPLAIN`, a `PRAGMA` without `=`) or creates only if absent
 * (`CREATE TABLE|INDEX|VIEW IF NOT EXISTS`), so a second run has no effect beyond the first. Anything
 * else, or anything the small lexer below cannot split with certainty, is not repeatable.
 */
export function isRepeatableSql(sql: string): boolean {
  const statements = splitStatements(sql);
  if (statements === undefined || statements.length === 0) return false;
  return statements.every((s) => {
    const head = s.replace(/\s+/g, " ").toUpperCase();
    if (/^(SELECT|VALUES|EXPLAIN)\b/.test(head)) return true;
    if (/^PRAGMA\b/.test(head)) return !head.includes("=");
    return /^CREATE (UNIQUE )?(TABLE|INDEX|VIEW) IF NOT EXISTS\b/.test(head);
  });
}

/** Splits on `;` outside strings, quoted names and comments; `undefined` when a quote or comment is unterminated. */
function splitStatements(sql: string): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  const push = (end: number) => {
    const text = sql.slice(start, end).trim();
    if (text !== "") out.push(text);
  };
  while (i < n) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      for (;;) {
        if (j >= n) return undefined;
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (c === "[") {
      const j = sql.indexOf("]", i + 1);
      if (j < 0) return undefined;
      i = j + 1;
    } else if (c === "-" && sql[i + 1] === "-") {
      const j = sql.indexOf("\n", i + 2);
      if (j < 0) {
        // A trailing line comment: drop it.
        push(i);
        start = n;
        break;
      }
      // Comments become blanks so a statement's first word is its keyword.
      sql = `${sql.slice(0, i)}${" ".repeat(j - i)}${sql.slice(j)}`;
      i = j;
    } else if (c === "/" && sql[i + 1] === "*") {
      const j = sql.indexOf("*/", i + 2);
      if (j < 0) return undefined;
      sql = `${sql.slice(0, i)}${" ".repeat(j + 2 - i)}${sql.slice(j + 2)}`;
      i = j + 2;
    } else if (c === ";") {
      push(i);
      start = i + 1;
      i++;
    } else i++;
  }
  if (start < n) push(n);
  return out;
}
