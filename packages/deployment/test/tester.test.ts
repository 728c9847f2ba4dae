import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createManualClock } from "@lego/core";
import type { ProductionTests } from "@lego/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultHttpClient, ProductionTester, waitUntilLive } from "../src/index.ts";

let server: Server;
let base: string;
let healthy = true;
let version = "v1";
const TOKEN = "tok-abcdef123456";

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/health")
      return healthy ? send(200, { ok: true, version, host: req.headers.host }) : send(503, { ok: false });
    if (url.pathname === "/token" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const parsed = JSON.parse(body || "{}");
        if (parsed.password === "hunter2-secret") send(200, { data: { token: TOKEN } });
        else send(401, { error: "bad password" });
      });
      return;
    }
    if (url.pathname === "/me") {
      return req.headers.authorization === `Bearer ${TOKEN}`
        ? send(200, { user: "me" })
        : send(401, { error: "no" });
    }
    if (url.pathname === "/flaky") return Math.random() < 2 ? send(500, {}) : send(200, {});
    send(404, {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const tests = (t: Partial<ProductionTests>): ProductionTests => ({
  health: { path: "/health", expectStatus: 200 },
  ...t,
});

describe("ProductionTester", () => {
  it("passes health, JSON fields, auth flow, latency and burst against a live server", async () => {
    const tester = new ProductionTester({
      secret: async (n) => (n === "ADMIN_PASSWORD" ? "hunter2-secret" : undefined),
    });
    const report = await tester.runProductionTests(
      base,
      tests({
        health: { path: "/health", expectStatus: 200, expectJson: { ok: true, version: "v1" } },
        auth: {
          token: {
            login: {
              method: "POST",
              path: "/token",
              body: { password: "{{secret:ADMIN_PASSWORD}}" },
              token: { json: "data.token" },
            },
          },
          header: "Authorization",
          scheme: "Bearer",
          protectedRoute: { method: "GET", path: "/me", expectStatus: 200, unauthorizedStatus: [401, 403] },
        },
        latency: { path: "/health", samples: 10, p95Ms: 5_000 },
        burst: { path: "/health", concurrency: 5, requests: 20, maxErrorRate: 0 },
      }),
    );
    expect(report.checks.map((c) => [c.id, c.ok])).toEqual([
      ["health", true],
      ["auth.login", true],
      ["auth.without-token", true],
      ["auth.with-token", true],
      ["latency", true],
      ["burst", true],
    ]);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.id === "latency")?.details).toMatchObject({
      samples: 10,
      failures: 0,
    });
    expect(JSON.stringify(report)).not.toContain("hunter2-secret");
    expect(JSON.stringify(report)).not.toContain(TOKEN);
  });

  it("reports what failed, and keeps running the other checks", async () => {
    const report = await new ProductionTester().runProductionTests(
      base,
      tests({
        health: { path: "/health", expectStatus: 200, expectJson: { version: "v2" } },
        burst: { path: "/flaky", concurrency: 2, requests: 4, maxErrorRate: 0.5 },
      }),
    );
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toMatchObject({
      id: "health",
      ok: false,
      message: expect.stringContaining('expected "v2", got "v1"'),
    });
    expect(report.checks[1]).toMatchObject({
      id: "burst",
      ok: false,
      details: { failed: 4, statuses: { 500: 4 } },
    });
  });

  it("a connection error is a failed check, not a crash", async () => {
    const report = await new ProductionTester({ timeoutMs: 2_000 }).runProductionTests("http://127.0.0.1:1/");
    expect(report.ok).toBe(false);
    expect(report.checks[0]?.message).toMatch(/request failed/);
  });
});

describe("waitUntilLive", () => {
  it("polls with growing backoff until the expected version answers", async () => {
    healthy = false;
    version = "v1";
    const clock = createManualClock();
    let calls = 0;
    const http: typeof defaultHttpClient = async (url, o) => {
      calls++;
      if (calls === 3) healthy = true;
      if (calls === 5) version = "0a2c5f3e-1111-4222-8333-944445555666";
      return defaultHttpClient(url, o);
    };
    version = "0a2c5f3e-0000-4000-8000-900000000000";
    const result = await waitUntilLive({
      baseUrl: base,
      expectVersion: "0a2c5f3e-1111-4222-8333-944445555666",
      http,
      clock,
    });
    expect(result.attempts).toBe(5);
    expect(clock.slept).toEqual([100, 150, 225, 338]);
  });

  it("gives up after the timeout with the last observation", async () => {
    healthy = false;
    const clock = createManualClock();
    await expect(waitUntilLive({ baseUrl: base, timeoutMs: 1_000, clock })).rejects.toMatchObject({
      code: "ERR_NOT_LIVE",
      exitCode: 1,
      message: expect.stringContaining("expected status 200, got 503"),
    });
    healthy = true;
  });

  it("a 503 naming no version fails fast once the API says only the new version is deployed", async () => {
    const fresh = "0a2c5f3e-3333-4444-8555-966667777888";
    const http: typeof defaultHttpClient = async () => ({
      status: 503,
      headers: {},
      body: JSON.stringify({ ok: false }),
      durationMs: 1,
    });
    const clock = createManualClock();
    let asked = 0;
    await expect(
      waitUntilLive({
        baseUrl: base,
        expectVersion: fresh,
        timeoutMs: 30_000,
        http,
        clock,
        servesOnlyExpectedVersion: async () => {
          asked++;
          return true;
        },
      }),
    ).rejects.toMatchObject({
      code: "ERR_NOT_LIVE",
      message: expect.stringMatching(/\(the only version deployed\), but failed its health check \d+ times/),
    });
    expect(asked).toBe(1);
    expect(clock.now()).toBeLessThan(5_000);
    // While the API still deploys another version too (a rollout), the same answers wait for the timeout.
    const slow = createManualClock();
    await expect(
      waitUntilLive({
        baseUrl: base,
        expectVersion: fresh,
        timeoutMs: 30_000,
        http,
        clock: slow,
        servesOnlyExpectedVersion: async () => false,
      }),
    ).rejects.toMatchObject({
      message: expect.stringContaining("did not answer as the new version within 30 s"),
    });
    expect(slow.now()).toBeGreaterThanOrEqual(30_000);
  });

  it("stops early when the new version itself keeps failing its health check", async () => {
    const fresh = "0a2c5f3e-2222-4333-8444-955556666777";
    const clock = createManualClock();
    let calls = 0;
    const http: typeof defaultHttpClient = async () => {
      calls++;
      // The old version answers twice (a rollout in progress), then the new one, always with a 500.
      const version = calls <= 2 ? "0a2c5f3e-0000-4000-8000-900000000000" : fresh;
      return { status: 500, headers: {}, body: JSON.stringify({ ok: false, version }), durationMs: 1 };
    };
    await expect(
      waitUntilLive({ baseUrl: base, expectVersion: fresh, timeoutMs: 30_000, http, clock }),
    ).rejects.toMatchObject({
      code: "ERR_NOT_LIVE",
      message: expect.stringContaining(`the new version ${fresh} answers, but failed its health check`),
    });
    // 2 answers from the old version, then the new one's until 5 in a row spanning 2 s, long before 30 s.
    expect(calls).toBeGreaterThanOrEqual(7);
    expect(clock.now()).toBeLessThan(10_000);
    // An old version failing never ends the wait early: only the timeout does.
    const slow = createManualClock();
    const old: typeof defaultHttpClient = async () => ({
      status: 500,
      headers: {},
      body: JSON.stringify({ version: "0a2c5f3e-0000-4000-8000-900000000000" }),
      durationMs: 1,
    });
    await expect(
      waitUntilLive({ baseUrl: base, expectVersion: fresh, timeoutMs: 20_000, http: old, clock: slow }),
    ).rejects.toMatchObject({ message: expect.stringContaining("within 20 s") });
    expect(slow.now()).toBeGreaterThanOrEqual(20_000);
  });

  it("resolves *.localhost names to loopback, as browsers do", async () => {
    const port = new URL(base).port;
    const res = await defaultHttpClient(`http://api.example.com.localhost:${port}/health`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).host).toBe(`api.example.com.localhost:${port}`);
  });
});
