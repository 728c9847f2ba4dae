// @lego/runtime: what it costs a Worker.
//  1. Bundle size: a tiny Worker using initializeService, FeatureFlagManager and createFeatureGuard, bundled
//     with esbuild as wrangler does (minified, then gzip), against the same Worker without Lego.
//  2. Per-check cost inside workerd: a Worker (run by Miniflare) loops N flag checks per request, against
//     the same loop doing a plain comparison. workerd's clocks stand still while JavaScript runs (a Spectre
//     mitigation), so the time is taken outside, around each request, and the empty loop is subtracted.
// Targets: < 8 KB min+gz added, < 1 µs per check.
// Run: node bench/runtime.bench.mjs   (needs `pnpm --filter @lego/runtime build` first; turbo's bench task does it)
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const here = dirname(fileURLToPath(import.meta.url));
const runtimeDist = join(here, "../packages/runtime/dist/index.js");
if (!existsSync(runtimeDist)) {
  console.error(
    "@lego/runtime is not built: run `pnpm --filter @lego/runtime build` (or `pnpm bench` through turbo).",
  );
  process.exit(1);
}

const KB = 1024;
const TARGET_BYTES = 8 * KB;
const TARGET_NS = 1000;

// The config a Worker imports (defineDomains is an identity: the schema is not needed at runtime).
const CONFIG = `
const domains = defineDomains({
  api: {
    name: "api",
    domains: { production: "api.example.com", staging: "staging-api.example.com" },
    features: { premiumFeatures: false, analytics: true, fileStorage: true },
    environments: { staging: { features: { premiumFeatures: true } } },
  },
});`;

const workers = {
  baseline: `
const features = { premiumFeatures: false, analytics: true, fileStorage: true };
export default {
  async fetch(request, env, ctx) {
    const on = env.FEATURE_PREMIUMFEATURES === "true" || features.premiumFeatures;
    if (request.url.includes("/premium")) {
      if (!on) return new Response(JSON.stringify({ error: { code: "NOT_FOUND", message: "Not found" } }), { status: 404 });
      return new Response("premium");
    }
    return new Response(JSON.stringify({ features }));
  },
};`,
  lego: `
import { createFeatureGuard, defineDomains, FeatureFlagManager, initializeService } from "@lego/runtime";
${CONFIG}
export default {
  async fetch(request, env, ctx) {
    const service = initializeService(env, request, { domains });
    if (request.url.includes("/premium"))
      return createFeatureGuard("premiumFeatures", { domains })(async () => new Response("premium"))(request, env, ctx);
    const extra = new FeatureFlagManager({ defaults: { beta: false }, bindings: env });
    return new Response(JSON.stringify({ features: service.features.all(), beta: extra.isEnabled("beta") }));
  },
};`,
  "seed form (spreads createDomainConfigSchema)": `
import { createDomainConfigSchema, createFeatureGuard, FeatureFlagManager, initializeService } from "@lego/runtime";
const domains = { api: { ...createDomainConfigSchema(), name: "api", domains: { production: "api.example.com" },
  features: { premiumFeatures: false, analytics: true } } };
export default {
  async fetch(request, env, ctx) {
    const service = initializeService(env, request, { domains });
    if (request.url.includes("/premium"))
      return createFeatureGuard("premiumFeatures", { domains })(async () => new Response("premium"))(request, env, ctx);
    const extra = new FeatureFlagManager({ defaults: { beta: false }, bindings: env });
    return new Response(JSON.stringify({ features: service.features.all(), beta: extra.isEnabled("beta") }));
  },
};`,
  "validating at runtime (@lego/runtime/schema)": `
import { initializeService } from "@lego/runtime";
import { defineDomains, validateDomains } from "@lego/runtime/schema";
${CONFIG}
export default {
  async fetch(request, env) {
    const valid = validateDomains(domains);
    return new Response(JSON.stringify(initializeService(env, request, { domains: valid }).features.all()));
  },
};`,
};

async function bundle(source) {
  const result = await build({
    stdin: { contents: source, resolveDir: here, loader: "js", sourcefile: "worker.js" },
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    target: "es2022",
    // What wrangler resolves for Workers.
    platform: "neutral",
    conditions: ["workerd", "worker", "browser", "import"],
    mainFields: ["module", "main"],
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  return {
    code: result.outputFiles[0].text,
    min: code.byteLength,
    gz: gzipSync(code, { level: 9 }).byteLength,
  };
}

const fmt = (bytes) => `${(bytes / KB).toFixed(2)} KB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log("## Bundle cost (esbuild, minified + gzip -9)");
const sizes = {};
for (const [name, source] of Object.entries(workers)) sizes[name] = await bundle(source);
const base = sizes.baseline;
console.log(
  `${"worker".padEnd(48)} ${"min".padStart(10)} ${"min+gz".padStart(10)} ${"Δ min+gz".padStart(10)} ${"ratio".padStart(7)}`,
);
for (const [name, s] of Object.entries(sizes)) {
  const delta = s.gz - base.gz;
  console.log(
    `${name.padEnd(48)} ${fmt(s.min).padStart(10)} ${fmt(s.gz).padStart(10)} ${(name === "baseline" ? "" : fmt(delta)).padStart(10)} ${`${(s.gz / base.gz).toFixed(1)}x`.padStart(7)}`,
  );
}
const legoDelta = sizes.lego.gz - base.gz;
const sizeOk = legoDelta < TARGET_BYTES;
console.log(
  `initializeService + FeatureFlagManager + createFeatureGuard add ${fmt(legoDelta)} min+gz (target < ${fmt(TARGET_BYTES)}): ${sizeOk ? "PASS" : "FAIL"}`,
);
if (/zod|ZodError|\$ZodType/.test(sizes.lego.code)) console.log("warning: the flag-only Worker bundles zod");

console.log("\n## Per-check cost inside workerd (Miniflare)");
const loopWorker = (
  await build({
    stdin: {
      contents: `
import { initializeService } from "@lego/runtime";
const domains = { api: { name: "api", domains: { production: "api.example.com" },
  features: { premiumFeatures: false, analytics: true, fileStorage: true } } };
const names = ["premiumFeatures", "analytics", "fileStorage", "undeclared"];
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n"));
    const mode = url.searchParams.get("mode");
    let on = 0;
    if (mode === "check") {
      const flags = initializeService(env, request, { domains }).features;
      for (let i = 0; i < n; i++) if (flags.isEnabled(names[i & 3])) on++;
    } else if (mode === "init") {
      for (let i = 0; i < n; i++) if (initializeService(env, request, { domains }).features.isEnabled(names[i & 3])) on++;
    } else {
      // The baseline: the same loop and array read, a string comparison instead of a flag check.
      for (let i = 0; i < n; i++) if (names[i & 3] === "analytics") on++;
    }
    return new Response(String(on));
  },
};`,
      resolveDir: here,
      loader: "js",
    },
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser", "import"],
    mainFields: ["module", "main"],
    logLevel: "silent",
  })
).outputFiles[0].text;

const mf = new Miniflare(
  convertV4MiniflareOptions({
    modules: true,
    script: loopWorker,
    compatibilityDate: "2026-11-01",
    bindings: { FEATURE_ANALYTICS: "true" },
  }),
);
try {
  await mf.ready;
  const time = async (mode, n) => {
    const start = performance.now();
    const res = await mf.dispatchFetch(`https://api.example.com/?mode=${mode}&n=${n}`);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${mode}: ${res.status} ${body}`);
    return performance.now() - start;
  };
  const N = 2_000_000;
  for (let i = 0; i < 3; i++) for (const mode of ["empty", "check", "init"]) await time(mode, N); // JIT warm-up
  const runs = { empty: [], check: [], init: [] };
  for (let i = 0; i < 9; i++) for (const mode of Object.keys(runs)) runs[mode].push(await time(mode, N));
  const empty = median(runs.empty);
  const perCheck = ((median(runs.check) - empty) * 1e6) / N;
  const perInit = ((median(runs.init) - empty) * 1e6) / N;
  console.log(`loop of ${N.toLocaleString("en")} iterations, median of 9 requests after warm-up`);
  console.log(`empty loop (baseline)                 ${empty.toFixed(1).padStart(8)} ms`);
  console.log(`flag checks                           ${median(runs.check).toFixed(1).padStart(8)} ms`);
  console.log(`initializeService + check (memoised)  ${median(runs.init).toFixed(1).padStart(8)} ms`);
  const checkOk = perCheck < TARGET_NS;
  console.log(
    `per check: ${Math.max(perCheck, 0).toFixed(1)} ns over the empty loop (target < ${TARGET_NS} ns): ${checkOk ? "PASS" : "FAIL"}`,
  );
  console.log(`per memoised initializeService(env, request) + check: ${Math.max(perInit, 0).toFixed(1)} ns`);
  if (!sizeOk || !checkOk) process.exitCode = 1;
} finally {
  await mf.dispose();
}
