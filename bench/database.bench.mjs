// @lego/database: backup and restore of a 100,000-row D1 database on the local cloud, in rows per
// second, against plain `wrangler d1 export` / `wrangler d1 execute --file` of the same database in
// the same run. Lego's backup adds a sha256, per-table row counts and a manifest; its restore adds
// dropping the tables first and verifying every table's row count afterwards. Medians of interleaved
// runs; the ratio is lego time / plain wrangler time (lower is better; 1.00 means no overhead).
// Run: node bench/database.bench.mjs   (after `pnpm exec turbo run build`)
// Env: BENCH_ROWS (default 100000), BENCH_RUNS (default 3).
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = (pkg) => pathToFileURL(join(here, "..", "packages", pkg, "dist", "index.js")).href;
for (const pkg of ["database", "cloudflare", "discovery"])
  if (!existsSync(fileURLToPath(dist(pkg)))) {
    console.error(`packages/${pkg} is not built: run \`pnpm exec turbo run build\` first.`);
    process.exit(1);
  }
const db = await import(dist("database"));
const { createCloudflareClient, createWranglerRunner } = await import(dist("cloudflare"));
const { scanPortfolio } = await import(dist("discovery"));

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const work = await mkdtemp(join(tmpdir(), "lego-bench-db-"));

// The local cloud of @lego/emulator.
const emulator = await import("@lego/emulator").catch(() => ({}));
if (typeof emulator.startLocalCloud !== "function") {
  console.error("@lego/emulator does not export startLocalCloud in this build: nothing to measure against.");
  process.exit(1);
}
const cloud = await emulator.startLocalCloud({ stateDir: join(work, "state") });
const target = { apiBaseUrl: cloud.apiBaseUrl, token: cloud.token, accountId: cloud.accountId };

// A one-service portfolio whose staging database holds ROWS rows.
const root = join(work, "portfolio");
const serviceDir = join(root, "services", "bench");
await mkdir(join(serviceDir, "src"), { recursive: true });
await writeFile(
  join(serviceDir, "src", "index.js"),
  "export default { fetch() { return new Response('ok'); } };\n",
);
await writeFile(
  join(serviceDir, "wrangler.jsonc"),
  JSON.stringify({
    name: "bench",
    main: "src/index.js",
    compatibility_date: "2025-09-01",
    env: { staging: { d1_databases: [{ binding: "DB", database_name: "bench-db" }] } },
  }),
);
const client = createCloudflareClient({
  token: target.token,
  baseURL: target.apiBaseUrl,
  accountId: target.accountId,
});
const runner = createWranglerRunner({
  cwd: serviceDir,
  target,
  baseEnv: { PATH: process.env.PATH, HOME: work },
  stateDir: join(work, "wrangler"),
});
const { api, wrangler } = db.fromCloudflare({ client, wrangler: runner });
try {
  await client.createD1Database("bench-db");
  const seed = join(work, "seed.sql");
  const lines = [
    "CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT, at INTEGER NOT NULL);",
  ];
  for (let i = 1; i <= ROWS; i++)
    lines.push(
      `INSERT INTO events VALUES (${i}, 'kind-${i % 17}', 'payload ${i}: it''s row ${i}; some text to make it wider', ${1764000000 + i});`,
    );
  await writeFile(seed, `${lines.join("\n")}\n`);
  const scope = { cwd: serviceDir, configPath: join(serviceDir, "wrangler.jsonc"), env: "staging" };
  await wrangler.d1Execute({ ...scope, database: "bench-db", file: seed });

  const portfolio = await scanPortfolio({ root, cache: false });
  const [t] = db.d1TargetsOf(portfolio, portfolio.services[0], "staging");
  const ctx = { root, api, wrangler, target: "local" };

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const timed = async (fn) => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };
  const plainExport = [];
  const legoBackup = [];
  const plainImport = [];
  const legoRestore = [];
  let bytes = 0;
  let last;
  for (let run = 0; run < RUNS; run++) {
    const out = join(work, `plain-${run}.sql`);
    plainExport.push(await timed(() => wrangler.d1Export({ ...scope, database: "bench-db", output: out })));
    bytes = (await stat(out)).size;
    legoBackup.push(await timed(async () => (last = await db.createBackup(t, ctx))));
    // Plain import needs an empty database (the dump creates its tables); lego's restore empties the live one.
    await client.createD1Database(`bench-plain-${run}`);
    plainImport.push(
      await timed(() => wrangler.d1Execute({ ...scope, database: `bench-plain-${run}`, file: out })),
    );
    legoRestore.push(await timed(() => db.restoreBackup(t, last, ctx, { safetyBackup: false })));
  }
  if (last.rowCounts.events !== ROWS)
    throw new Error(`the backup counted ${last.rowCounts.events} rows, not ${ROWS}`);

  const rate = (ms) => Math.round(ROWS / (ms / 1000)).toLocaleString("en-US");
  const row = (what, plain, lego) =>
    `${what.padEnd(8)} wrangler ${String(Math.round(plain)).padStart(6)} ms (${rate(plain).padStart(9)} rows/s)   lego ${String(Math.round(lego)).padStart(6)} ms (${rate(lego).padStart(9)} rows/s)   ratio ${(lego / plain).toFixed(2)}`;
  console.log(
    `D1 database of ${ROWS.toLocaleString("en-US")} rows (${(bytes / 1e6).toFixed(1)} MB dump), local cloud, median of ${RUNS}`,
  );
  console.log(row("backup", median(plainExport), median(legoBackup)));
  console.log(row("restore", median(plainImport), median(legoRestore)));
} finally {
  await runner.dispose();
  await cloud.close?.();
  await rm(work, { recursive: true, force: true });
}
