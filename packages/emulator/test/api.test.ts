// The API's error shapes, auth, bad input and fault injection, against one cloud on port 0.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";
import { api, request, uploadForm } from "./helpers.ts";

type Envelope = { success: boolean; errors: Array<{ code: number; message: string }> };

let cloud: LocalCloud;
let dir: string;
const READ_ONLY = "read-only-token";
const acct = () => `/accounts/${cloud.accountId}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lego-emu-api-"));
  cloud = await startLocalCloud({
    stateDir: dir,
    token: "test-token",
    readOnlyTokens: [READ_ONLY],
    zones: ["example.com"],
  });
});
afterAll(async () => {
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

async function stillServing() {
  const res = await api(cloud, "GET", "/user");
  expect(res.status).toBe(200);
}

describe("authentication", () => {
  it("answers Cloudflare's 401 without a token and 403 with a wrong one", async () => {
    const none = await fetch(`${cloud.apiBaseUrl}/user`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({
      success: false,
      errors: [{ code: 10000, message: "Authentication error" }],
      messages: [],
      result: null,
    });
    const wrong = await fetch(`${cloud.apiBaseUrl}/accounts`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as Envelope).errors[0]?.code).toBe(10000);
    const verify = await fetch(`${cloud.apiBaseUrl}/user/tokens/verify`, {
      headers: { authorization: "Bearer nope" },
    });
    expect(verify.status).toBe(401);
    expect(((await verify.json()) as Envelope).errors[0]).toEqual({
      code: 1000,
      message: "Invalid API Token",
    });
  });

  it("a read-only token reads but cannot write", async () => {
    const read = await fetch(`${cloud.apiBaseUrl}${acct()}/workers/scripts`, {
      headers: { authorization: `Bearer ${READ_ONLY}` },
    });
    expect(read.status).toBe(200);
    const write = await fetch(`${cloud.apiBaseUrl}${acct()}/d1/database`, {
      method: "POST",
      headers: { authorization: `Bearer ${READ_ONLY}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "nope" }),
    });
    expect(write.status).toBe(403);
  });

  it("another account id is a 403", async () => {
    const res = await api(cloud, "GET", "/accounts/0123456789abcdef0123456789abcdef/workers/scripts");
    expect(res.status).toBe(403);
    expect(res.json.errors[0]?.code).toBe(9109);
  });
});

describe("errors wrangler and the SDK branch on", () => {
  it("an unknown route is a 501 naming method and path", async () => {
    const res = await api(cloud, "POST", `${acct()}/vectorize/v2/indexes`);
    expect(res.status).toBe(501);
    expect(res.json.errors[0]?.message).toContain(`POST ${acct()}/vectorize/v2/indexes`);
  });

  it("a missing Worker is 404 / 10007 (services: 10090) and a missing D1 is 404 / 7404", async () => {
    const script = await api(cloud, "GET", `${acct()}/workers/scripts/ghost/settings`);
    expect([script.status, script.json.errors[0]?.code]).toEqual([404, 10007]);
    const service = await api(cloud, "GET", `${acct()}/workers/services/ghost`);
    expect([service.status, service.json.errors[0]?.code]).toEqual([404, 10090]);
    const db = await api(cloud, "GET", `${acct()}/d1/database/ghost-db?fields=uuid,name`);
    expect([db.status, db.json.errors[0]?.code]).toEqual([404, 7404]);
  });

  it("a malformed multipart upload is a 400 and the cloud keeps running", async () => {
    const res = await fetch(`${cloud.apiBaseUrl}${acct()}/workers/scripts/broken`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${cloud.token}`,
        "content-type": "multipart/form-data; boundary=xyz",
      },
      body: '--xyz\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{not json',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Envelope).success).toBe(false);
    await stillServing();
  });

  it("an unknown binding type is a 400 naming it", async () => {
    const form = uploadForm("export default { fetch() { return new Response('x'); } };", {
      bindings: [{ type: "quantum_entangler", name: "Q" }],
    });
    const res = await api(cloud, "PUT", `${acct()}/workers/scripts/bad-binding`, form);
    expect(res.status).toBe(400);
    expect(res.json.errors[0]?.code).toBe(10021);
    expect(res.json.errors[0]?.message).toContain("quantum_entangler");
    await stillServing();
  });

  it("a Worker that does not start is refused and the old version keeps serving", async () => {
    const good = uploadForm("export default { fetch() { return new Response('good'); } };");
    expect((await api(cloud, "PUT", `${acct()}/workers/scripts/flaky`, good)).status).toBe(200);
    await api(cloud, "PUT", `${acct()}/workers/scripts/flaky/domains/records`, {
      override_scope: true,
      origins: [{ hostname: "flaky.example.com" }],
    });
    const bad = uploadForm("export default { fetch() { return new Response('bad') ; } ; syntax error here");
    const res = await api(cloud, "PUT", `${acct()}/workers/scripts/flaky`, bad);
    expect(res.status).toBe(400);
    expect(res.json.errors[0]?.code).toBe(10021);
    expect((await request(cloud.port, "flaky.example.com")).body).toBe("good");
  });

  it("an SQL error is a 400 / 7500 with SQLite's message, and later queries work", async () => {
    const db = await api<{ uuid: string }>(cloud, "POST", `${acct()}/d1/database`, { name: "errors-db" });
    const res = await api(cloud, "POST", `${acct()}/d1/database/${db.json.result.uuid}/query`, {
      sql: "SELEC nonsense",
    });
    expect(res.status).toBe(400);
    expect(res.json.errors[0]?.code).toBe(7500);
    expect(res.json.errors[0]?.message).toMatch(/syntax error/);
    const okRes = await api<Array<{ results: unknown[] }>>(
      cloud,
      "POST",
      `${acct()}/d1/database/${db.json.result.uuid}/query`,
      {
        sql: "CREATE TABLE t (a TEXT); INSERT INTO t VALUES ('x;y'); SELECT a FROM t",
      },
    );
    expect(okRes.json.result).toHaveLength(3);
    expect(okRes.json.result[2]?.results).toEqual([{ a: "x;y" }]);
  });

  it("a failing statement in a multi-statement query rolls back the whole batch", async () => {
    const db = await api<{ uuid: string }>(cloud, "POST", `${acct()}/d1/database`, { name: "atomic-db" });
    const q = (sql: string) =>
      api<Array<{ results: unknown[] }>>(
        cloud,
        "POST",
        `${acct()}/d1/database/${db.json.result.uuid}/query`,
        { sql },
      );
    await q("CREATE TABLE t (a INTEGER)");
    expect((await q("INSERT INTO t VALUES (1); INSERT INTO nope VALUES (2)")).status).toBe(400);
    expect((await q("SELECT count(*) AS n FROM t")).json.result[0]?.results).toEqual([{ n: 0 }]);
  });
});

describe("fault injection", () => {
  it("is off by default and injects 429 with Retry-After, 5xx, latency and drops by route", async () => {
    await stillServing();
    cloud.setFaults([{ route: "GET /user", kind: "429", retryAfter: 7 }]);
    const limited = await fetch(`${cloud.apiBaseUrl}/user`, {
      headers: { authorization: `Bearer ${cloud.token}` },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(((await limited.json()) as Envelope).errors[0]?.code).toBe(971);
    // Other routes are untouched.
    expect((await api(cloud, "GET", "/accounts")).status).toBe(200);

    cloud.setFaults([{ route: "GET /accounts", kind: "5xx", status: 502 }]);
    expect((await api(cloud, "GET", "/accounts")).status).toBe(502);

    cloud.setFaults([{ route: /^GET \/user$/, kind: "latency", latencyMs: 300 }]);
    const started = performance.now();
    expect((await api(cloud, "GET", "/user")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);

    cloud.setFaults([{ route: "/memberships", kind: "drop" }]);
    await expect(
      fetch(`${cloud.apiBaseUrl}/memberships`, { headers: { authorization: `Bearer ${cloud.token}` } }),
    ).rejects.toThrow();
    cloud.setFaults([]);
    await stillServing();
  });

  it("`lost` applies the request, then closes the socket without the answer", async () => {
    cloud.setFaults([{ route: "POST */d1/database", kind: "lost" }]);
    await expect(
      fetch(`${cloud.apiBaseUrl}${acct()}/d1/database`, {
        method: "POST",
        headers: { authorization: `Bearer ${cloud.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "lost-answer" }),
      }),
    ).rejects.toThrow();
    cloud.setFaults([]);
    const list = await api<Array<{ name: string }>>(cloud, "GET", `${acct()}/d1/database`);
    expect(list.json.result.map((d) => d.name)).toContain("lost-answer");
    expect(cloud.requests.at(-2)).toMatchObject({ method: "POST", status: 0 });
  });

  it("draws from a seeded generator: the same seed gives the same sequence", async () => {
    const draw = async (seed: number) => {
      cloud.setFaults([{ route: "GET /user", kind: "5xx", probability: 0.5 }], seed);
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await api(cloud, "GET", "/user")).status);
      return out;
    };
    const a = await draw(42);
    const b = await draw(42);
    cloud.setFaults([]);
    expect(a).toEqual(b);
    expect(a).toContain(503);
    expect(a).toContain(200);
  });
});

describe("hosts", () => {
  it("an unknown host is a 404 that names it, and workers.dev follows the subdomain switch", async () => {
    const unknown = await request(cloud.port, "nothing.example.org");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain("nothing.example.org");
    const form = uploadForm("export default { fetch(r) { return new Response(new URL(r.url).hostname); } };");
    expect((await api(cloud, "PUT", `${acct()}/workers/scripts/devy`, form)).status).toBe(200);
    const host = `devy.${cloud.accountSubdomain}.workers.dev`;
    expect((await request(cloud.port, host)).status).toBe(404);
    const sub = await api(cloud, "POST", `${acct()}/workers/scripts/devy/subdomain`, { enabled: true });
    expect(sub.json.result).toEqual({ enabled: true, previews_enabled: true });
    expect((await request(cloud.port, host)).body).toBe(host);
    expect((await request(cloud.port, `${host}.localhost:${cloud.port}`)).body).toBe(host);
  });

  it("routes match by pattern, the most specific first", async () => {
    const a = uploadForm("export default { fetch() { return new Response('routes-a'); } };");
    const b = uploadForm("export default { fetch() { return new Response('routes-b'); } };");
    await api(cloud, "PUT", `${acct()}/workers/scripts/routes-a`, a);
    await api(cloud, "PUT", `${acct()}/workers/scripts/routes-b`, b);
    await api(cloud, "PUT", `${acct()}/workers/scripts/routes-a/routes`, [
      { pattern: "example.com/*", zone_name: "example.com" },
    ]);
    await api(cloud, "PUT", `${acct()}/workers/scripts/routes-b/routes`, [
      { pattern: "example.com/api/*", zone_name: "example.com" },
    ]);
    expect((await request(cloud.port, "example.com", "/home")).body).toBe("routes-a");
    expect((await request(cloud.port, "example.com", "/api/x")).body).toBe("routes-b");
    const zones = await api<Array<{ id: string }>>(cloud, "GET", "/zones?name=example.com");
    const routes = await api<Array<{ pattern: string }>>(
      cloud,
      "GET",
      `/zones/${zones.json.result[0]?.id}/workers/routes`,
    );
    expect(routes.json.result.map((r) => r.pattern).sort()).toEqual(["example.com/*", "example.com/api/*"]);
  });
});
