// @lego/deployment: what `lego deploy <service> --no-tests` costs on top of a plain `wrangler deploy`
// of the same service to the same local cloud, in the same run. Both redeploy (the Worker exists), runs
// are interleaved, medians compared. Target: lego / wrangler <= 1.15.
// Run: node bench/deploy.bench.mjs   (after `pnpm exec turbo run build`)
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const legoBin = join(here, "../apps/lego/dist/bin.js");
if (!existsSync(legoBin)) {
  console.error("lego is not built: run `pnpm exec turbo run build` first.");
  process.exit(1);
}
const { registerLocalCloud, startLocalCloud } = await import("@lego/emulator");
const require = createRequire(import.meta.url);
const wranglerCli = join(dirname(require.resolve("wrangler/package.json")), "wrangler-dist/cli.js");

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const work = await mkdtemp(join(tmpdir(), "lego-bench-deploy-"));
const root = join(work, "portfolio");
const service = join(root, "services", "hello");
await mkdir(join(service, "src", "config"), { recursive: true });
await writeFile(
  join(service, "wrangler.jsonc"),
  JSON.stringify({
    name: "hello",
    main: "src/index.js",
    compatibility_date: "2025-09-01",
    env: { staging: { routes: [{ pattern: "staging-hello.example.com", custom_domain: true }] } },
  }),
);
await writeFile(
  join(service, "src", "index.js"),
  `export default { fetch() { return Response.json({ ok: true }); } };\n`,
);
await writeFile(
  join(service, "src", "config", "domains.js"),
  `export const domains = { hello: { name: "hello", domains: { staging: "staging-hello.example.com" }, features: {} } };\n`,
);

const cloud = await startLocalCloud({ stateDir: join(work, "state"), zones: ["example.com"] });
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
const exec = promisify(execFile);
// Async on purpose: the local cloud runs in this process, so a synchronous spawn would starve it.
const time = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const run = async (cmd, args, env, cwd) => {
  try {
    await exec(process.execPath, [cmd, ...args], { env, cwd, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${error.code}):\n${error.stderr}`);
  }
};
const plain = () => run(wranglerCli, ["deploy", "--env", "staging"], wranglerEnv, service);
const lego = (level) => () =>
  run(
    legoBin,
    ["deploy", "hello", "--env", "staging", "--no-tests", "--validation", level, "--root", root, "--json"],
    { ...base, LEGO_HOME: legoHome },
    root,
  );

try {
  await plain(); // first deploy: both runs below are redeploys
  const samples = { wrangler: [], legoBasic: [], legoStandard: [] };
  for (let i = 0; i < RUNS; i++) {
    samples.wrangler.push(await time(plain));
    samples.legoBasic.push(await time(lego("basic")));
    samples.legoStandard.push(await time(lego("standard")));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const w = median(samples.wrangler);
  const b = median(samples.legoBasic);
  const s = median(samples.legoStandard);
  console.log(`runs: ${RUNS} each, interleaved; medians`);
  console.log(`  wrangler deploy (baseline)                 ${w.toFixed(0)} ms`);
  // The target is for `lego deploy <service> --no-tests` as typed: the default (standard) checks.
  console.log(
    `  lego deploy --no-tests (default: standard) ${s.toFixed(0)} ms   ratio ${(s / w).toFixed(2)}x  (target <= 1.15x) ${s / w <= 1.15 ? "ok" : "OVER"}`,
  );
  console.log(
    `  lego deploy --no-tests --validation basic  ${b.toFixed(0)} ms   ratio ${(b / w).toFixed(2)}x`,
  );
  console.log(
    "  lego's extra: a second Node start (lego, then wrangler), the CLI's bundle, the portfolio scan, the",
  );
  console.log(
    "  target check, standard validation (the API calls at once), the lock, journal, audit and report, and",
  );
  console.log("  the wait until the new version answers");
} finally {
  await cloud.close();
  await rm(work, { recursive: true, force: true });
}
