// What one wrangler process costs before it does anything, and what share of a portfolio deploy that is:
// Node's boot, loading wrangler's CLI module (a 15 MB bundle), the command's own set-up, bundling the
// Worker (deploy --dry-run) and the API calls (a real deploy to the local cloud, with and without 300 ms
// added to every API call). Every figure is a median over interleaved runs, as wall time and as the CPU
// the process used (user + system; steadier than wall time on a shared machine).
// Then what Lego built on it: its wrangler runner with long-lived processes (each runs wrangler's
// unmodified CLI module afresh per command; packages/cloudflare/src/wrangler/host.ts) against one process
// per command.
// Run: node bench/wrangler-startup.bench.mjs   Env: BENCH_RUNS (default 5), BENCH_QUICK=1 (2 runs).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { generatePortfolio } from "./portfolio/generate.mjs";

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

  // What Lego does about it (@lego/cloudflare's runner, `reuseProcesses`): HOSTED deploys through a runner
  // with long-lived wrangler processes (the unmodified CLI module evaluated afresh per command) against a
  // runner with one process per command, interleaved. CPU counts once the runner's processes are reaped
  // (dispose), so each sample is a fresh runner; its state folder (and so the compile cache) is shared.
  const { createWranglerRunner } = await import("@lego/cloudflare");
  const stateDir = join(work, "runner-state");
  const viaRunner = async (reuseProcesses) => {
    const cpu = childCpuMs();
    const t = performance.now();
    const runner = createWranglerRunner({
      cwd: service,
      target: { apiBaseUrl: cloud.apiBaseUrl, token: cloud.token, accountId: cloud.accountId },
      baseEnv: { PATH: process.env.PATH, HOME: work },
      stateDir,
      reuseProcesses,
    });
    const walls = [];
    const before = cloud.requests.length;
    try {
      for (let j = 0; j < HOSTED; j++) {
        const d = performance.now();
        const r = await runner.deploy({ env: "staging" });
        if (r.run.reusedProcess !== (reuseProcesses && j > 0))
          throw new Error(
            `deploy ${j}: reusedProcess ${r.run.reusedProcess}, expected ${reuseProcesses && j > 0}`,
          );
        walls.push(performance.now() - d);
      }
    } finally {
      await runner.dispose();
    }
    return {
      wall: performance.now() - t,
      cpu: childCpuMs() - cpu,
      walls,
      calls: (cloud.requests.length - before) / HOSTED,
    };
  };
  await viaRunner(true); // the runner's compile cache is written
  const hosted = [];
  const separate = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    separate.push(await viaRunner(false));
    hosted.push(await viaRunner(true));
  }
  const hw = median(hosted.map((h) => h.wall));
  const hc = median(hosted.map((h) => h.cpu));
  const sw = median(separate.map((s) => s.wall));
  const sc = median(separate.map((s) => s.cpu));
  const first = median(hosted.map((h) => h.walls[0]));
  const later = median(hosted.flatMap((h) => h.walls.slice(1)));
  console.log(
    `${HOSTED} real deploys through Lego's wrangler runner: one process per command, against long-lived processes`,
  );
  console.log(`  reuseProcesses: false (one process per deploy)  ${ms(sw)} wall ${ms(sc)} CPU`);
  console.log(
    `  reuseProcesses: true (the default)               ${ms(hw)} wall ${ms(hc)} CPU   ratio ${(hw / sw).toFixed(2)}x wall, ${(hc / sc).toFixed(2)}x CPU`,
  );
  console.log(
    `  with long-lived processes: first deploy ${ms(first)} wall, each later one ${ms(later)} wall; ${median(hosted.map((h) => h.calls))} API calls per deploy (${apiCalls.deploy} in wrangler's own process)`,
  );
} finally {
  await cloud.close();
  await rm(work, { recursive: true, force: true });
}
