// What one wrangler process costs before it does anything, and what share of a portfolio deploy that is:
// Node's boot, loading wrangler's CLI module (a 15 MB bundle), the command's own set-up, bundling the
// Worker (deploy --dry-run) and the API calls (a real deploy to the local cloud, with and without 300 ms
// added to every API call). Every figure is a median over interleaved runs, as wall time and as the CPU
// the process used (user + system; steadier than wall time on a shared machine).
// Then an experiment: one long-lived Node process running several real deploys by evaluating wrangler's
// unmodified CLI module again for each (bench/lib/wrangler-host.cjs), against one process per deploy.
// Run: node bench/wrangler-startup.bench.mjs   Env: BENCH_RUNS (default 5), BENCH_QUICK=1 (2 runs).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { generatePortfolio } from "./portfolio/generate.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { startLocalCloud } = await import("@lego/emulator");
const require = createRequire(import.meta.url);
const wranglerCli = join(dirname(require.resolve("wrangler/package.json")), "wrangler-dist/cli.js");
const RUNS = Number(process.env.BENCH_RUNS ?? (process.env.BENCH_QUICK === "1" ? 2 : 5));
const HOSTED = 4; // deploys per long-lived process in the experiment
const LATENCY_MS = 300;

const work = await mkdtemp(join(tmpdir(), "lego-bench-wrangler-startup-"));
const portfolio = await generatePortfolio(join(work, "portfolio"), { services: 1, levels: 1 });
const service = portfolio.services[0].dir;
const cloud = await startLocalCloud({ stateDir: join(work, "state"), zones: [portfolio.zone] });
const compileCache = join(work, "compile-cache");
const env = {
  PATH: process.env.PATH,
  HOME: work,
  NO_COLOR: "1",
  CLOUDFLARE_API_BASE_URL: cloud.apiBaseUrl,
  CLOUDFLARE_API_TOKEN: cloud.token,
  CLOUDFLARE_ACCOUNT_ID: cloud.accountId,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CI: "true",
  XDG_CONFIG_HOME: join(work, "xdg"),
};
const exec = promisify(execFile);
// CPU time of the children this process has waited for (/proc/self/stat cutime + cstime, 10 ms ticks).
const childCpuMs = () => {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
};
// Async on purpose: the local cloud runs in this process, so a synchronous spawn would starve it.
const node = async (args, extraEnv = {}) => {
  const cpu = childCpuMs();
  const t = performance.now();
  try {
    await exec(process.execPath, args, { env: { ...env, ...extraEnv }, cwd: service, maxBuffer: 64 << 20 });
  } catch (error) {
    throw new Error(`node ${args.join(" ")} failed (${error.code}):\n${error.stderr}`);
  }
  return { wall: performance.now() - t, cpu: childCpuMs() - cpu };
};
const load = ["-e", `require(${JSON.stringify(wranglerCli)})`];
const withCache = { NODE_COMPILE_CACHE: compileCache };
const apiCalls = { deploy: 0 };
const cases = {
  boot: () => node(["-e", "0"]),
  load: () => node(load),
  loadCached: () => node(load, withCache),
  version: () => node([wranglerCli, "--version"]),
  dryRun: () => node([wranglerCli, "deploy", "--dry-run", "--env", "staging", "--outdir", join(work, "out")]),
  deploy: async () => {
    const before = cloud.requests.length;
    const r = await node([wranglerCli, "deploy", "--env", "staging"]);
    apiCalls.deploy = cloud.requests.length - before;
    return r;
  },
  deployCached: () => node([wranglerCli, "deploy", "--env", "staging"], withCache),
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`.padStart(8);

try {
  await cases.deploy(); // the Worker exists: every deploy below is a redeploy
  await cases.loadCached(); // the compile cache is written
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [k, fn] of Object.entries(cases)) samples[k].push(await fn());
  cloud.setFaults([{ route: "*", kind: "latency", latencyMs: LATENCY_MS }]);
  samples.deployLatency = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) samples.deployLatency.push(await cases.deploy());
  cloud.setFaults([]);
  const m = Object.fromEntries(
    Object.entries(samples).map(([k, xs]) => [
      k,
      { wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) },
    ]),
  );
  console.log(`runs: ${RUNS} each, interleaved; medians (wall, and CPU = user + system of the process)`);
  const row = (label, x) => console.log(`  ${label.padEnd(62)}${ms(x.wall)} wall ${ms(x.cpu)} CPU`);
  row("node -e 0 (Node's boot)", m.boot);
  row("node -e require(wrangler-dist/cli.js) (boot + load wrangler)", m.load);
  row("  the same with a warm NODE_COMPILE_CACHE", m.loadCached);
  row("wrangler --version", m.version);
  row("wrangler deploy --dry-run (config + bundle, no API)", m.dryRun);
  row(`wrangler deploy to the local cloud (${apiCalls.deploy} API calls)`, m.deploy);
  row("  the same with a warm NODE_COMPILE_CACHE (as lego runs it)", m.deployCached);
  row(`wrangler deploy, ${LATENCY_MS} ms added to every API call`, m.deployLatency);

  // The breakdown of one deploy, by differences of the medians above.
  const parts = [
    ["Node's boot", m.boot],
    ["loading wrangler's module", { wall: m.load.wall - m.boot.wall, cpu: m.load.cpu - m.boot.cpu }],
    [
      "wrangler's command set-up (--version)",
      { wall: m.version.wall - m.load.wall, cpu: m.version.cpu - m.load.cpu },
    ],
    [
      "config and bundling (--dry-run)",
      { wall: m.dryRun.wall - m.version.wall, cpu: m.dryRun.cpu - m.version.cpu },
    ],
    ["upload and API calls", { wall: m.deploy.wall - m.dryRun.wall, cpu: m.deploy.cpu - m.dryRun.cpu }],
  ];
  const pct = (a, b) => `${((100 * a) / b).toFixed(0)}%`.padStart(4);
  console.log("one deploy, by differences of the medians (share of the deploy; of the deploy with latency)");
  for (const [label, x] of parts) {
    console.log(
      `  ${label.padEnd(40)}${ms(x.wall)} wall ${pct(x.wall, m.deploy.wall)} ${pct(x.wall, m.deployLatency.wall)}   ${ms(x.cpu)} CPU ${pct(x.cpu, m.deploy.cpu)}`,
    );
  }
  console.log(
    `  a 12-service portfolio pays start-up (boot + load) 12 times: ~${((12 * m.load.cpu) / 1000).toFixed(1)} s CPU of ~${((12 * m.deploy.cpu) / 1000).toFixed(1)} s`,
  );

  // The experiment: HOSTED deploys in one process (the module evaluated again each time) against HOSTED
  // separate processes, interleaved.
  const hostScript = join(here, "lib", "wrangler-host.cjs");
  const hosted = [];
  let hostedCalls = 0;
  const separate = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    const jobs = Array.from({ length: HOSTED }, (_, j) => ({
      cwd: service,
      args: ["deploy", "--env", "staging"],
      env: {},
      outputFile: join(work, `out-${i}-${j}.ndjson`),
    }));
    await writeFile(join(work, "jobs.json"), JSON.stringify(jobs));
    const before = cloud.requests.length;
    const total = await node([hostScript, wranglerCli, join(work, "jobs.json"), join(work, "results.json")]);
    hostedCalls = (cloud.requests.length - before) / HOSTED;
    const results = JSON.parse(await readFile(join(work, "results.json"), "utf8"));
    if (results.some((r) => r.state !== "ok"))
      throw new Error(`a hosted deploy failed: ${JSON.stringify(results)}`);
    hosted.push({ total, results });
    const t = { wall: 0, cpu: 0 };
    for (let j = 0; j < HOSTED; j++) {
      const r = await cases.deploy();
      t.wall += r.wall;
      t.cpu += r.cpu;
    }
    separate.push(t);
  }
  const hw = median(hosted.map((h) => h.total.wall));
  const hc = median(hosted.map((h) => h.total.cpu));
  const sw = median(separate.map((s) => s.wall));
  const sc = median(separate.map((s) => s.cpu));
  const first = median(hosted.map((h) => h.results[0].cpuMs));
  const later = median(hosted.flatMap((h) => h.results.slice(1).map((r) => r.cpuMs)));
  console.log(`${HOSTED} real deploys: one process each, against one long-lived process (wrangler-host.cjs)`);
  console.log(`  one process per deploy (baseline)       ${ms(sw)} wall ${ms(sc)} CPU`);
  console.log(
    `  one process, cli.js evaluated per deploy ${ms(hw)} wall ${ms(hc)} CPU   ratio ${(hw / sw).toFixed(2)}x wall, ${(hc / sc).toFixed(2)}x CPU`,
  );
  console.log(
    `  in that process: first deploy ${ms(first)} CPU, each later one ${ms(later)} CPU; ${hostedCalls} API calls per deploy (${apiCalls.deploy} in its own process)`,
  );
} finally {
  await cloud.close();
  await rm(work, { recursive: true, force: true });
}
