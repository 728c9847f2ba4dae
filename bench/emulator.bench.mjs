// Benchmarks of @lego/emulator (the local cloud), each against a baseline measured in the same run:
//  1. deploy-to-serving: what a wrangler deploy costs beyond wrangler itself (target < 1 s);
//  2. serving throughput of a hello Worker through the local cloud's port vs Miniflare alone (>= 0.8x);
//  3. start-up of a local cloud with 20 persisted Workers, 5 of them with a SQLite Durable Object (target < 2 s).
// Run after `pnpm exec turbo run build`: `node bench/emulator.bench.mjs`. It imports the built dist.
// The file re-runs itself with `--load` as the HTTP load generator, so load and server use separate cores.
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const HELLO = `export default { fetch() { return new Response("hello"); } };`;

if (process.argv[2] === "--load") {
  const [, , , url, host, secs, conc] = process.argv;
  await loadGenerator(url, host, Number(secs), Number(conc));
  process.exit(0);
}

async function loadGenerator(url, host, secs, conc) {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
  let ok = 0;
  let failed = 0;
  const end = Date.now() + secs * 1000;
  const one = () =>
    new Promise((resolve) => {
      const req = http.request(
        { host: u.hostname, port: u.port, path: "/", agent, headers: host ? { host } : {} },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode === 200) ok++;
            else failed++;
            resolve();
          });
        },
      );
      req.on("error", () => {
        failed++;
        resolve();
      });
      req.end();
    });
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (Date.now() < end) await one();
    }),
  );
  agent.destroy();
  process.stdout.write(JSON.stringify({ rps: ok / secs, failed }));
}

const ef = promisify(execFile);
async function load(url, host, secs = 3, conc = 16) {
  const { stdout } = await ef(process.execPath, [
    fileURLToPath(import.meta.url),
    "--load",
    url,
    host ?? "",
    String(secs),
    String(conc),
  ]);
  return JSON.parse(stdout);
}

function get(port, host) {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", headers: { host }, agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", () => resolve({ status: 0, body: "" }));
  });
}

function form(code, metadata = {}) {
  const f = new FormData();
  f.set(
    "metadata",
    JSON.stringify({ main_module: "index.js", compatibility_date: "2025-09-01", bindings: [], ...metadata }),
  );
  f.set("index.js", new File([code], "index.js", { type: "application/javascript+module" }));
  return f;
}

async function deployViaApi(cloud, name, code, host, metadata) {
  const base = `${cloud.apiBaseUrl}/accounts/${cloud.accountId}/workers/scripts/${name}`;
  const headers = { authorization: `Bearer ${cloud.token}` };
  const res = await fetch(base, { method: "PUT", headers, body: form(code, metadata) });
  if (!res.ok) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
  await fetch(`${base}/domains/records`, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ override_scope: true, origins: [{ hostname: host }] }),
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${Math.round(x)} ms`;

const { startLocalCloud } = await import("@lego/emulator");
const { Miniflare } = await import("miniflare");
const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);
const work = await mkdtemp(join(tmpdir(), "lego-bench-emulator-"));

try {
  // 1. Deploy-to-serving.
  {
    const cloud = await startLocalCloud({ stateDir: join(work, "deploy"), zones: ["example.com"] });
    const project = join(work, "project");
    await mkdir(join(project, "src"), { recursive: true });
    const writeCode = (v) =>
      writeFile(
        join(project, "src", "index.js"),
        `export default { fetch() { return new Response("${v}"); } };`,
      );
    await writeFile(
      join(project, "wrangler.json"),
      JSON.stringify({
        name: "bench-worker",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        routes: [{ pattern: "bench.example.com", custom_domain: true }],
      }),
    );
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: join(work, "xdg"),
      XDG_CONFIG_HOME: join(work, "xdg"),
      CLOUDFLARE_API_BASE_URL: cloud.apiBaseUrl,
      CLOUDFLARE_API_TOKEN: cloud.token,
      CLOUDFLARE_ACCOUNT_ID: cloud.accountId,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_HIDE_BANNER: "true",
      CI: "true",
    };
    const rows = [];
    for (let i = 1; i <= 4; i++) {
      const marker = `build-${i}`;
      await writeCode(marker);
      const before = cloud.requests.length;
      const t0 = performance.now();
      await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [wranglerBin, "deploy"], {
          cwd: project,
          env,
          stdio: "ignore",
        });
        child.on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`wrangler deploy exited ${code}`)),
        );
      });
      const wranglerMs = performance.now() - t0;
      let r;
      do r = await get(cloud.port, "bench.example.com");
      while (r.body !== marker);
      const afterExitMs = performance.now() - t0 - wranglerMs;
      const deployCalls = cloud.requests
        .slice(before)
        .filter(
          (q) => /\/workers\/scripts\/[^/]+(\/versions|\/deployments)?$/.test(q.path) && q.method !== "GET",
        );
      const serverMs = deployCalls.reduce((a, q) => a + q.durationMs, 0);
      rows.push({ wranglerMs, serverMs, afterExitMs, beyond: serverMs + afterExitMs });
    }
    await cloud.close();
    console.log("deploy-to-serving (wrangler deploy, first deploy then 3 redeploys):");
    for (const [i, r] of rows.entries()) {
      console.log(
        `  #${i + 1} wrangler run ${ms(r.wranglerMs)}; local cloud upload+deploy handling ${ms(r.serverMs)}; exit -> first 200 of new code ${ms(r.afterExitMs)}`,
      );
    }
    const beyond = median(rows.map((r) => r.beyond));
    console.log(
      `  median cost beyond wrangler's own work: ${ms(beyond)} (target < 1000 ms) ${beyond < 1000 ? "OK" : "MISS"}`,
    );
  }

  // 2. Throughput: through the local cloud's port vs Miniflare alone, same Worker, same run.
  {
    const cloud = await startLocalCloud({ stateDir: join(work, "throughput"), zones: ["example.com"] });
    await deployViaApi(cloud, "hello", HELLO, "hello.example.com");
    const mf = new Miniflare({
      host: "127.0.0.1",
      port: 0,
      cf: {},
      enableDevRegistry: false,
      workers: [
        {
          config: {
            name: "hello",
            compatibilityDate: "2025-09-01",
            manifest: { mainModule: "index.js", modules: { "index.js": { type: "esm", contents: HELLO } } },
          },
        },
      ],
    });
    const mfUrl = (await mf.ready).href;
    await load(mfUrl, "", 1);
    await load(cloud.url, "hello.example.com", 1);
    const alone = [];
    const cloudRps = [];
    for (let i = 0; i < 2; i++) {
      alone.push((await load(mfUrl, "")).rps);
      cloudRps.push((await load(cloud.url, "hello.example.com")).rps);
    }
    await mf.dispose();
    await cloud.close();
    const a = Math.max(...alone);
    const c = Math.max(...cloudRps);
    console.log("serving throughput of a hello Worker (16 keep-alive connections, best of 2 x 3 s):");
    console.log(`  Miniflare alone:          ${Math.round(a)} req/s`);
    console.log(`  through the local cloud:  ${Math.round(c)} req/s`);
    console.log(`  ratio: ${(c / a).toFixed(2)}x (target >= 0.8x) ${c / a >= 0.8 ? "OK" : "MISS"}`);
  }

  // 3. Start-up with 20 persisted Workers.
  {
    const stateDir = join(work, "startup");
    const first = await startLocalCloud({ stateDir });
    // Every 4th Worker keeps a counter in a SQLite Durable Object (w0, w4, …, w16).
    const withDo = (i) => `import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  hit() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS n (v INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO n VALUES (1)");
    return this.ctx.storage.sql.exec("SELECT count(*) AS c FROM n").one().c;
  }
}
export default { async fetch(r, env) { return new Response("w${i}:" + (await env.COUNTER.get(env.COUNTER.idFromName("a")).hit())); } };`;
    const doMeta = {
      migrations: { new_tag: "v1", new_sqlite_classes: ["Counter"] },
      bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" }],
    };
    for (let i = 0; i < 20; i++)
      await deployViaApi(
        first,
        `w${i}`,
        i % 4 === 0 ? withDo(i) : `export default { fetch() { return new Response("w${i}"); } };`,
        `w${i}.example.com`,
        i % 4 === 0 ? doMeta : undefined,
      );
    const warm = await get(first.port, "w16.example.com");
    if (warm.body !== "w16:1") throw new Error(`w16 answered ${warm.status} ${warm.body}`);
    const token = first.token;
    await first.close();
    const times = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const cloud = await startLocalCloud({ stateDir, token });
      const r = await get(cloud.port, "w19.example.com");
      times.push(performance.now() - t0);
      if (r.body !== "w19") throw new Error(`w19 answered ${r.status} ${r.body}`);
      // The Durable Object's SQLite state survived the restart.
      const d = await get(cloud.port, "w16.example.com");
      if (d.body !== `w16:${i + 2}`) throw new Error(`w16 answered ${d.status} ${d.body}`);
      await cloud.close();
    }
    const t = median(times);
    console.log(
      "start-up with 20 persisted Workers, 5 with a SQLite Durable Object (to the first 200 of the 20th):",
    );
    console.log(
      `  runs: ${times.map(ms).join(", ")}; median ${ms(t)} (target < 2000 ms) ${t < 2000 ? "OK" : "MISS"}`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
