// What full-stack templates deploy, with fixture Workers of our own, through the pinned wrangler:
// static assets (upload session, buckets, completion token, html_handling, not_found_handling,
// run_worker_first, the ASSETS binding) and SQLite Durable Objects (migrations at upload, state across
// redeploys and restarts).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";
import { api, request, runWrangler, wranglerEnv, writeProject } from "./helpers.ts";

let cloud: LocalCloud;
let home: string;
let env: Record<string, string>;
const projects: string[] = [];

async function deploy(dir: string, args: string[] = []) {
  const run = await runWrangler(dir, ["deploy", ...args], env);
  expect(run.exitCode, run.stderr + run.stdout).toBe(0);
  return run;
}

async function start() {
  cloud = await startLocalCloud({ stateDir: join(home, "state"), zones: ["example.com"] });
  env = wranglerEnv(cloud, join(home, "xdg"));
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "lego-emu-bindings-"));
  await start();
});

afterAll(async () => {
  await cloud?.close();
  await rm(home, { recursive: true, force: true });
  for (const p of projects) await rm(p, { recursive: true, force: true });
});

describe("static assets", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeProject("site", {
      "wrangler.jsonc": JSON.stringify({
        name: "site",
        main: "src/worker.js",
        compatibility_date: "2025-09-01",
        routes: [{ pattern: "site.example.com", custom_domain: true }],
        assets: {
          directory: "./public",
          binding: "ASSETS",
          html_handling: "auto-trailing-slash",
          not_found_handling: "single-page-application",
          run_worker_first: ["/api/*"],
        },
      }),
      "src/worker.js": `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/api/page") {
      const page = await env.ASSETS.fetch(new URL("/about", request.url));
      return Response.json({ from: "worker", status: page.status, title: (await page.text()).match(/<h1>(.*)<\\/h1>/)?.[1] });
    }
    return Response.json({ from: "worker", path: url.pathname });
  },
};`,
      "public/index.html": "<!doctype html><h1>Home</h1>",
      "public/about.html": "<!doctype html><h1>About us</h1>",
      "public/app.css": "body { color: teal }",
    });
    projects.push(dir);
  });

  it("deploys with the upload session, then serves files, pretty URLs, the SPA fallback and the Worker first on /api/*", async () => {
    const run = await deploy(dir);
    expect(run.stdout + run.stderr).toMatch(/Uploaded 3 files|3 new or modified/);
    const home = await request(cloud.port, "site.example.com", "/");
    expect(home.status).toBe(200);
    expect(home.body).toContain("<h1>Home</h1>");
    expect(home.headers["content-type"]).toMatch(/text\/html/);
    const css = await request(cloud.port, "site.example.com", "/app.css");
    expect(css.body).toBe("body { color: teal }");
    expect(css.headers["content-type"]).toMatch(/text\/css/);
    // html_handling auto-trailing-slash: /about serves about.html, /about.html redirects to /about.
    expect((await request(cloud.port, "site.example.com", "/about")).body).toContain("About us");
    const redirect = await request(cloud.port, "site.example.com", "/about.html");
    expect(redirect.status).toBe(307);
    expect(redirect.headers.location).toBe("/about");
    // not_found_handling single-page-application: an unknown navigation gets index.html.
    const spa = await request(cloud.port, "site.example.com", "/dashboard/settings", {
      headers: { "sec-fetch-mode": "navigate", accept: "text/html" },
    });
    expect(spa.status).toBe(200);
    expect(spa.body).toContain("<h1>Home</h1>");
    // run_worker_first ["/api/*"]: the Worker answers, and reads an asset through env.ASSETS.
    const apiPage = await request(cloud.port, "site.example.com", "/api/page");
    expect(JSON.parse(apiPage.body)).toEqual({ from: "worker", status: 200, title: "About us" });
  }, 60_000);

  it("a redeploy uploads only changed files and serves them", async () => {
    await writeFile(join(dir, "public", "about.html"), "<!doctype html><h1>About v2</h1>");
    const run = await deploy(dir);
    expect(run.stdout + run.stderr).toMatch(/1 new or modified|Uploaded 1 file/);
    expect((await request(cloud.port, "site.example.com", "/about")).body).toContain("About v2");
    const scripts = await api<Array<{ id: string; has_assets: boolean }>>(
      cloud,
      "GET",
      `/accounts/${cloud.accountId}/workers/scripts`,
    );
    expect(scripts.json.result.find((s) => s.id === "site")?.has_assets).toBe(true);
  }, 60_000);

  it("applies the project's _redirects and _headers (sent in the upload's assets config)", async () => {
    await writeFile(join(dir, "public", "_redirects"), "/old-about /about 301\n");
    await writeFile(join(dir, "public", "_headers"), "/app.css\n  X-Lego-Test: from-headers-file\n");
    await deploy(dir);
    const moved = await request(cloud.port, "site.example.com", "/old-about");
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe("/about");
    const css = await request(cloud.port, "site.example.com", "/app.css");
    expect(css.headers["x-lego-test"]).toBe("from-headers-file");
    // They are configuration, not files: wrangler does not upload them and they are not served.
    expect((await request(cloud.port, "site.example.com", "/_redirects")).body).not.toContain("/old-about");
  }, 60_000);

  it("an assets-only Worker (no main) deploys and serves its files", async () => {
    const only = await writeProject("static-only", {
      "wrangler.jsonc": JSON.stringify({
        name: "static-only",
        compatibility_date: "2025-09-01",
        routes: [{ pattern: "static.example.com", custom_domain: true }],
        assets: { directory: "./dist", not_found_handling: "404-page" },
      }),
      "dist/index.html": "<h1>static</h1>",
      "dist/404.html": "<h1>not here</h1>",
    });
    projects.push(only);
    await deploy(only);
    expect((await request(cloud.port, "static.example.com", "/")).body).toBe("<h1>static</h1>");
    const missing = await request(cloud.port, "static.example.com", "/nope");
    expect(missing.status).toBe(404);
    expect(missing.body).toBe("<h1>not here</h1>");
  }, 60_000);
});

describe("Durable Objects", () => {
  let dir: string;
  const COUNTER = (label: string) => `import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, at TEXT)");
  }
  hit() {
    this.ctx.storage.sql.exec("INSERT INTO hits (at) VALUES (?)", new Date().toISOString());
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM hits").one().n;
  }
}
export default {
  async fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name") ?? "default";
    const stub = env.COUNTER.get(env.COUNTER.idFromName(name));
    return Response.json({ label: "${label}", count: await stub.hit() });
  },
};`;
  beforeAll(async () => {
    dir = await writeProject("counter", {
      "wrangler.jsonc": JSON.stringify({
        name: "counter",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        routes: [{ pattern: "counter.example.com", custom_domain: true }],
        durable_objects: { bindings: [{ name: "COUNTER", class_name: "Counter" }] },
        migrations: [{ tag: "v1", new_sqlite_classes: ["Counter"] }],
      }),
      "src/index.js": COUNTER("one"),
    });
    projects.push(dir);
  });

  const hit = async (name = "a") =>
    JSON.parse((await request(cloud.port, "counter.example.com", `/?name=${name}`)).body) as {
      label: string;
      count: number;
    };

  it("applies new_sqlite_classes at upload and keeps SQLite state per object", async () => {
    await deploy(dir);
    expect(await hit()).toEqual({ label: "one", count: 1 });
    expect(await hit()).toEqual({ label: "one", count: 2 });
    expect(await hit("b")).toEqual({ label: "one", count: 1 });
    const ns = await api<Array<{ class: string; script: string; use_sqlite: boolean }>>(
      cloud,
      "GET",
      `/accounts/${cloud.accountId}/workers/durable_objects/namespaces`,
    );
    expect(ns.json.result).toMatchObject([{ class: "Counter", script: "counter", use_sqlite: true }]);
  }, 60_000);

  it("keeps state across a redeploy (wrangler reads the migration tag and sends no step) and a restart", async () => {
    await writeFile(join(dir, "src", "index.js"), COUNTER("two"));
    await deploy(dir);
    expect(await hit()).toEqual({ label: "two", count: 3 });
    await cloud.close();
    await start();
    expect(await hit()).toEqual({ label: "two", count: 4 });
  }, 60_000);

  it("renamed_classes keep the objects' storage; a binding to a class no migration created is refused", async () => {
    await writeFile(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({
        name: "counter",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        routes: [{ pattern: "counter.example.com", custom_domain: true }],
        durable_objects: { bindings: [{ name: "COUNTER", class_name: "Tally" }] },
        migrations: [
          { tag: "v1", new_sqlite_classes: ["Counter"] },
          { tag: "v2", renamed_classes: [{ from: "Counter", to: "Tally" }] },
        ],
      }),
    );
    await writeFile(join(dir, "src", "index.js"), COUNTER("three").replace("class Counter", "class Tally"));
    await deploy(dir);
    expect(await hit()).toEqual({ label: "three", count: 5 });

    const bad = await writeProject("bad-do", {
      "wrangler.jsonc": JSON.stringify({
        name: "bad-do",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        durable_objects: { bindings: [{ name: "X", class_name: "Missing" }] },
      }),
      "src/index.js": "export class Missing {} export default { fetch() { return new Response('x'); } };",
    });
    projects.push(bad);
    const run = await runWrangler(bad, ["deploy"], env);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr + run.stdout).toContain("10061");
  }, 90_000);

  it("another Worker reaches the same objects through script_name", async () => {
    const caller = await writeProject("caller", {
      "wrangler.jsonc": JSON.stringify({
        name: "caller",
        main: "index.js",
        compatibility_date: "2025-09-01",
        routes: [{ pattern: "caller.example.com", custom_domain: true }],
        durable_objects: { bindings: [{ name: "TALLY", class_name: "Tally", script_name: "counter" }] },
      }),
      "index.js": `export default {
  async fetch(request, env) {
    const stub = env.TALLY.get(env.TALLY.idFromName("a"));
    return Response.json({ via: "caller", count: await stub.hit() });
  },
};`,
    });
    projects.push(caller);
    await deploy(caller);
    const seen = JSON.parse((await request(cloud.port, "caller.example.com", "/")).body);
    expect(seen).toEqual({ via: "caller", count: 6 });
    expect(await hit()).toEqual({ label: "three", count: 7 });
  }, 60_000);
});
