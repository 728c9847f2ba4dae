// @lego/orchestration: `lego deploy --all --env staging --no-tests` over a generated portfolio (12 services
// in 3 dependency levels, bench/portfolio/generate.mjs) against a sequential `wrangler deploy` loop over the
// same services in dependency order, to the same local cloud, in the same run. Both redeploy (every Worker
// exists), runs are interleaved (which one goes first alternates), medians compared. Then the same with
// 300 ms added to every API call (the local cloud's latency fault, standing in for the distance to
// Cloudflare). Targets: lego / loop <= 0.60 without latency, <= 0.35 with it.
// Run: node bench/orchestration.bench.mjs   (after `pnpm exec turbo run build`)
// Env: BENCH_RUNS (default 3 per condition: each run is 12 deploys, so its noise averages out more than
//      deploy.bench's single deploy; ~15 min on an idle 2-core machine), BENCH_QUICK=1 (1 run per condition, no lego warm-up),
//      BENCH_CONCURRENCY=N (passed as `lego deploy --concurrency N` when the CLI has that option),
//      BENCH_SERVICES / BENCH_LEVELS (default 12 / 3), BENCH_LATENCY_MS (default 300).
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { snapshotCli } from "./lib/cli-snapshot.mjs";
import { dependencyOrder, generatePortfolio } from "./portfolio/generate.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const legoApp = join(here, "../apps/lego");
if (!existsSync(join(legoApp, "dist/bin.js"))) {
  console.error("lego is not built: run `pnpm exec turbo run build` first.");
  process.exit(1);
}
// The bench takes minutes: it runs a private copy of the built CLI, which a rebuild cannot remove midway.
const cli = await snapshotCli(legoApp);
const legoBin = cli.bin;
const { registerLocalCloud, startLocalCloud } = await import("@lego/emulator");
const require = createRequire(import.meta.url);
const wranglerCli = join(dirname(require.resolve("wrangler/package.json")), "wrangler-dist/cli.js");

const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
const SERVICES = Number(process.env.BENCH_SERVICES ?? 12);
const LEVELS = Number(process.env.BENCH_LEVELS ?? 3);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 300);
const CONCURRENCY = process.env.BENCH_CONCURRENCY;
const ZONE = "example.com";

const work = await mkdtemp(join(tmpdir(), "lego-bench-orchestration-"));
const portfolio = await generatePortfolio(join(work, "portfolio"), {
  services: SERVICES,
  levels: LEVELS,
  zone: ZONE,
});
const root = portfolio.root;
const order = dependencyOrder(portfolio);

const cloud = await startLocalCloud({ stateDir: join(work, "state"), zones: [ZONE] });
const legoHome = join(work, "lego-home");
await registerLocalCloud(legoHome, cloud, "bench");

const base = { PATH: process.env.PATH, HOME: work, NO_COLOR: "1" };
const wranglerEnv = {
  ...base,
  CLOUDFLARE_API_BASE_URL: cloud.apiBaseUrl,
  CLOUDFLARE_API_TOKEN: cloud.token,
  CLOUDFLARE_ACCOUNT_ID: cloud.accountId,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CI: "true",
  XDG_CONFIG_HOME: join(work, "xdg"),
};
const legoEnv = { ...base, LEGO_HOME: legoHome, ...(process.env.LEGO_DEBUG ? { LEGO_DEBUG: "1" } : {}) };
const exec = promisify(execFile);

// CPU time of the children this process has waited for (user + system, /proc/self/stat fields 16-17, in
// clock ticks of 10 ms): what a run cost the machine's cores, next to what it took on the wall clock.
const childCpuMs = () => {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
};
// Async on purpose: the local cloud runs in this process, so a synchronous spawn would starve it.
const measure = async (fn) => {
  const cpu = childCpuMs();
  const mark = cloud.requests.at(-1); // the local cloud keeps its last 5,000 requests
  const t = performance.now();
  await fn();
  const wall = performance.now() - t;
  const calls = cloud.requests.length - 1 - cloud.requests.lastIndexOf(mark);
  return { wall, cpu: childCpuMs() - cpu, calls };
};
const run = async (cmd, args, env, cwd) => {
  try {
    // A hung run fails the bench (after 10 min) instead of stalling it.
    return await exec(process.execPath, [cmd, ...args], { env, cwd, maxBuffer: 64 << 20, timeout: 600_000 });
  } catch (error) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${error.code}):\n${error.stdout}\n${error.stderr}`);
  }
};

// Pass --concurrency only when this build of the CLI has it (the scheduler may not have landed yet).
const help = (await run(legoBin, ["deploy", "--help"], legoEnv, root)).stdout;
const hasConcurrency = help.includes("--concurrency");
const concurrencyArgs = CONCURRENCY && hasConcurrency ? ["--concurrency", CONCURRENCY] : [];

const loop = async () => {
  for (const s of order) await run(wranglerCli, ["deploy", "--env", "staging"], wranglerEnv, s.dir);
};
let lastLegoOutput = "";
const lego = async () => {
  const { stdout } = await run(
    legoBin,
    ["deploy", "--all", "--env", "staging", "--no-tests", ...concurrencyArgs, "--root", root, "--json"],
    legoEnv,
    root,
  );
  lastLegoOutput = stdout;
};
// The waves lego reports in --json (once the scheduler reports them), e.g. "4, 4, 4".
const waves = () => {
  try {
    const data = JSON.parse(lastLegoOutput).data;
    const list = data?.waves ?? data?.plan?.waves;
    return Array.isArray(list)
      ? list.map((w) => (Array.isArray(w) ? w.length : (w.services?.length ?? "?"))).join(", ")
      : undefined;
  } catch {
    return undefined;
  }
};

// Mean duration of each step over the services of lego's last run (from its --json report), e.g.
// "build 1.2 s, deploy 2.9 s" (from report.json): where the time goes beyond the wrangler deploy the loop also runs.
const stepBreakdown = () => {
  try {
    const path = JSON.parse(lastLegoOutput).data?.report?.json;
    const services = path ? (JSON.parse(readFileSync(path, "utf8")).services ?? []) : [];
    const sums = new Map();
    for (const s of services) {
      for (const step of s.steps ?? []) sums.set(step.name, (sums.get(step.name) ?? 0) + step.durationMs);
    }
    if (sums.size === 0) return undefined;
    return [...sums].map(([name, ms]) => `${name} ${(ms / services.length / 1000).toFixed(2)} s`).join(", ");
  } catch {
    return undefined;
  }
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cores = availableParallelism();

async function condition(label, target, latencyFree) {
  const samples = { loop: [], lego: [] };
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so neither always runs on a machine the other just warmed (or loaded).
    const pair = i % 2 === 0 ? ["loop", "lego"] : ["lego", "loop"];
    for (const which of pair) samples[which].push(await measure(which === "loop" ? loop : lego));
  }
  const w = median(samples.loop.map((s) => s.wall));
  const l = median(samples.lego.map((s) => s.wall));
  const wCpu = median(samples.loop.map((s) => s.cpu));
  const lCpu = median(samples.lego.map((s) => s.cpu));
  const ratio = l / w;
  console.log(`  ${label}`);
  console.log(
    `    wrangler deploy loop, ${SERVICES} services in dependency order (baseline)  ${w.toFixed(0)} ms   (CPU ${(wCpu / 1000).toFixed(1)} s)`,
  );
  console.log(
    `    lego deploy --all --no-tests${concurrencyArgs.length ? ` --concurrency ${CONCURRENCY}` : ""}`.padEnd(
      77,
    ) +
      `${l.toFixed(0)} ms   (CPU ${(lCpu / 1000).toFixed(1)} s)   ratio ${ratio.toFixed(2)}x  (target <= ${target.toFixed(2)}x) ${ratio <= target ? "ok" : "OVER"}`,
  );
  // Wall times move with whatever else the machine runs; the CPU the children used moves much less. On an
  // idle machine without added latency the loop takes about its CPU time (wrangler is CPU-bound against
  // the local cloud), and no schedule beats its own CPU spread over every core.
  const bound = latencyFree
    ? `; on ${cores} idle cores that bounds the ratio at >= ${(lCpu / cores / wCpu).toFixed(2)}x`
    : "";
  console.log(
    `    CPU of the children (user + system): lego ${(lCpu / wCpu).toFixed(2)}x the loop's${bound}; API calls: loop ${median(samples.loop.map((x) => x.calls))}, lego ${median(samples.lego.map((x) => x.calls))}`,
  );
  const w8 = waves();
  if (w8) console.log(`    lego's waves (services per wave): ${w8}`);
  const where = stepBreakdown();
  if (where) console.log(`    where a service's time goes in lego's last run (mean per service): ${where}`);
  return { loop: samples.loop, lego: samples.lego, ratio };
}

try {
  await loop(); // first deploy of every Worker: every measured run below is a redeploy
  if (!QUICK) await lego(); // and lego's portfolio cache is warm, as on a second deploy
  console.log(
    `portfolio: ${SERVICES} services in ${LEVELS} levels (bench/portfolio/generate.mjs); runs: ${RUNS} per condition, interleaved; medians`,
  );
  if (!hasConcurrency) {
    console.log("  (this lego deploy has no --concurrency option: BENCH_CONCURRENCY is not passed)");
  } else if (!CONCURRENCY) {
    console.log("  (lego's default concurrency; set BENCH_CONCURRENCY=N to pass --concurrency N)");
  }
  await condition("no added latency", 0.6, true);
  cloud.setFaults([{ route: "*", kind: "latency", latencyMs: LATENCY_MS }]);
  await condition(`${LATENCY_MS} ms added to every API call (the local cloud's latency fault)`, 0.35, false);
  cloud.setFaults([]);
} finally {
  await cloud.close();
  await rm(work, { recursive: true, force: true });
  await cli.dispose();
}
