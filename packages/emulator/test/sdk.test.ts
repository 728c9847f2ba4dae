// The official `cloudflare` SDK against the local cloud: its page-number pagination only stops on an
// empty page, so complete lists across several pages prove the slicing is right.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Cloudflare from "cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";
import { api, uploadForm } from "./helpers.ts";

let cloud: LocalCloud;
let dir: string;
let cf: Cloudflare;
const ZONES = ["a.test", "b.test", "c.test", "d.test", "e.test", "f.test", "g.test"];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lego-emu-sdk-"));
  cloud = await startLocalCloud({ stateDir: dir, zones: ZONES });
  cf = new Cloudflare({ apiToken: cloud.token, baseURL: cloud.apiBaseUrl, maxRetries: 0 });
  for (const name of ["s1", "s2", "s3"]) {
    const res = await api(
      cloud,
      "PUT",
      `/accounts/${cloud.accountId}/workers/scripts/${name}`,
      uploadForm(`export default { fetch() { return new Response("${name}"); } };`),
    );
    expect(res.status).toBe(200);
  }
});
afterAll(async () => {
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

async function all<T>(iter: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iter) out.push(x);
  return out;
}

describe("the cloudflare SDK", () => {
  it("verifies the token and lists accounts page by page", async () => {
    expect((await cf.user.tokens.verify()).status).toBe("active");
    const accounts = await all(cf.accounts.list({ per_page: 1 }));
    expect(accounts.map((a) => a.id)).toEqual([cloud.accountId]);
  });

  it("lists every zone over several pages, and finds one by name", async () => {
    const before = cloud.requests.length;
    const zones = await all(cf.zones.list({ per_page: 3 }));
    expect(zones.map((z) => z.name).sort()).toEqual(ZONES);
    const pages = cloud.requests.slice(before).filter((r) => r.path === "/zones");
    expect(pages.length).toBe(4); // 3 + 3 + 1, then the empty page that stops the SDK
    const byName = await all(cf.zones.list({ name: "c.test" }));
    expect(byName.map((z) => z.name)).toEqual(["c.test"]);
  });

  it("lists Workers scripts, their versions and deployments, and sets secrets", async () => {
    const scripts = await all(cf.workers.scripts.list({ account_id: cloud.accountId }));
    expect(scripts.map((s) => s.id).sort()).toEqual(["s1", "s2", "s3"]);
    const versions = await all(cf.workers.scripts.versions.list("s1", { account_id: cloud.accountId }));
    expect(versions).toHaveLength(1);
    const deployments = await all(cf.workers.scripts.deployments.list("s1", { account_id: cloud.accountId }));
    expect(deployments).toHaveLength(1);
    await cf.workers.scripts.secrets.update("s1", {
      account_id: cloud.accountId,
      name: "K",
      text: "v",
      type: "secret_text",
    });
    const secrets = await all(cf.workers.scripts.secrets.list("s1", { account_id: cloud.accountId }));
    expect(secrets.map((s) => s.name)).toEqual(["K"]);
    const sub = await cf.workers.subdomains.get({ account_id: cloud.accountId });
    expect(sub.subdomain).toBe(cloud.accountSubdomain);
  });

  it("creates, lists (over pages) and queries D1 databases", async () => {
    for (let i = 0; i < 5; i++) await cf.d1.database.create({ account_id: cloud.accountId, name: `db-${i}` });
    const dbs = await all(cf.d1.database.list({ account_id: cloud.accountId, per_page: 2 }));
    expect(dbs.map((d) => d.name).sort()).toEqual(["db-0", "db-1", "db-2", "db-3", "db-4"]);
    const uuid = dbs[0]?.uuid as string;
    const results = await all(
      cf.d1.database.query(uuid, {
        account_id: cloud.accountId,
        sql: "CREATE TABLE t (a); INSERT INTO t VALUES (1); SELECT a FROM t",
      }),
    );
    expect(results).toHaveLength(3);
    expect(results[2]?.results).toEqual([{ a: 1 }]);
  });
});
