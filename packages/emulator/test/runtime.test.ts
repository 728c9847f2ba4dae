// What runs: service bindings, percentage deployments, swaps without failed requests, and state that
// survives a restart.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryLogger } from "@lego/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";
import { Runtime } from "../src/runtime/runner.ts";
import { api, request, uploadForm } from "./helpers.ts";

let cloud: LocalCloud;
let dir: string;
const acct = () => `/accounts/${cloud.accountId}`;

async function deploy(script: string, code: string, metadata: Record<string, unknown> = {}, host?: string) {
  const res = await api(cloud, "PUT", `${acct()}/workers/scripts/${script}`, uploadForm(code, metadata));
  expect(res.status, JSON.stringify(res.json.errors)).toBe(200);
  if (host) {
    await api(cloud, "PUT", `${acct()}/workers/scripts/${script}/domains/records`, {
      override_scope: true,
      origins: [{ hostname: host }],
    });
  }
}

async function uploadVersion(script: string, code: string): Promise<string> {
  const res = await api<{ id: string }>(
    cloud,
    "POST",
    `${acct()}/workers/scripts/${script}/versions`,
    uploadForm(code),
  );
  expect(res.status).toBe(200);
  return res.json.result.id;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lego-emu-runtime-"));
  cloud = await startLocalCloud({ stateDir: dir, zones: ["example.com"] });
});
afterAll(async () => {
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the runtime", () => {
  it("runs service bindings to other deployed Workers, and vars of every kind", async () => {
    await deploy(
      "auth",
      "export default { fetch(r) { return new Response('auth says ' + new URL(r.url).pathname); } };",
    );
    await deploy(
      "gateway",
      `export default { async fetch(r, env) {
        const auth = await (await env.AUTH.fetch('https://auth/check')).text();
        return Response.json({ auth, plain: env.PLAIN, json: env.CONF });
      } };`,
      {
        bindings: [
          { type: "service", name: "AUTH", service: "auth" },
          { type: "plain_text", name: "PLAIN", text: "p" },
          { type: "json", name: "CONF", json: { retries: 3 } },
        ],
      },
      "gateway.example.com",
    );
    const res = await request(cloud.port, "gateway.example.com");
    expect(JSON.parse(res.body)).toEqual({ auth: "auth says /check", plain: "p", json: { retries: 3 } });
  });

  it("refuses a service binding to a Worker that does not exist (10143)", async () => {
    const res = await api(
      cloud,
      "PUT",
      `${acct()}/workers/scripts/orphan`,
      uploadForm("export default { fetch() { return new Response('x'); } };", {
        bindings: [{ type: "service", name: "NOPE", service: "does-not-exist" }],
      }),
    );
    expect(res.status).toBe(400);
    expect(res.json.errors[0]?.code).toBe(10143);
  });

  it("splits traffic of a percentage deployment between two versions", async () => {
    await deploy(
      "split",
      "export default { fetch() { return new Response('one'); } };",
      {},
      "split.example.com",
    );
    const first = (
      await api<{ items: Array<{ id: string }> }>(cloud, "GET", `${acct()}/workers/scripts/split/versions`)
    ).json.result.items[0]?.id as string;
    const second = await uploadVersion(
      "split",
      "export default { fetch() { return new Response('two'); } };",
    );
    const dep = await api(cloud, "POST", `${acct()}/workers/scripts/split/deployments`, {
      strategy: "percentage",
      versions: [
        { version_id: first, percentage: 70 },
        { version_id: second, percentage: 30 },
      ],
    });
    expect(dep.status).toBe(200);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const body = (await request(cloud.port, "split.example.com")).body;
      counts[body] = (counts[body] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(["one", "two"]);
    expect(counts.one).toBeGreaterThan(100);
    expect(counts.two).toBeGreaterThan(30);
    const pinned = await request(cloud.port, "split.example.com", "/", {
      headers: { "cloudflare-workers-version-overrides": `split="${second}"` },
    });
    expect(pinned.body).toBe("two");
    const bad = await api(cloud, "POST", `${acct()}/workers/scripts/split/deployments`, {
      strategy: "percentage",
      versions: [{ version_id: first, percentage: 60 }],
    });
    expect(bad.status).toBe(400);
  });

  it("swaps versions without failing requests in flight", async () => {
    await deploy(
      "swap",
      "export default { async fetch() { await new Promise((r) => setTimeout(r, 20)); return new Response('gen-0'); } };",
      {},
      "swap.example.com",
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const statuses: number[] = [];
    const bodies = new Set<string>();
    let stop = false;
    const one = () =>
      new Promise<void>((resolve) => {
        const req = http.get(
          { host: "127.0.0.1", port: cloud.port, path: "/", headers: { host: "swap.example.com" }, agent },
          (res) => {
            let body = "";
            res.on("data", (c) => {
              body += c;
            });
            res.on("end", () => {
              statuses.push(res.statusCode ?? 0);
              bodies.add(body);
              resolve();
            });
          },
        );
        req.on("error", () => {
          statuses.push(-1);
          resolve();
        });
      });
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) await one();
    });
    for (let g = 1; g <= 3; g++) {
      await deploy(
        "swap",
        `export default { async fetch() { await new Promise((r) => setTimeout(r, 20)); return new Response('gen-${g}'); } };`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(load);
    agent.destroy();
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(bodies.has("gen-3")).toBe(true);
    expect((await request(cloud.port, "swap.example.com")).body).toBe("gen-3");
  });

  it("checks an uploaded version by preparing its deployment, not in a throwaway workerd", async () => {
    await deploy(
      "redeploy",
      "export default { fetch() { return new Response('v1'); } };",
      {},
      "redeploy.example.com",
    );
    const validate = vi.spyOn(Runtime.prototype, "validate");
    const prepare = vi.spyOn(Runtime.prototype, "prepare");
    try {
      for (const code of [
        "export default { fetch() { return new Response('x') ; } ; syntax error here",
        "throw new Error('boom at start-up'); export default { fetch() { return new Response('x'); } };",
      ]) {
        const bad = await api(cloud, "POST", `${acct()}/workers/scripts/redeploy/versions`, uploadForm(code));
        expect(bad.status).toBe(400);
        expect(bad.json.errors[0]?.code).toBe(10021);
      }
      // A version that fails in the prepared deployment is checked on its own before it is refused.
      expect(validate).toHaveBeenCalledTimes(2);
      expect((await request(cloud.port, "redeploy.example.com")).body).toBe("v1");

      const v2 = await uploadVersion(
        "redeploy",
        "export default { fetch() { return new Response('v2'); } };",
      );
      expect(prepare).toHaveBeenCalledTimes(3);
      expect(validate).toHaveBeenCalledTimes(2);
      expect((await request(cloud.port, "redeploy.example.com")).body).toBe("v1");
      const dep = await api(cloud, "POST", `${acct()}/workers/scripts/redeploy/deployments`, {
        strategy: "percentage",
        versions: [{ version_id: v2, percentage: 100 }],
      });
      expect(dep.status).toBe(200);
      expect((await request(cloud.port, "redeploy.example.com")).body).toBe("v2");
    } finally {
      validate.mockRestore();
      prepare.mockRestore();
    }
  });

  it("keeps scripts, versions, secrets, zones and D1 data across a restart", async () => {
    await deploy(
      "keeper",
      `export default { async fetch(r, env) {
        const row = await env.DB.prepare('SELECT v FROM kv WHERE k = ?').bind('a').first();
        return Response.json({ secret: env.TOKEN, v: row?.v ?? null });
      } };`,
      { bindings: [{ type: "d1", name: "DB", id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" }] },
      "keeper.example.com",
    );
    await api(cloud, "PUT", `${acct()}/workers/scripts/keeper/secrets`, {
      name: "TOKEN",
      text: "kept",
      type: "secret_text",
    });
    const q = await api(cloud, "POST", `${acct()}/d1/database/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/query`, {
      sql: "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT); INSERT INTO kv VALUES ('a', 'persisted')",
    });
    expect(q.status).toBe(200);
    expect(JSON.parse((await request(cloud.port, "keeper.example.com")).body)).toEqual({
      secret: "kept",
      v: "persisted",
    });
    const token = cloud.token;
    await cloud.close();
    const started = performance.now();
    cloud = await startLocalCloud({ stateDir: dir, token });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(JSON.parse((await request(cloud.port, "keeper.example.com")).body)).toEqual({
      secret: "kept",
      v: "persisted",
    });
    expect((await request(cloud.port, "gateway.example.com")).status).toBe(200);
    const zones = await api<Array<{ name: string }>>(cloud, "GET", "/zones");
    expect(zones.json.result.map((z) => z.name)).toContain("example.com");
    const versions = await api<{ items: unknown[] }>(
      cloud,
      "GET",
      `${acct()}/workers/scripts/split/versions`,
    );
    expect(versions.json.result.items).toHaveLength(2);
  });
});

describe("more of the Workers API", () => {
  it("runs KV and R2 bindings on local storage", async () => {
    await deploy(
      "storage",
      `export default { async fetch(r, env) {
        await env.KV.put("k", "kv-value");
        await env.BUCKET.put("o", "r2-value");
        return Response.json({ kv: await env.KV.get("k"), r2: await (await env.BUCKET.get("o")).text() });
      } };`,
      {
        bindings: [
          { type: "kv_namespace", name: "KV", namespace_id: "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f" },
          { type: "r2_bucket", name: "BUCKET", bucket_name: "local-bucket" },
        ],
      },
      "storage.example.com",
    );
    expect(JSON.parse((await request(cloud.port, "storage.example.com")).body)).toEqual({
      kv: "kv-value",
      r2: "r2-value",
    });
  });

  it("takes 4.86's secret bulk (PATCH settings as a multipart form) and deletes secrets", async () => {
    await deploy(
      "legacy",
      "export default { fetch(r, env) { return Response.json({ a: env.A ?? null, b: env.B ?? null, v: env.V }); } };",
      { bindings: [{ type: "plain_text", name: "V", text: "var" }] },
      "legacy.example.com",
    );
    const settings = await api<{ bindings: Array<{ type: string; name: string }> }>(
      cloud,
      "GET",
      `${acct()}/workers/scripts/legacy/settings`,
    );
    const form = new FormData();
    form.set(
      "settings",
      JSON.stringify({
        bindings: [
          ...settings.json.result.bindings.map((b) => ({ type: "inherit", name: b.name })),
          { type: "secret_text", name: "A", text: "one" },
          { type: "secret_text", name: "B", text: "two" },
        ],
      }),
    );
    expect((await api(cloud, "PATCH", `${acct()}/workers/scripts/legacy/settings`, form)).status).toBe(200);
    expect(JSON.parse((await request(cloud.port, "legacy.example.com")).body)).toEqual({
      a: "one",
      b: "two",
      v: "var",
    });
    expect((await api(cloud, "DELETE", `${acct()}/workers/scripts/legacy/secrets/A`)).status).toBe(200);
    expect(JSON.parse((await request(cloud.port, "legacy.example.com")).body)).toEqual({
      a: null,
      b: "two",
      v: "var",
    });
    const missing = await api(cloud, "DELETE", `${acct()}/workers/scripts/legacy/secrets/A`);
    expect([missing.status, missing.json.errors[0]?.code]).toEqual([404, 10056]);
  });

  it("deletes a script with its domain", async () => {
    expect((await api(cloud, "DELETE", `${acct()}/workers/scripts/legacy`)).status).toBe(200);
    expect((await request(cloud.port, "legacy.example.com")).status).toBe(404);
    const domains = await api<Array<{ hostname: string }>>(cloud, "GET", `${acct()}/workers/domains`);
    expect(domains.json.result.map((d) => d.hostname)).not.toContain("legacy.example.com");
    const refused = await api(cloud, "DELETE", `${acct()}/workers/scripts/auth`);
    expect([refused.status, refused.json.errors[0]?.code]).toEqual([400, 10143]);
  });
});

describe("WebSockets", () => {
  it("pipes an upgrade through to the Worker", async () => {
    await deploy(
      "sockets",
      `export default { fetch(r) {
        if (r.headers.get("upgrade") !== "websocket") return new Response("no upgrade", { status: 426 });
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        server.addEventListener("message", (e) => server.send("echo:" + e.data));
        return new Response(null, { status: 101, webSocket: client });
      } };`,
      {},
      "ws.example.com",
    );
    const net = await import("node:net");
    const socket = net.connect(cloud.port, "127.0.0.1");
    const head = await new Promise<string>((resolve, reject) => {
      let buf = "";
      socket.on("data", (d) => {
        buf += d.toString("latin1");
        if (buf.includes("\r\n\r\n")) resolve(buf);
      });
      socket.on("error", reject);
      socket.write(
        "GET / HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    socket.destroy();
    expect(head.split("\r\n")[0]).toBe("HTTP/1.1 101 Switching Protocols");
    expect(head.toLowerCase()).toContain("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=");
  });
});

describe("concurrent deploys", () => {
  const names = ["c1", "c2", "c3", "c4"];
  const code = (body: string) =>
    `export default { fetch() { return new Response(${JSON.stringify(body)}); } };`;

  it("uploads at once: each is checked on its own, a Worker that throws at start-up is refused alone", async () => {
    for (const n of names) await deploy(n, code(`${n} v1`), {}, `${n}.example.com`);
    const uploads = await Promise.all(
      names.map((n) =>
        api<{ id: string }>(
          cloud,
          "POST",
          `${acct()}/workers/scripts/${n}/versions`,
          uploadForm(n === "c3" ? "throw new Error('boom at start-up');" : code(`${n} v2`)),
        ),
      ),
    );
    expect(uploads.map((u) => u.status)).toEqual([200, 200, 400, 200]);
    expect(uploads[2]?.json.errors[0]?.code).toBe(10021);
    expect(uploads[2]?.json.errors[0]?.message).toContain("boom at start-up");
    // Recorded: the good versions, not the refused one.
    const listed = await api<{ items: Array<{ id: string }> }>(
      cloud,
      "GET",
      `${acct()}/workers/scripts/c3/versions`,
    );
    expect(listed.json.result.items).toHaveLength(1);

    // Deployments at once, one of them of a version that does not exist: it alone is refused (404),
    // the others are all live, each answering with its new version.
    const deployments = await Promise.all(
      names.map((n, i) =>
        api(cloud, "POST", `${acct()}/workers/scripts/${n}/deployments`, {
          strategy: "percentage",
          versions: [
            {
              version_id: n === "c3" ? "00000000-0000-4000-8000-000000000000" : uploads[i]?.json.result.id,
              percentage: 100,
            },
          ],
        }),
      ),
    );
    expect(deployments.map((d) => d.status)).toEqual([200, 200, 404, 200]);
    const bodies = await Promise.all(names.map((n) => request(cloud.port, `${n}.example.com`)));
    expect(bodies.map((b) => b.body)).toEqual(["c1 v2", "c2 v2", "c3 v1", "c4 v2"]);
    // And the record agrees: each script's active deployment is the version it answers with.
    for (const [i, n] of names.entries()) {
      const active = await api<{ deployments: Array<{ versions: Array<{ version_id: string }> }> }>(
        cloud,
        "GET",
        `${acct()}/workers/scripts/${n}/deployments`,
      );
      const live = active.json.result.deployments[0]?.versions[0]?.version_id;
      if (n === "c3") expect(live).toBeDefined();
      else expect(live).toBe(uploads[i]?.json.result.id);
    }
  });
});

describe("start-up with a Worker that no longer starts", () => {
  it("leaves it out, serves the others, and takes it back on the next deploy", async () => {
    const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as {
      scripts: Record<string, { versions: Array<{ modules: Array<{ sha256: string }> }> }>;
    };
    const sha = state.scripts.storage?.versions.at(-1)?.modules[0]?.sha256 as string;
    const token = cloud.token;
    await cloud.close();
    await writeFile(join(dir, "modules", sha), "export default { fetch( ");
    const logger = createMemoryLogger();
    cloud = await startLocalCloud({ stateDir: dir, token, logger });
    expect((await request(cloud.port, "storage.example.com")).status).toBe(503);
    expect(JSON.parse((await request(cloud.port, "keeper.example.com")).body)).toEqual({
      secret: "kept",
      v: "persisted",
    });
    expect(logger.records.some((r) => r.level === "error" && r.fields?.script === "storage")).toBe(true);
    await deploy("storage", "export default { fetch() { return new Response('fixed'); } };");
    expect((await request(cloud.port, "storage.example.com")).body).toBe("fixed");
  });
});
