// A D1 target made of real SQLite files (node:sqlite), behaving like the D1 REST API and wrangler's
// D1 commands do: multi-statement queries run statement by statement (not atomic), migrations apply
// file by file with the bookkeeping INSERT in the same query, export writes D1's dump format. Used by
// the fast unit tests; the end-to-end tests run the real wrangler against the local cloud instead.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { LegoError } from "@lego/core";
import { listMigrationFiles } from "../../src/migrations.ts";
import type {
  D1ApiPort,
  D1QueryResult,
  D1Target,
  D1WranglerPort,
  WranglerD1Options,
} from "../../src/ports.ts";
import { splitSqlStatements } from "../../src/sql.ts";

type Op = "d1MigrationsApply" | "d1Export" | "d1Execute" | "queryD1";

export interface SqliteD1 {
  api: D1ApiPort;
  wrangler: D1WranglerPort;
  /** Creates a database (as a first deploy would). */
  create(name: string): string;
  register(target: D1Target): void;
  /** Direct access for assertions. */
  db(name: string): DatabaseSync;
  /** Every wrangler/API call, in order. */
  calls: string[];
  /** Make the next call of `op` throw (once). */
  failNext(op: Op, message?: string): void;
}

const escapeId = (id: string) => `"${id.replaceAll('"', '""')}"`;

function sqlValue(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (v instanceof Uint8Array) return `X'${Buffer.from(v).toString("hex")}'`;
  const s = String(v);
  let out = `'${s.replaceAll("'", "''").replaceAll("\n", "\\n")}'`;
  if (s.includes("\n")) out = `replace(${out},'\\n',char(10))`;
  return out;
}

export function createSqliteD1(dir: string): SqliteD1 {
  mkdirSync(dir, { recursive: true });
  const byName = new Map<string, { uuid: string; db: DatabaseSync }>();
  const targets: D1Target[] = [];
  const calls: string[] = [];
  const failures = new Map<Op, string>();
  const maybeFail = (op: Op) => {
    const message = failures.get(op);
    if (message !== undefined) {
      failures.delete(op);
      throw new LegoError({ code: "ERR_WRANGLER_FAILED", message, exitCode: 1 });
    }
  };
  const find = (nameOrId: string) => {
    for (const [name, e] of byName) if (name === nameOrId || e.uuid === nameOrId) return { name, ...e };
    return undefined;
  };
  const need = (nameOrId: string) => {
    const e = find(nameOrId);
    if (!e)
      throw new LegoError({
        code: "ERR_CLOUDFLARE_NOT_FOUND",
        message: `database ${nameOrId} not found (7404)`,
        exitCode: 1,
      });
    return e;
  };
  const run = (db: DatabaseSync, sql: string): D1QueryResult[] =>
    splitSqlStatements(sql).map((s) => {
      try {
        return { results: db.prepare(s).all() as Array<Record<string, unknown>>, success: true, meta: {} };
      } catch (error) {
        throw new LegoError({
          code: "ERR_D1_QUERY",
          message: `${(error as Error).message}: SQLITE_ERROR`,
          exitCode: 1,
        });
      }
    });
  const targetOf = (o: WranglerD1Options) => {
    const t = targets.find(
      (x) => x.serviceDir === o.cwd && x.databaseName === o.database && x.wranglerEnv === o.env,
    );
    if (!t) throw new Error(`no registered target for ${o.cwd} ${o.database} --env ${o.env}`);
    return t;
  };
  const create = (name: string) => {
    const uuid = randomUUID();
    byName.set(name, { uuid, db: new DatabaseSync(join(dir, `${name}.sqlite`)) });
    return uuid;
  };

  const api: D1ApiPort = {
    async queryD1(id, sql) {
      calls.push("query");
      maybeFail("queryD1");
      return run(need(id).db, sql);
    },
    async getD1Database(nameOrId) {
      const e = find(nameOrId);
      return e ? { uuid: e.uuid, name: e.name } : undefined;
    },
    async createD1Database(name) {
      calls.push(`create ${name}`);
      return { uuid: create(name), name };
    },
  };

  const wrangler: D1WranglerPort = {
    async d1MigrationsApply(o) {
      calls.push(`migrations apply ${o.database} --env ${o.env}`);
      maybeFail("d1MigrationsApply");
      const t = targetOf(o);
      const { db } = need(o.database);
      const table = escapeId(t.migrationsTable);
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${table}(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`,
      );
      const applied = new Set(
        (db.prepare(`SELECT name FROM ${table}`).all() as Array<{ name: string }>).map((r) => r.name),
      );
      const { files } = await listMigrationFiles(t);
      for (const f of files) {
        if (applied.has(f.name)) continue;
        const text = await readFile(f.path, "utf8");
        run(db, `${text}\nINSERT INTO ${table} (name) values ('${f.name.replaceAll("'", "''")}');`);
      }
    },
    async d1Export(o) {
      calls.push(`export ${o.database} --env ${o.env}`);
      maybeFail("d1Export");
      const { db } = need(o.database);
      const lines = ["PRAGMA defer_foreign_keys=TRUE;"];
      const tables = db
        .prepare(
          "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql NOT NULL ORDER BY tbl_name = 'sqlite_sequence', rowid",
        )
        .all() as Array<{ name: string; sql: string }>;
      for (const { name, sql } of tables) {
        if (name === "sqlite_sequence") lines.push("DELETE FROM sqlite_sequence;");
        else if (name.startsWith("_cf_") || name.startsWith("sqlite_")) continue;
        else
          lines.push(
            /^CREATE TABLE ['"]/.test(sql) ? `CREATE TABLE IF NOT EXISTS ${sql.slice(13)};` : `${sql};`,
          );
        const cols = (
          db.prepare(`PRAGMA table_info(${escapeId(name)})`).all() as Array<{ name: string }>
        ).map((c) => c.name);
        const colList = cols.map(escapeId).join(",");
        for (const row of db.prepare(`SELECT ${colList} FROM ${escapeId(name)}`).all() as Array<
          Record<string, unknown>
        >)
          lines.push(
            `INSERT INTO ${escapeId(name)} (${colList}) VALUES(${cols.map((c) => sqlValue(row[c])).join(",")});`,
          );
      }
      for (const { sql } of db
        .prepare(
          "SELECT sql FROM sqlite_schema WHERE sql NOT NULL AND type IN ('index','trigger','view') ORDER BY type COLLATE NOCASE",
        )
        .all() as Array<{ sql: string }>)
        lines.push(`${sql};`);
      await writeFile(o.output, lines.join("\n"));
    },
    async d1Execute(o) {
      calls.push(`execute ${o.database} --env ${o.env} --file`);
      maybeFail("d1Execute");
      run(need(o.database).db, await readFile(o.file, "utf8"));
    },
  };

  return {
    api,
    wrangler,
    create,
    register: (t) => targets.push(t),
    db: (name) => need(name).db,
    calls,
    failNext: (op, message = `${op} failed`) => failures.set(op, message),
  };
}
