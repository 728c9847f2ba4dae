/**
 * Splits SQL text into statements on top-level semicolons, the way SQLite reads them: semicolons inside
 * '…', "…", `…` and […] quotes, `--` and `/* *\/` comments, and the body of `CREATE TRIGGER … BEGIN … END`
 * (including `CASE … END` inside it) do not end a statement. Statements that hold only whitespace and
 * comments are dropped. Each returned statement keeps its text, without the trailing semicolon.
 */
export function splitSqlStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  let hasCode = false;
  // Words of the current statement, to detect CREATE [TEMP] TRIGGER and count BEGIN/CASE … END.
  let words: string[] = [];
  let depth = 0;
  const n = sql.length;
  const push = (end: number) => {
    if (hasCode) out.push(sql.slice(start, end).trim());
    start = end + 1;
    hasCode = false;
    words = [];
    depth = 0;
  };
  const isTrigger = () =>
    words[0] === "CREATE" &&
    (words[1] === "TRIGGER" || ((words[1] === "TEMP" || words[1] === "TEMPORARY") && words[2] === "TRIGGER"));
  while (i < n) {
    const c = sql[i] as string;
    if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl === -1 ? n : nl + 1;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close === -1 ? n : close + 2;
      continue;
    }
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      while (j < n) {
        if (sql[j] === close) {
          if (close !== "]" && sql[j + 1] === close) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      hasCode = true;
      i = j + 1;
      continue;
    }
    if (c === ";") {
      if (depth > 0) {
        i++;
        continue;
      }
      push(i);
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j] as string)) j++;
      const word = sql.slice(i, j).toUpperCase();
      hasCode = true;
      if (words.length < 4) words.push(word);
      if (isTrigger()) {
        if (word === "BEGIN" || word === "CASE") depth++;
        else if (word === "END" && depth > 0) depth--;
      }
      i = j;
      continue;
    }
    if (!/\s/.test(c)) hasCode = true;
    i++;
  }
  if (hasCode) out.push(sql.slice(start).trim());
  return out;
}
