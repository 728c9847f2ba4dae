import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { splitSqlStatements } from "../d1/split-sql.ts";
import { md5Hex, nowIso, randomHex32, uuid } from "../ids.ts";
import type { D1Database, D1Result } from "../runtime/runner.ts";
import { WorkerStartupError } from "../runtime/runner.ts";
import type { CloudState, D1Record } from "../state/types.ts";
import { requireAccount } from "./account.ts";
import { type ApiRequest, jsonBody, ok, type RawReply } from "./context.ts";
import { CfApiError, CfCode, paginate } from "./envelope.ts";
import type { Route } from "./router.ts";

const PRESIGN_TTL_MS = 60 * 60 * 1000;

/** Finds a database by uuid or by name (wrangler puts names in the id slot); else Cloudflare's 404 / 7404. */
export function requireDatabase(state: CloudState, idOrName: string): D1Record {
  const db = state.d1.find((d) => d.uuid === idOrName) ?? state.d1.find((d) => d.name === idOrName);
  if (!db) throw new CfApiError(404, CfCode.D1NotFound, `The database ${idOrName} could not be found`);
  return db;
}

function dbObject(db: D1Record) {
  return {
    uuid: db.uuid,
    name: db.name,
    created_at: db.created_at,
    version: "production",
    num_tables: null,
    file_size: null,
    jurisdiction: null,
    read_replication: { mode: "disabled" },
  };
}

/** SQLite/D1 errors become Cloudflare's 400 / 7500 with D1's message. */
function sqlError(error: unknown): CfApiError {
  const message = error instanceof Error ? error.message : String(error);
  return new CfApiError(400, CfCode.D1QueryError, message.replace(/^D1_ERROR: /, ""));
}

function statementsOf(sql: unknown): string[] {
  if (typeof sql !== "string") throw new CfApiError(400, CfCode.BadRequest, "`sql` must be a string");
  const statements = splitSqlStatements(sql);
  if (statements.length === 0) throw new CfApiError(400, CfCode.D1QueryError, "No SQL statements to run");
  return statements;
}

/**
 * Runs statements as D1 does for a multi-statement request: one batch (atomic), one result per statement.
 * `params` bind to a single statement only.
 */
export async function runStatements(
  d1: D1Database,
  statements: string[],
  params: unknown[] = [],
): Promise<D1Result[]> {
  if (statements.length === 1) {
    const stmt = d1.prepare(statements[0] as string);
    return [await (params.length ? stmt.bind(...params) : stmt).all()];
  }
  if (params.length) {
    throw new CfApiError(400, CfCode.D1QueryError, "Parameters can only be bound to a single statement");
  }
  return d1.batch(statements.map((s) => d1.prepare(s)));
}

function shapeResult(r: D1Result) {
  return { results: r.results ?? [], success: r.success !== false, meta: r.meta ?? {} };
}

async function withDb<T>(req: ApiRequest, db: D1Record, fn: (d1: D1Database) => Promise<T>): Promise<T> {
  try {
    return await req.services.runtime.withD1(db, fn);
  } catch (error) {
    if (error instanceof CfApiError) throw error;
    if (error instanceof WorkerStartupError) throw new CfApiError(500, CfCode.D1QueryError, error.message);
    throw sqlError(error);
  }
}

async function applyRuntime(req: ApiRequest, draft: CloudState): Promise<void> {
  await req.services.runtime.apply(draft);
}

/** D1's SQL dump of `db` (what `export` serves): schema, then rows, then indexes, triggers and views. */
async function dumpDatabase(
  req: ApiRequest,
  db: D1Record,
  opts: { noSchema?: boolean; noData?: boolean; tables?: string[] } = {},
): Promise<string> {
  return withDb(req, db, async (d1) => {
    const raw = (await d1
      .prepare("PRAGMA miniflare_d1_export(?,?,?);")
      .bind(opts.noSchema === true, opts.noData === true, ...(opts.tables ?? []))
      .raw()) as unknown[][];
    return (raw[0] ?? []).join("\n");
  });
}

const quoteId = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Puts `db` back to exactly the state `dump` holds, in one batch (one transaction, so a failure changes
 * nothing): drops every user view, trigger and table, then runs the dump. D1's internal `_cf_` tables
 * stay; foreign keys are checked at the commit, when every table is back.
 */
async function replaceWithDump(req: ApiRequest, db: D1Record, dump: string): Promise<void> {
  const objects = await withDb(req, db, async (d1) => {
    const { results } = await d1
      .prepare(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') AND substr(name, 1, 7) <> 'sqlite_' AND substr(name, 1, 4) <> '_cf_'",
      )
      .all();
    return results as Array<{ type: string; name: string }>;
  });
  const drops = ["view", "trigger", "table"].flatMap((type) =>
    objects
      .filter((o) => o.type === type)
      .map((o) => `DROP ${type.toUpperCase()} IF EXISTS ${quoteId(o.name)}`),
  );
  try {
    await req.services.runtime.batch(db, [
      "PRAGMA defer_foreign_keys = on",
      ...drops,
      ...splitSqlStatements(dump),
    ]);
  } catch (error) {
    if (error instanceof WorkerStartupError) throw new CfApiError(500, CfCode.D1QueryError, error.message);
    throw sqlError(error);
  }
}

/** The answer to a `timestamp`: the local cloud keeps only the states it handed out bookmarks for. */
function noPointInTime(): CfApiError {
  return new CfApiError(
    400,
    CfCode.BadRequest,
    "The local cloud keeps the state of a D1 database only at the bookmarks it handed out, not at every point in time: get the current bookmark (no `timestamp`) and restore with `bookmark`",
  );
}

/** D1 endpoints: list, create, get, delete, query, raw, export, import, Time Travel bookmark and restore. */
export const d1Routes: Route[] = [
  {
    method: "GET",
    pattern: "/accounts/:account/d1/database",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.query.get("name");
      const all = state.d1.filter((d) => !name || d.name === name).map(dbObject);
      const { items, info } = paginate(all, req.query, 1000);
      return ok(items, info);
    },
  },
  {
    method: "POST",
    pattern: "/accounts/:account/d1/database",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ name?: unknown }>(req);
      if (typeof body.name !== "string" || !/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(body.name)) {
        throw new CfApiError(
          400,
          CfCode.BadRequest,
          "A D1 database needs a `name` of letters, digits, - and _",
        );
      }
      const name = body.name;
      const db = await req.services.store.mutate(async (draft) => {
        if (draft.d1.some((d) => d.name === name)) {
          throw new CfApiError(400, CfCode.D1NameTaken, `A database with the name ${name} already exists`);
        }
        const rec: D1Record = { uuid: uuid(), name, created_at: nowIso() };
        draft.d1.push(rec);
        await applyRuntime(req, draft);
        return rec;
      });
      return ok(dbObject(db));
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/d1/database/:db",
    handler: (req) => ok(dbObject(requireDatabase(requireAccount(req), req.params.db ?? ""))),
  },
  {
    method: "DELETE",
    pattern: "/accounts/:account/d1/database/:db",
    handler: async (req) => {
      requireAccount(req);
      const idOrName = req.params.db ?? "";
      await req.services.store.mutate(async (draft) => {
        const db = requireDatabase(draft, idOrName);
        draft.d1 = draft.d1.filter((d) => d.uuid !== db.uuid);
        await applyRuntime(req, draft);
        await req.services.timeTravel.drop(db.uuid);
      });
      return ok(null);
    },
  },
  {
    method: "POST",
    pattern: "/accounts/:account/d1/database/:db/query",
    handler: async (req) => {
      const db = requireDatabase(requireAccount(req), req.params.db ?? "");
      const body = jsonBody<{ sql?: unknown; params?: unknown }>(req);
      const statements = statementsOf(body.sql);
      const params = Array.isArray(body.params) ? body.params : [];
      const results = await withDb(req, db, (d1) => runStatements(d1, statements, params));
      return ok(results.map(shapeResult));
    },
  },
  {
    method: "POST",
    pattern: "/accounts/:account/d1/database/:db/raw",
    handler: async (req) => {
      const db = requireDatabase(requireAccount(req), req.params.db ?? "");
      const body = jsonBody<{ sql?: unknown; params?: unknown }>(req);
      const statements = statementsOf(body.sql);
      const params = Array.isArray(body.params) ? body.params : [];
      const out = await withDb(req, db, async (d1) => {
        const rows: unknown[] = [];
        for (const [i, s] of statements.entries()) {
          const stmt = d1.prepare(s);
          const bound = i === 0 && params.length ? stmt.bind(...params) : stmt;
          const raw = (await bound.raw({ columnNames: true })) as unknown[][];
          const [columns = [], ...data] = raw;
          rows.push({ results: { columns, rows: data }, success: true, meta: {} });
        }
        return rows;
      });
      return ok(out);
    },
  },
  {
    method: "POST",
    pattern: "/accounts/:account/d1/database/:db/export",
    handler: async (req) => {
      const db = requireDatabase(requireAccount(req), req.params.db ?? "");
      const body = jsonBody<{
        output_format?: string;
        current_bookmark?: string;
        dump_options?: { no_schema?: boolean; no_data?: boolean; tables?: string[] };
      }>(req);
      if (!body.current_bookmark) {
        // First call: start the export and hand back a bookmark to poll with, as D1 does.
        return ok({
          success: true,
          type: "export",
          status: "active",
          at_bookmark: `${db.uuid}-${randomHex32()}`,
          messages: [],
        });
      }
      const opts = body.dump_options ?? {};
      const dump = await dumpDatabase(req, db, {
        noSchema: opts.no_schema === true,
        noData: opts.no_data === true,
        tables: Array.isArray(opts.tables) ? opts.tables : [],
      });
      const token = randomHex32();
      const dir = join(req.services.store.stateDir, "exports");
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${token}.sql`);
      await writeFile(file, dump);
      req.services.presigned.set(token, {
        kind: "export-download",
        db: db.uuid,
        file,
        expires: Date.now() + PRESIGN_TTL_MS,
      });
      const filename = `${db.name}-${new Date().toISOString().replace(/[:.]/g, "-")}.sql`;
      return ok({
        success: true,
        type: "export",
        status: "complete",
        at_bookmark: body.current_bookmark,
        messages: ["Uploaded part 1", "Export complete"],
        result: { filename, signed_url: `${req.services.origin()}/__lego/d1/export/${token}/${filename}` },
      });
    },
  },
  {
    method: "POST",
    pattern: "/accounts/:account/d1/database/:db/import",
    handler: async (req) => {
      const db = requireDatabase(requireAccount(req), req.params.db ?? "");
      const body = jsonBody<{ action?: string; etag?: string; filename?: string; current_bookmark?: string }>(
        req,
      );
      if (body.action === "init") {
        if (typeof body.etag !== "string") throw new CfApiError(400, CfCode.BadRequest, "`etag` is required");
        const token = randomHex32();
        req.services.presigned.set(token, {
          kind: "import-upload",
          db: db.uuid,
          expires: Date.now() + PRESIGN_TTL_MS,
        });
        return ok({
          success: true,
          filename: `import-${token}.sql`,
          upload_url: `${req.services.origin()}/__lego/d1/import/${token}`,
        });
      }
      if (body.action === "ingest") {
        const token = /^import-([0-9a-f]{32})\.sql$/.exec(body.filename ?? "")?.[1];
        const file = token ? join(req.services.store.stateDir, "imports", `${token}.sql`) : undefined;
        let sql: string;
        try {
          if (!file) throw new Error("unknown file");
          sql = await readFile(file, "utf8");
        } catch {
          return ok({
            success: false,
            status: "error",
            error: `Import file ${body.filename} was not uploaded`,
            messages: [],
          });
        }
        if (body.etag && md5Hex(sql) !== body.etag) {
          return ok({
            success: false,
            status: "error",
            error: "The uploaded file does not match its etag",
            messages: [],
          });
        }
        const started = performance.now();
        const statements = splitSqlStatements(sql);
        try {
          const summary = await req.services.runtime.batch(db, statements);
          const rowsRead = summary.rowsRead;
          const rowsWritten = summary.rowsWritten;
          await rm(file as string, { force: true });
          return ok({
            success: true,
            type: "import",
            status: "complete",
            at_bookmark: randomHex32(),
            messages: [`Executed ${statements.length} queries`],
            result: {
              success: true,
              num_queries: statements.length,
              final_bookmark: randomHex32(),
              meta: {
                served_by: "lego-local-cloud",
                duration: performance.now() - started,
                changes: rowsWritten,
                last_row_id: summary.lastRowId,
                changed_db: rowsWritten > 0,
                size_after: summary.sizeAfter,
                rows_read: rowsRead,
                rows_written: rowsWritten,
              },
            },
          });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return ok({
            success: false,
            status: "error",
            error: message.replace(/^D1_ERROR: /, ""),
            messages: [],
          });
        }
      }
      if (body.action === "poll") {
        return ok({
          success: true,
          status: "complete",
          messages: [],
          result: {
            success: true,
            num_queries: 0,
            final_bookmark: body.current_bookmark ?? "",
            meta: { duration: 0, rows_read: 0, rows_written: 0, size_after: 0 },
          },
        });
      }
      throw new CfApiError(400, CfCode.BadRequest, `Unknown import action "${String(body.action)}"`);
    },
  },
  {
    // Time Travel: the bookmark of the database's current state (a snapshot the bookmark names).
    method: "GET",
    pattern: "/accounts/:account/d1/database/:db/time_travel/bookmark",
    handler: async (req) => {
      const db = requireDatabase(requireAccount(req), req.params.db ?? "");
      if (req.query.get("timestamp")) throw noPointInTime();
      const timeTravel = req.services.timeTravel;
      const bookmark = await timeTravel.exclusive(db.uuid, async () =>
        timeTravel.save(db.uuid, await dumpDatabase(req, db)),
      );
      return ok({ bookmark });
    },
  },
  {
    // Time Travel: back to a bookmark; the state it replaces gets a bookmark too, to undo the restore.
    method: "POST",
    pattern: "/accounts/:account/d1/database/:db/time_travel/restore",
    handler: async (req) => {
      const db = requireDatabase(requireAccount(req), req.params.db ?? "");
      const bookmark = req.query.get("bookmark");
      if (!bookmark) {
        if (req.query.get("timestamp")) throw noPointInTime();
        throw new CfApiError(400, CfCode.BadRequest, "A restore needs a `bookmark` or a `timestamp`");
      }
      const timeTravel = req.services.timeTravel;
      const previous = await timeTravel.exclusive(db.uuid, async () => {
        const dump = await timeTravel.read(db.uuid, bookmark);
        if (dump === undefined)
          throw new CfApiError(
            400,
            CfCode.BadRequest,
            `${bookmark} is not a bookmark of the database ${db.uuid}`,
          );
        const before = await timeTravel.save(db.uuid, await dumpDatabase(req, db));
        await replaceWithDump(req, db, dump);
        return before;
      });
      return ok({ bookmark, previous_bookmark: previous, message: "Database restored successfully" });
    },
  },
];

/**
 * Serves the presigned URLs handed out by export/import (no API token, the random path is the key):
 * `PUT /__lego/d1/import/<token>` stores the file and answers its md5 as ETag; `GET /__lego/d1/export/<token>/<name>`
 * returns the dump.
 */
export async function handlePresigned(
  method: string,
  path: string,
  body: Uint8Array,
  services: ApiRequest["services"],
): Promise<RawReply | undefined> {
  const m = /^\/__lego\/d1\/(import|export)\/([0-9a-f]{32})(?:\/[^/]*)?$/.exec(path);
  if (!m) return undefined;
  const token = m[2] as string;
  const entry = services.presigned.get(token);
  const notFound: RawReply = {
    raw: true,
    status: 404,
    headers: { "content-type": "text/plain" },
    body: "NoSuchKey",
  };
  if (!entry || entry.expires < Date.now()) return notFound;
  if (m[1] === "import" && entry.kind === "import-upload" && method === "PUT") {
    const dir = join(services.store.stateDir, "imports");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${token}.sql`), body);
    services.presigned.delete(token);
    return { raw: true, status: 200, headers: { etag: `"${md5Hex(body)}"` }, body: "" };
  }
  if (m[1] === "export" && entry.kind === "export-download" && method === "GET") {
    const data = await readFile(entry.file).catch(() => undefined);
    if (!data) return notFound;
    return {
      raw: true,
      status: 200,
      headers: { "content-type": "application/sql" },
      body: new Uint8Array(data),
    };
  }
  return { raw: true, status: 405, headers: { "content-type": "text/plain" }, body: "Method not allowed" };
}
