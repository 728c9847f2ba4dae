// The D1 part of the Cloudflare v4 API on 127.0.0.1:0, backed by node:sqlite files: exactly the calls the
// real wrangler 4.164 makes for `d1 migrations apply|export|execute --file --remote` (see
// ../shared/cloudflare-api/wrangler-traffic.md §3d) and the ones @lego/cloudflare's client makes. Lets
// the tests run the real wrangler before (and besides) the local cloud of @lego/emulator.
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { splitSqlStatements } from "../../src/sql.ts";

export const ACCOUNT = "0123456789abcdef0123456789abcdef";
export const TOKEN = "d1-test-token-0123456789";

export interface D1ApiServer {
  baseURL: string;
  /** Direct access to a database's SQLite file, for assertions. */
  db(name: string): DatabaseSync;
  create(name: string): string;
  /** Request log: `METHOD path`. */
  requests: string[];
  close(): Promise<void>;
}

const escapeId = (id: string) => `"${id.replaceAll('"', '""')}"`;

function quote(cell: unknown): string {
  if (cell === null || cell === undefined) return "NULL";
  if (typeof cell === "number" || typeof cell === "bigint") return String(cell);
  if (cell instanceof Uint8Array) return `X'${Buffer.from(cell).toString("hex")}'`;
  const s = String(cell);
  let out = `'${s.replaceAll("'", "''").replaceAll("\n", "\\n")}'`;
  if (s.includes("\n")) out = `replace(${out},'\\n',char(10))`;
  return out;
}

/** D1's export format (miniflare's dumpSql). */
function dump(db: DatabaseSync): string {
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
      lines.push(/^CREATE TABLE ['"]/.test(sql) ? `CREATE TABLE IF NOT EXISTS ${sql.slice(13)};` : `${sql};`);
    const cols = (db.prepare(`PRAGMA table_info(${escapeId(name)})`).all() as Array<{ name: string }>).map(
      (c) => c.name,
    );
    const list = cols.map(escapeId).join(",");
    const stmt = db.prepare(`SELECT ${list} FROM ${escapeId(name)}`);
    stmt.setReturnArrays(true);
    for (const row of stmt.iterate() as Iterable<unknown[]>)
      lines.push(`INSERT INTO ${escapeId(name)} (${list}) VALUES(${row.map(quote).join(",")});`);
  }
  for (const { sql } of db
    .prepare(
      "SELECT sql FROM sqlite_schema WHERE sql NOT NULL AND type IN ('index','trigger','view') ORDER BY type COLLATE NOCASE",
    )
    .all() as Array<{ sql: string }>)
    lines.push(`${sql};`);
  return lines.join("\n");
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the server; `dir` holds one SQLite file per database. */
export async function startD1ApiServer(dir: string): Promise<D1ApiServer> {
  const dbs = new Map<string, { uuid: string; name: string; db: DatabaseSync }>();
  const blobs = new Map<string, Buffer>();
  const requests: string[] = [];
  const find = (nameOrId: string) =>
    [...dbs.values()].find((d) => d.uuid === nameOrId || d.name === nameOrId);
  const create = (name: string) => {
    const uuid = randomUUID();
    const db = new DatabaseSync(join(dir, `${name}.sqlite`));
    db.exec("PRAGMA journal_mode = WAL");
    dbs.set(uuid, { uuid, name, db });
    return uuid;
  };
  const exec = (db: DatabaseSync, sql: string) =>
    splitSqlStatements(sql).map((s) => {
      const rows = db.prepare(s).all();
      return {
        results: rows,
        success: true,
        meta: { changes: 0, duration: 0.1, rows_read: 0, rows_written: 0 },
      };
    });

  let origin = "";
  const server = createServer(async (req, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname.replace(/^\/client\/v4/, "");
    requests.push(`${req.method} ${path}`);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(payload));
    };
    const ok = (result: unknown, extra: Record<string, unknown> = {}) =>
      send(200, { success: true, errors: [], messages: [], result, ...extra });
    const fail = (status: number, code: number, message: string) =>
      send(status, { success: false, errors: [{ code, message }], messages: [], result: null });
    try {
      if (path.startsWith("/blobs/")) {
        const key = path.slice("/blobs/".length);
        if (req.method === "PUT") {
          const data = await body(req);
          blobs.set(key, data);
          const md5 = createHash("md5").update(data).digest("hex");
          res.writeHead(200, { etag: `"${md5}"` });
          return res.end();
        }
        const data = blobs.get(key);
        if (!data) return fail(404, 10000, "no such blob");
        res.writeHead(200, { "content-type": "application/sql" });
        return res.end(data);
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(401, 10000, "Authentication error");
      if (path === "/user/tokens/verify") return ok({ id: "t", status: "active" });
      if (path === "/user") return ok({ id: "u", email: "ops@example.com" });
      if (path === "/accounts" || path === "/memberships")
        return ok(
          path === "/accounts"
            ? [{ id: ACCOUNT, name: "Test" }]
            : [{ id: "m", account: { id: ACCOUNT, name: "Test" } }],
          { result_info: { page: 1, per_page: 20, count: 1, total_count: 1 } },
        );
      const m = /^\/accounts\/([^/]+)\/d1\/database(?:\/([^/]+))?(?:\/([a-z_]+))?$/.exec(path);
      if (!m) return fail(501, 10000, `not implemented: ${req.method} ${path}`);
      if (m[1] !== ACCOUNT) return fail(404, 7003, "no such account");
      const [, , id, action] = m;
      if (!id) {
        if (req.method === "POST") {
          const { name } = JSON.parse((await body(req)).toString()) as { name: string };
          const uuid = create(name);
          return ok({ uuid, name, created_at: new Date().toISOString() });
        }
        const page = Number(url.searchParams.get("page") ?? 1);
        const perPage = Number(url.searchParams.get("per_page") ?? 100);
        const name = url.searchParams.get("name");
        const all = [...dbs.values()]
          .filter((d) => !name || d.name === name)
          .map((d) => ({ uuid: d.uuid, name: d.name }));
        return ok(all.slice((page - 1) * perPage, page * perPage), {
          result_info: { page, per_page: perPage, count: all.length, total_count: all.length },
        });
      }
      const entry = find(id);
      if (!entry) return fail(404, 7404, `The database ${id} could not be found`);
      if (!action) return ok({ uuid: entry.uuid, name: entry.name, version: "production", num_tables: 0 });
      const input = JSON.parse((await body(req)).toString() || "{}") as Record<string, unknown>;
      if (action === "query") {
        try {
          return ok(exec(entry.db, String(input.sql)));
        } catch (error) {
          return fail(400, 7500, `${(error as Error).message}: SQLITE_ERROR`);
        }
      }
      if (action === "export") {
        if (!input.current_bookmark)
          return ok({ success: true, status: "active", at_bookmark: "b-export", messages: [] });
        const key = `export-${randomUUID()}.sql`;
        blobs.set(key, Buffer.from(dump(entry.db)));
        return ok({
          success: true,
          status: "complete",
          messages: [],
          result: { filename: key, signed_url: `${origin}/blobs/${key}` },
        });
      }
      if (action === "import") {
        if (input.action === "init") {
          const key = `import-${randomUUID()}.sql`;
          return ok({ success: true, upload_url: `${origin}/blobs/${key}`, filename: key });
        }
        if (input.action === "ingest") {
          const data = blobs.get(String(input.filename));
          if (!data) return ok({ success: false, error: "file not uploaded" });
          // Real D1 imports atomically ("your DB will return to its original state").
          entry.db.exec("BEGIN");
          try {
            const n = exec(entry.db, data.toString("utf8")).length;
            entry.db.exec("COMMIT");
            return ok({ success: true, status: "active", at_bookmark: `b-import-${n}`, messages: [] });
          } catch (error) {
            entry.db.exec("ROLLBACK");
            return ok({
              success: true,
              status: "error",
              error: (error as Error).message,
              errors: [(error as Error).message],
              messages: [],
            });
          }
        }
        const n = Number(
          String(input.current_bookmark ?? "b-import-0")
            .split("-")
            .at(-1),
        );
        return ok({
          success: true,
          status: "complete",
          messages: [],
          result: {
            num_queries: n,
            final_bookmark: "b-final",
            meta: { duration: 1, rows_read: 0, rows_written: n, size_after: 4096 },
          },
        });
      }
      return fail(501, 10000, `not implemented: ${req.method} ${path}`);
    } catch (error) {
      return fail(500, 10000, (error as Error).message);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseURL: `${origin}/client/v4`,
    db: (name) => {
      const e = find(name);
      if (!e) throw new Error(`no database ${name}`);
      return e.db;
    },
    create,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const d of dbs.values()) d.db.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
