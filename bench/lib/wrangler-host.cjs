// An experiment for bench/wrangler-startup.bench.mjs, not a tool: one long-lived Node process that runs
// several `wrangler deploy` commands one after another by evaluating wrangler's unmodified CLI module
// (wrangler-dist/cli.js) as the main module again for each, so the process boots once and V8 compiles the
// 15 MB bundle once (its in-process compilation cache); wrangler's top-level code still runs every time.
//
// Usage: node wrangler-host.cjs <cli.js> <jobs.json> <results.json>
//   jobs.json: [{ "cwd": "...", "args": ["deploy", "--env", "staging"], "env": { ... }, "outputFile": "..." }]
// A job is done when wrangler's output file (WRANGLER_OUTPUT_FILE_PATH) has a `deploy` or
// `command-failed` record; wrangler calling process.exit (a failed command) ends the host.
const Module = require("node:module");
const { existsSync, readFileSync, writeFileSync } = require("node:fs");
const { dirname } = require("node:path");

const [cli, jobsFile, resultsFile] = process.argv.slice(2);
const jobs = JSON.parse(readFileSync(jobsFile, "utf8"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function finished(outputFile) {
  if (!existsSync(outputFile)) return undefined;
  for (const line of readFileSync(outputFile, "utf8").split("\n")) {
    try {
      const record = JSON.parse(line);
      if (record.type === "deploy") return "ok";
      if (record.type === "command-failed") return "failed";
    } catch {}
  }
  return undefined;
}

(async () => {
  const results = [];
  const baseEnv = { ...process.env };
  for (const job of jobs) {
    for (const key of Object.keys(process.env)) if (!(key in baseEnv)) delete process.env[key];
    Object.assign(process.env, baseEnv, job.env, { WRANGLER_OUTPUT_FILE_PATH: job.outputFile });
    process.chdir(job.cwd);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const module = new Module(cli, null);
    module.filename = cli;
    module.paths = Module._nodeModulePaths(dirname(cli));
    process.argv = [process.execPath, cli, ...job.args];
    process.mainModule = module; // what `require.main` reads: wrangler runs main() only as the main module
    module.load(cli);
    const loadedMs = performance.now() - started;
    let state = finished(job.outputFile);
    while (!state) {
      await sleep(10);
      state = finished(job.outputFile);
    }
    const used = process.cpuUsage(cpu);
    results.push({
      state,
      wallMs: performance.now() - started,
      loadedMs,
      cpuMs: (used.user + used.system) / 1000,
    });
    await sleep(50); // let main() finish its epilogue (metrics, sentry) before the next evaluation
  }
  writeFileSync(resultsFile, JSON.stringify(results));
  process.exit(0);
})();
