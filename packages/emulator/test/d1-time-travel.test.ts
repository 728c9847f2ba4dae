import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";

// D1 Time Travel over the API: a bookmark names the database's state when it was handed out; a
// restore puts schema, rows and AUTOINCREMENT counters back exactly, answers a bookmark of the state it
// replaced, and both survive a restart of the cloud.
describe("D1 Time Travel", () => {
  let dir: string;
  let cloud: LocalCloud;
  let db: string;
  const headers = () => ({ authorization: `Bearer ${cloud.token}`, "content-type": "application/json" });
  const api = (path: string) => `${cloud.apiBaseUrl}/accounts/${cloud.accountId}/d1/database${path}`;
  // The API's JSON envelopes, read field by field in the assertions.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  type Envelope = any;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Envelope }> => {
    const res = await fetch(api(path), {
      method,
      headers: headers(),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() };
  };
  const sql = async (text: string) => {
    const res = await call("POST", `/${db}/query`, { sql: text });
    expect(res.json.success).toBe(true);
    return res.json.result as Array<{ results: Array<Record<string, unknown>> }>;
  };
  const bookmark = async (id = db) => {
    const res = await call("GET", `/${id}/time_travel/bookmark`);
    expect(res.status).toBe(200);
    return res.json.result.bookmark as string;
  };
  /** Every schema object and every row, sqlite_sequence included. */
  const stateOf = async () => {
    const [schema] = await sql(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE substr(name, 1, 4) <> '_cf_' ORDER BY type, name",
    );
    const rows: Record<string, unknown> = {};
    for (const o of schema!.results)
      if (o.type === "table")
        rows[String(o.name)] = (await sql(`SELECT * FROM "${o.name}" ORDER BY rowid`))[0]!.results;
    return { schema: schema!.results, rows };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lego-emulator-time-travel-"));
    cloud = await startLocalCloud({ stateDir: join(dir, "state") });
    db = (await call("POST", "", { name: "tt" })).json.result.uuid;
    await sql(`CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id), title TEXT, cover BLOB);
CREATE INDEX books_by_author ON books (author_id);
CREATE VIEW titles AS SELECT title FROM books ORDER BY id;
CREATE TRIGGER authors_upper AFTER INSERT ON authors BEGIN UPDATE authors SET name = upper(name) WHERE id = NEW.id; END;
INSERT INTO authors (name) VALUES ('ada'), ('grace'), ('it''s; tricky');
INSERT INTO books VALUES (1, 1, 'notes', X'00ff'), (2, 2, 'line one
line two', NULL);
DELETE FROM authors WHERE id = 3;`);
  });
  afterAll(async () => {
    await cloud?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("restores schema, rows and counters exactly, answers the replaced state's bookmark, and undoes", async () => {
    const before = await stateOf();
    const b1 = await bookmark();
    expect(b1).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);
    // Nothing written since: the same bookmark, as on D1.
    expect(await bookmark()).toBe(b1);

    await sql(`PRAGMA defer_foreign_keys = on;
DELETE FROM books WHERE id = 2;
UPDATE books SET title = 'changed' WHERE id = 1;
INSERT INTO authors (name) VALUES ('later');
DROP VIEW titles;
DROP TRIGGER authors_upper;
CREATE TABLE added (x);
INSERT INTO added VALUES (1);`);
    const changed = await stateOf();
    expect(changed).not.toEqual(before);

    const restore = await call("POST", `/${db}/time_travel/restore?bookmark=${b1}`);
    expect(restore.status).toBe(200);
    expect(restore.json.result).toMatchObject({ bookmark: b1, message: expect.any(String) });
    const b2 = restore.json.result.previous_bookmark as string;
    expect(b2).toMatch(/^[0-9a-f]{8}-/);
    expect(b2).not.toBe(b1);
    expect(b2 > b1).toBe(true);
    expect(await stateOf()).toEqual(before);
    // The AUTOINCREMENT counter came back too: the next author is 4 (3 was used, then deleted).
    await sql("INSERT INTO authors (name) VALUES ('next')");
    expect((await sql("SELECT id, name FROM authors WHERE name = 'NEXT'"))[0]!.results).toEqual([
      { id: 4, name: "NEXT" },
    ]);

    // The previous bookmark undoes the restore.
    await call("POST", `/${db}/time_travel/restore?bookmark=${b2}`);
    expect(await stateOf()).toEqual(changed);
  }, 60_000);

  it("keeps bookmarks across a restart of the cloud", async () => {
    const state = await stateOf();
    const b = await bookmark();
    await sql("DELETE FROM books; DELETE FROM added;");
    await cloud.close();
    cloud = await startLocalCloud({ stateDir: join(dir, "state") });
    const restore = await call("POST", `/${db}/time_travel/restore?bookmark=${b}`);
    expect(restore.status).toBe(200);
    expect(await stateOf()).toEqual(state);
  }, 60_000);

  it("refuses an unknown bookmark, another database's bookmark and a timestamp, changing nothing", async () => {
    const state = await stateOf();
    const other = (await call("POST", "", { name: "tt-other" })).json.result.uuid as string;
    const foreign = await bookmark(other);
    for (const query of [
      "bookmark=00000000-00000000-00000000-00000000000000000000000000000000",
      "bookmark=../../state",
      `bookmark=${foreign}`,
      `timestamp=${encodeURIComponent(new Date().toISOString())}`,
      "",
    ]) {
      const res = await call("POST", `/${db}/time_travel/restore?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json).toMatchObject({ success: false, errors: [{ code: 10001 }], result: null });
    }
    const info = await call("GET", `/${db}/time_travel/bookmark?timestamp=2026-01-01T00:00:00Z`);
    expect(info.status).toBe(400);
    expect(info.json.errors[0].message).toMatch(/bookmark/);
    expect(await stateOf()).toEqual(state);
    // A missing database is D1's 404 / 7404.
    const missing = await call("GET", "/00000000-0000-0000-0000-000000000000/time_travel/bookmark");
    expect(missing.status).toBe(404);
    expect(missing.json.errors[0].code).toBe(7404);
  }, 60_000);
});
