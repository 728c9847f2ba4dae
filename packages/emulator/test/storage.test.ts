// KV and R2 management through the pinned wrangler: namespaces, keys (single and bulk), buckets and
// objects; a deployed Worker sees what wrangler wrote and wrangler reads what the Worker wrote.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";
import { api, request, runWrangler, type WranglerRun, wranglerEnv, writeProject } from "./helpers.ts";

let cloud: LocalCloud;
let home: string;
let dir: string;
let env: Record<string, string>;

async function wrangler(args: string[]): Promise<WranglerRun> {
  const started = Date.now();
  const run = await runWrangler(dir, args, env);
  if (process.env.LEGO_TIMINGS) console.log(args.slice(0, 3).join(" "), Date.now() - started, "ms");
  if (run.exitCode !== 0)
    throw new Error(`wrangler ${args.join(" ")} exited ${run.exitCode}\n${run.stdout}\n${run.stderr}`);
  return run;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "lego-emu-storage-"));
  cloud = await startLocalCloud({ stateDir: join(home, "state"), zones: ["example.com"] });
  env = wranglerEnv(cloud, join(home, "xdg"));
  dir = await writeProject("storage", { "package.json": "{}" });
});

afterAll(async () => {
  await cloud?.close();
  await rm(home, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

describe("KV and R2 management", () => {
  let nsId: string;

  it("kv namespace create | list, r2 bucket create | list", async () => {
    const created = await wrangler(["kv", "namespace", "create", "cache"]);
    nsId = /"?id"?\s*[:=]\s*"([0-9a-f]{32})"/.exec(created.stdout)?.[1] ?? "";
    expect(nsId).toMatch(/^[0-9a-f]{32}$/);
    const list = JSON.parse((await wrangler(["kv", "namespace", "list"])).stdout) as Array<{
      id: string;
      title: string;
    }>;
    expect(list).toEqual([expect.objectContaining({ id: nsId, title: "cache" })]);
    const dup = await runWrangler(dir, ["kv", "namespace", "create", "cache"], env);
    expect(dup.exitCode).not.toBe(0);
    expect(dup.stdout + dup.stderr).toContain('A KV namespace with the title "cache" already exists');

    await wrangler(["r2", "bucket", "create", "media"]);
    const buckets = await wrangler(["r2", "bucket", "list"]);
    expect(buckets.stdout).toContain("media");
  }, 60_000);

  it("a Worker bound to both deploys (4.164 looks the bucket up) and shares data with wrangler kv / r2 object", async () => {
    await writeFile(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({
        name: "storage",
        main: "index.js",
        compatibility_date: "2025-09-01",
        routes: [{ pattern: "storage.example.com", custom_domain: true }],
        kv_namespaces: [{ binding: "CACHE", id: nsId }],
        r2_buckets: [{ binding: "MEDIA", bucket_name: "media" }],
      }),
    );
    await writeFile(
      join(dir, "index.js"),
      `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST") {
      await env.CACHE.put("from-worker", "written by the Worker", { metadata: { by: "worker" } });
      await env.MEDIA.put("notes/hello.txt", "hello from R2", { httpMetadata: { contentType: "text/plain" } });
      return new Response("stored");
    }
    const uploaded = await env.MEDIA.get("uploads/up.txt");
    return Response.json({ greeting: await env.CACHE.get("greeting"), uploaded: uploaded ? await uploaded.text() : null });
  },
};`,
    );
    await wrangler(["deploy"]);
    await wrangler(["kv", "key", "put", "--namespace-id", nsId, "greeting", "hi there", "--remote"]);
    await writeFile(join(home, "up.txt"), "uploaded with wrangler");
    await wrangler([
      "r2",
      "object",
      "put",
      "media/uploads/up.txt",
      "--file",
      join(home, "up.txt"),
      "--remote",
    ]);
    const seen = JSON.parse((await request(cloud.port, "storage.example.com", "/")).body);
    expect(seen).toEqual({ greeting: "hi there", uploaded: "uploaded with wrangler" });

    expect((await request(cloud.port, "storage.example.com", "/", { method: "POST" })).body).toBe("stored");
    const keys = JSON.parse(
      (await wrangler(["kv", "key", "list", "--namespace-id", nsId, "--remote"])).stdout,
    );
    expect(keys).toEqual([{ name: "from-worker", metadata: { by: "worker" } }, { name: "greeting" }]);
    const value = await wrangler([
      "kv",
      "key",
      "get",
      "--namespace-id",
      nsId,
      "from-worker",
      "--remote",
      "--text",
    ]);
    expect(value.stdout.trim()).toBe("written by the Worker");
    const object = await wrangler(["r2", "object", "get", "media/notes/hello.txt", "--pipe", "--remote"]);
    expect(object.stdout).toBe("hello from R2");
  }, 90_000);

  it("kv bulk put | delete, key delete, and bucket delete refused while it holds objects", async () => {
    await writeFile(
      join(home, "bulk.json"),
      JSON.stringify([
        { key: "a", value: "1" },
        { key: "b", value: Buffer.from("two").toString("base64"), base64: true },
      ]),
    );
    await wrangler(["kv", "bulk", "put", join(home, "bulk.json"), "--namespace-id", nsId, "--remote"]);
    const b = await fetch(
      `${cloud.apiBaseUrl}/accounts/${cloud.accountId}/storage/kv/namespaces/${nsId}/values/b`,
      {
        headers: { authorization: `Bearer ${cloud.token}` },
      },
    );
    expect(await b.text()).toBe("two");
    await wrangler(["kv", "key", "delete", "--namespace-id", nsId, "greeting", "--remote"]);
    await writeFile(join(home, "del.json"), JSON.stringify(["a", "b"]));
    await wrangler([
      "kv",
      "bulk",
      "delete",
      join(home, "del.json"),
      "--namespace-id",
      nsId,
      "--remote",
      "--force",
    ]);
    const keys = JSON.parse(
      (await wrangler(["kv", "key", "list", "--namespace-id", nsId, "--remote"])).stdout,
    );
    expect(keys.map((k: { name: string }) => k.name)).toEqual(["from-worker"]);

    const refused = await api(cloud, "DELETE", `/accounts/${cloud.accountId}/r2/buckets/media`);
    expect(refused.status).toBe(409);
    expect(refused.json.errors[0]?.code).toBe(10008);
    await wrangler(["r2", "object", "delete", "media/notes/hello.txt", "--remote"]);
    await wrangler(["r2", "object", "delete", "media/uploads/up.txt", "--remote"]);
    await wrangler(["r2", "bucket", "create", "scratch"]);
    await wrangler(["r2", "bucket", "delete", "scratch"]);
    const missing = await api(cloud, "GET", `/accounts/${cloud.accountId}/r2/buckets/scratch`);
    expect(missing.status).toBe(404);
    expect(missing.json.errors[0]?.code).toBe(10006);
  }, 90_000);

  it("wrangler provisions what a config names without ids: a KV namespace, an R2 bucket, a D1 database", async () => {
    const prov = await writeProject("provision", {
      "wrangler.jsonc": JSON.stringify({
        name: "provision",
        main: "index.js",
        compatibility_date: "2025-09-01",
        routes: [{ pattern: "provision.example.com", custom_domain: true }],
        kv_namespaces: [{ binding: "KV" }],
        r2_buckets: [{ binding: "B", bucket_name: "fresh-bucket" }],
        d1_databases: [{ binding: "DB", database_name: "fresh-db" }],
      }),
      "index.js": `export default {
  async fetch(request, env) {
    await env.KV.put("a", "1");
    await env.B.put("x", "y");
    const row = await env.DB.prepare("SELECT 1 AS one").first();
    return Response.json({ kv: await env.KV.get("a"), r2: await (await env.B.get("x")).text(), d1: row.one });
  },
};`,
    });
    try {
      const before = cloud.requests.length;
      const run = await runWrangler(prov, ["deploy"], env);
      expect(run.exitCode, run.stderr).toBe(0);
      const calls = cloud.requests
        .slice(before)
        .map((r) => `${r.status} ${r.method} ${r.path.replace(cloud.accountId, ":a")}`);
      expect(calls).toEqual(
        expect.arrayContaining([
          "404 GET /accounts/:a/r2/buckets/fresh-bucket",
          "200 POST /accounts/:a/r2/buckets",
          "200 POST /accounts/:a/storage/kv/namespaces",
          "200 POST /accounts/:a/d1/database",
        ]),
      );
      const seen = JSON.parse((await request(cloud.port, "provision.example.com", "/")).body);
      expect(seen).toEqual({ kv: "1", r2: "y", d1: 1 });
    } finally {
      await rm(prov, { recursive: true, force: true });
    }
  }, 90_000);
});
