// Cron triggers fire on schedule and on demand, and `wrangler tail` streams a deployed Worker's
// console output and exceptions: the pinned wrangler against the local cloud, fixture Workers.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";
import { api, request, runWrangler, WRANGLER, wranglerEnv, writeProject } from "./helpers.ts";

let cloud: LocalCloud;
let home: string;
let dir: string;
let env: Record<string, string>;

const runs = async () =>
  JSON.parse((await request(cloud.port, "ticker.example.com", "/runs")).body) as Record<string, string>;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "lego-emu-cron-"));
  cloud = await startLocalCloud({ stateDir: join(home, "state"), zones: ["example.com"] });
  env = wranglerEnv(cloud, join(home, "xdg"));
  dir = await writeProject("ticker", {
    "wrangler.jsonc": JSON.stringify({
      name: "ticker",
      main: "index.js",
      compatibility_date: "2025-09-01",
      routes: [{ pattern: "ticker.example.com", custom_domain: true }],
      kv_namespaces: [{ binding: "RUNS", id: "00000000000000000000000000c0ffee" }],
      triggers: { crons: ["* * * * *"] },
    }),
    "index.js": `export default {
  async scheduled(controller, env) {
    await env.RUNS.put("run:" + controller.scheduledTime, controller.cron);
  },
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/runs") {
      const { keys } = await env.RUNS.list({ prefix: "run:" });
      const out = {};
      for (const k of keys) out[k.name] = await env.RUNS.get(k.name);
      return Response.json(out);
    }
    if (url.pathname === "/boom") throw new Error("kaboom from the fixture");
    console.log("tail me:", url.pathname);
    return new Response("logged");
  },
};`,
  });
  const run = await runWrangler(dir, ["deploy"], env);
  expect(run.exitCode, run.stderr).toBe(0);
}, 90_000);

afterAll(async () => {
  await cloud?.close();
  await rm(home, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

describe("cron triggers", () => {
  it("fire now through the trigger endpoint, with the expression asked for", async () => {
    const res = await fetch(
      `${cloud.url}/__lego/scripts/ticker/scheduled?cron=${encodeURIComponent("0 3 * * *")}`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${cloud.token}` },
      },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: unknown }).result).toEqual({
      script: "ticker",
      cron: "0 3 * * *",
      outcome: "ok",
    });
    expect(Object.values(await runs())).toContain("0 3 * * *");
    const bad = await fetch(`${cloud.url}/__lego/scripts/ticker/scheduled?cron=nope`, {
      method: "POST",
      headers: { authorization: `Bearer ${cloud.token}` },
    });
    expect(bad.status).toBe(400);
  });

  it("fire on schedule at the minute boundary", async () => {
    const deadline = Date.now() + 75_000;
    let scheduled: string[] = [];
    while (Date.now() < deadline) {
      scheduled = Object.entries(await runs())
        .filter(([, cron]) => cron === "* * * * *")
        .map(([k]) => k);
      if (scheduled.length > 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(scheduled.length).toBeGreaterThan(0);
    // scheduledTime is the minute boundary, as on Cloudflare.
    expect(Number(scheduled[0]?.slice("run:".length)) % 60_000).toBe(0);
  }, 90_000);
});

describe("wrangler tail", () => {
  it("prints a request's console.log and an exception, then deletes its tail on exit", async () => {
    const tail = execa(process.execPath, [WRANGLER, "tail", "ticker", "--format", "json"], {
      cwd: dir,
      env,
      extendEnv: false,
      reject: false,
    });
    let out = "";
    let err = "";
    tail.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    tail.stderr?.on("data", (c: Buffer) => {
      err += c.toString();
    });
    try {
      const deadline = Date.now() + 45_000;
      while (Date.now() < deadline && !out.includes("tail me:")) {
        await request(cloud.port, "ticker.example.com", "/hello");
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(
        out,
        `${err}\n${cloud.requests
          .slice(-8)
          .map((r) => `${r.method} ${r.path} ${r.status}`)
          .join("\n")}`,
      ).toContain("tail me:");
      await request(cloud.port, "ticker.example.com", "/boom");
      const until = Date.now() + 10_000;
      while (Date.now() < until && !out.includes("kaboom")) await new Promise((r) => setTimeout(r, 200));
      const events = out
        .split(/\n(?=\{)/)
        .map((chunk) => {
          try {
            return JSON.parse(chunk) as {
              scriptName: string;
              outcome: string;
              event: { request: { url: string; method: string } };
              logs: Array<{ level: string; message: unknown[] }>;
              exceptions: Array<{ name: string; message: string }>;
            };
          } catch {
            return undefined;
          }
        })
        .filter((e) => e !== undefined);
      const logged = events.find((e) => e.logs.some((l) => l.message.includes("tail me:")));
      expect(logged).toMatchObject({
        scriptName: "ticker",
        outcome: "ok",
        event: { request: { url: "http://ticker.example.com/hello", method: "GET" } },
        logs: [{ level: "log", message: ["tail me:", "/hello"] }],
      });
      const failed = events.find((e) => e.exceptions.length > 0);
      expect(failed?.outcome).toBe("exception");
      expect(failed?.exceptions[0]).toMatchObject({ name: "Error", message: "kaboom from the fixture" });
    } finally {
      tail.kill("SIGINT");
      await tail;
    }
    const open = await api<unknown[]>(
      cloud,
      "GET",
      `/accounts/${cloud.accountId}/workers/scripts/ticker/tails`,
    );
    expect(open.json.result).toEqual([]);
  }, 90_000);

  it("a tail whose client goes away without deleting it is closed after a grace period", async () => {
    const created = await api<{ id: string; url: string }>(
      cloud,
      "POST",
      `/accounts/${cloud.accountId}/workers/scripts/ticker/tails`,
      {},
    );
    const ws = new WebSocket(created.json.result.url, "trace-v1");
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const list = () =>
      api<Array<{ id: string }>>(cloud, "GET", `/accounts/${cloud.accountId}/workers/scripts/ticker/tails`);
    expect((await list()).json.result.map((t) => t.id)).toEqual([created.json.result.id]);
    ws.close();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await list()).json.result.length > 0)
      await new Promise((r) => setTimeout(r, 500));
    expect((await list()).json.result).toEqual([]);
  }, 30_000);
});
