import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";

// wrangler's import flow (init → PUT upload_url → ingest) with a large file: the statements run as one
// batch inside workerd, so tens of thousands of rows import in one request, and twice in a row.
describe("D1 import of a large file", () => {
  let dir: string;
  let cloud: LocalCloud;
  let db: string;
  const headers = () => ({ authorization: `Bearer ${cloud.token}`, "content-type": "application/json" });
  const api = (path: string) => `${cloud.apiBaseUrl}/accounts/${cloud.accountId}/d1/database${path}`;
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON envelopes, read field by field in the assertions
  const post = async (path: string, body: unknown): Promise<any> =>
    (await fetch(api(path), { method: "POST", headers: headers(), body: JSON.stringify(body) })).json();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lego-emulator-import-"));
    cloud = await startLocalCloud({ stateDir: join(dir, "state") });
    db = (await post("", { name: "big" })).result.uuid;
  });
  afterAll(async () => {
    await cloud?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function importSql(sql: string) {
    const etag = createHash("md5").update(sql).digest("hex");
    const init = (await post(`/${db}/import`, { action: "init", etag })).result;
    const put = await fetch(init.upload_url, { method: "PUT", body: sql });
    expect(put.headers.get("etag")).toContain(etag);
    return post(`/${db}/import`, { action: "ingest", filename: init.filename, etag });
  }

  it("imports 30,000 rows, then again after a drop, and a failing file changes nothing", async () => {
    const rows = 30_000;
    const lines = ["CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT);"];
    for (let i = 1; i <= rows; i++) lines.push(`INSERT INTO events VALUES (${i}, 'k${i}');`);
    const sql = lines.join("\n");
    const first = await importSql(sql);
    expect(first.result).toMatchObject({ status: "complete", result: { num_queries: rows + 1 } });
    expect(first.result.result.meta.rows_written).toBeGreaterThanOrEqual(rows);
    await post(`/${db}/query`, { sql: "DROP TABLE events" });
    expect((await importSql(sql)).result.status).toBe("complete");
    const bad = await importSql("INSERT INTO events VALUES (999999, 'x');\nINSERT INTO missing VALUES (1);");
    expect(bad.result).toMatchObject({
      status: "error",
      error: expect.stringContaining("no such table: missing"),
    });
    const count = await post(`/${db}/query`, { sql: "SELECT COUNT(*) AS n FROM events" });
    expect(count.result[0].results[0].n).toBe(rows);
  }, 60_000);
});
