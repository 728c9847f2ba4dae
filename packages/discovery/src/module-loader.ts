import * as nodeModule from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { UsageError } from "@lego/core";

/** A config module after evaluation, with every local file it loaded (for cache invalidation). */
export interface LoadedModule {
  file: string;
  /** Its exports as plain data (functions and cycles dropped): they crossed from the evaluating thread. */
  exports: Record<string, unknown>;
  /** Absolute paths of the module and the local files it imported (never under node_modules). */
  inputs: string[];
}

/**
 * Loads config modules written in TypeScript or JavaScript (ESM or CommonJS): `src/config/domains.ts`,
 * the seed's plain `domains.js`, `lego.config.ts`.
 *
 * A config is code, so it is evaluated in isolation: in a worker thread, with a time limit per file.
 * A module that throws, calls `process.exit()`, never settles its top-level await or loops forever is
 * reported for that file (`ERR_DOMAIN_CONFIG_LOAD`, exit 2) and the scan goes on; Lego keeps control,
 * and what the module prints never reaches Lego's output.
 *
 * Evaluation is jiti's (resolution, ESM/CJS interop); the TypeScript/ESM transform is esbuild's, run
 * for a whole batch in parallel before evaluation, because jiti's own Babel transform costs about
 * 2 ms per file and a 1,000-service portfolio must scan cold in well under 3 s. `@lego/runtime` and
 * the seed's `@tamyla/lego-framework` resolve to the copy of `@lego/runtime` Lego runs with, so a
 * domain config needs no `node_modules` of its own to be discovered.
 */
export interface ModuleLoader {
  /** Loads each file; a file that fails is reported in `errors`, never thrown, so a scan can report all. */
  loadAll(
    files: readonly string[],
  ): Promise<{ modules: Map<string, LoadedModule>; errors: Map<string, UsageError> }>;
}

/** Options of {@link createModuleLoader}. */
export interface ModuleLoaderOptions {
  /** Turns an absolute path into the name used in errors (relative to the portfolio root). */
  displayPath?: ((file: string) => string) | undefined;
  /**
   * How long one file may take to evaluate, in ms (default 5,000). A real config takes a few ms; the
   * limit is for one that waits on something that never comes.
   */
  timeoutMs?: number | undefined;
}

/** What the evaluating thread reports, one message per event. */
type WorkerMessage =
  | { type: "start"; file: string }
  | { type: "loaded"; file: string; exports: Record<string, unknown>; inputs: string[] }
  | { type: "parse-error"; file: string; text: string; line?: number; column?: number }
  | { type: "load-error"; file: string; message: string }
  | { type: "end" };

// The evaluating thread. CommonJS text (not a file of its own, so the CLI bundle needs no extra entry);
// it loads jiti, esbuild and @lego/runtime from the paths the parent resolved.
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require("node:worker_threads");
const { readFile } = require("node:fs/promises");
const { sep } = require("node:path");
const post = (message) => parentPort.postMessage(message);
// The CLI's compile cache, when it has one: jiti and zod then load from cached code in this thread too.
if (workerData.compileCache) require("node:module").enableCompileCache?.(workerData.compileCache);
process.exit = (code) => {
  throw new Error("it called process.exit(" + (code === undefined ? "" : code) + "); a config must not end the process");
};
process.abort = () => {
  throw new Error("it called process.abort(); a config must not end the process");
};
process.kill = (pid, signal) => {
  throw new Error("it called process.kill(" + pid + (signal === undefined ? "" : ", " + JSON.stringify(signal)) + "); a config must not signal processes");
};
function loaderFor(filename) {
  if (/\.[cm]?ts$/.test(filename)) return "ts";
  if (filename.endsWith(".tsx")) return "tsx";
  if (filename.endsWith(".jsx")) return "jsx";
  return "js";
}
function options(filename) {
  return { loader: loaderFor(filename), format: "cjs", target: "node22", sourcefile: filename, logLevel: "silent" };
}
function plain(value, depth, seen) {
  if (typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") return undefined;
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value) || depth > 64) return undefined;
  seen.add(value);
  let out;
  if (Array.isArray(value)) out = value.map((v) => { const p = plain(v, depth + 1, seen); return p === undefined ? null : p; });
  else {
    out = {};
    for (const key of Object.keys(value)) {
      let v;
      try { v = plain(value[key], depth + 1, seen); } catch { v = undefined; }
      if (v !== undefined) out[key] = v;
    }
  }
  seen.delete(value);
  return out;
}
function exportsOf(mod) {
  const out = {};
  if (mod === null || typeof mod !== "object") return out;
  for (const key of Object.keys(mod)) {
    try { const v = plain(mod[key], 0, new Set()); if (v !== undefined) out[key] = v; } catch {}
  }
  try {
    if (!("default" in out) && mod.default !== undefined) { const d = plain(mod.default, 0, new Set()); if (d !== undefined) out.default = d; }
  } catch {}
  return out;
}
function isTopLevelAwait(error) {
  return ((error && error.errors) || []).some((m) => /top-level await/i.test(m.text));
}
function parseError(file, error) {
  const first = error && error.errors && error.errors[0];
  if (!first) return undefined;
  const at = first.location;
  return { type: "parse-error", file, text: first.text, ...(at ? { line: at.line, column: at.column + 1 } : {}) };
}
function describe(error) {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0];
}
(async () => {
  const { files, base, jiti: jitiPath, esbuild: esbuildPath, runtime: runtimeUrl } = workerData;
  const { createJiti } = require(jitiPath);
  const { transform, transformSync } = require(esbuildPath);
  const runtime = await import(runtimeUrl);
  const virtualModules = { "@lego/runtime": runtime, "@tamyla/lego-framework": runtime };
  const precompiled = new Map();
  const failed = new Set();
  await Promise.all(files.map(async (file) => {
    try {
      const source = await readFile(file, "utf8");
      precompiled.set(file, (await transform(source, options(file))).code);
    } catch (error) {
      if (error && error.code === "ENOENT") { failed.add(file); post({ type: "load-error", file, message: describe(error) }); }
      else if (!isTopLevelAwait(error)) { failed.add(file); post(parseError(file, error) || { type: "load-error", file, message: describe(error) }); }
    }
  }));
  let current;
  let fallback;
  const jiti = createJiti(base, {
    fsCache: false, moduleCache: false, interopDefault: true, virtualModules,
    transform(opts) {
      const filename = opts.filename || "";
      if (filename && !filename.includes(sep + "node_modules" + sep) && current) current.add(filename);
      const ready = precompiled.get(filename);
      if (ready !== undefined) return { code: ready };
      return { code: transformSync(opts.source, options(filename || "module.js")).code };
    },
  });
  for (const file of files) {
    if (failed.has(file)) continue;
    post({ type: "start", file });
    current = new Set([file]);
    try {
      if (!precompiled.has(file) && !fallback) fallback = createJiti(base, { fsCache: false, moduleCache: false, virtualModules });
      const loader = precompiled.has(file) ? jiti : fallback;
      const mod = await loader.import(file);
      post({ type: "loaded", file, exports: exportsOf(mod), inputs: [...current].sort() });
    } catch (error) {
      post((error && error.errors && parseError(file, error)) || { type: "load-error", file, message: describe(error) });
    } finally {
      current = undefined;
    }
  }
  post({ type: "end" });
})().catch((error) => post({ type: "load-error", file: "", message: describe(error) }));
`;

/** How long the evaluating thread may take to start, on top of one file's time limit. */
const STARTUP_MS = 15_000;

/** Where the evaluating thread loads its tools from: this package's (or the CLI's) own dependencies. */
function toolPaths(): {
  base: string;
  jiti: string;
  esbuild: string;
  runtime: string;
  compileCache?: string;
} {
  const require = nodeModule.createRequire(import.meta.url);
  const compileCache = nodeModule.getCompileCacheDir?.();
  return {
    ...(compileCache ? { compileCache } : {}),
    base: import.meta.url,
    jiti: require.resolve("jiti"),
    esbuild: require.resolve("esbuild"),
    runtime: pathToFileURL(require.resolve("@lego/runtime")).href,
  };
}

/** Creates a {@link ModuleLoader}. */
export function createModuleLoader(options: ModuleLoaderOptions = {}): ModuleLoader {
  const display = options.displayPath ?? ((f: string) => f);
  const timeoutMs = options.timeoutMs ?? 5000;

  const loadError = (file: string, reason: string, hint?: string) =>
    new UsageError({
      code: "ERR_DOMAIN_CONFIG_LOAD",
      message: `${display(file)}: failed to load: ${reason}`,
      hint:
        hint ??
        "The module must evaluate without side effects that need a Worker or the network; fix the error it threw.",
      details: { file: display(file) },
    });

  return {
    async loadAll(files) {
      const modules = new Map<string, LoadedModule>();
      const errors = new Map<string, UsageError>();
      if (files.length === 0) return { modules, errors };
      const paths = toolPaths();

      // One thread for the batch; when a file stops it (exit, time limit), a new one takes the rest.
      let pending = [...files];
      while (pending.length > 0) {
        const batch = pending;
        const outcome = await new Promise<{ current?: string; reason?: "exit" | "timeout" }>((resolve) => {
          let current: string | undefined;
          let finished = false;
          const worker = new Worker(WORKER_SOURCE, {
            eval: true,
            workerData: { files: batch, ...paths },
            stdout: true,
            stderr: true,
            // The parent's flags (e.g. vitest's loaders) are not for a config.
            execArgv: [],
          });
          worker.stdout.resume();
          worker.stderr.resume();
          let timer: ReturnType<typeof setTimeout> | undefined;
          // Starting the thread (loading jiti, esbuild, the runtime; transforming the batch) is Lego's
          // own work, not a config's: it gets a budget of its own on a busy machine.
          const arm = (ms = timeoutMs) => {
            if (timer) clearTimeout(timer);
            timer = setTimeout(() => {
              if (finished) return;
              finished = true;
              void worker.terminate();
              resolve({ ...(current ? { current } : {}), reason: "timeout" });
            }, ms);
          };
          const done = (value: { current?: string; reason?: "exit" | "timeout" }) => {
            if (finished) return;
            finished = true;
            if (timer) clearTimeout(timer);
            resolve(value);
          };
          arm(timeoutMs + STARTUP_MS);
          worker.on("message", (message: WorkerMessage) => {
            if (finished) return;
            if (message.type === "start") {
              current = message.file;
              arm();
            } else if (message.type === "end") {
              done({});
              void worker.terminate();
            } else if (message.type === "loaded") {
              current = undefined;
              modules.set(message.file, {
                file: message.file,
                exports: message.exports,
                inputs: message.inputs,
              });
            } else if (message.type === "parse-error") {
              current = undefined;
              const where = message.line !== undefined ? `:${message.line}:${message.column}` : "";
              errors.set(
                message.file,
                new UsageError({
                  code: "ERR_CONFIG_PARSE",
                  message: `${display(message.file)}${where}: ${message.text}`,
                  hint: "Fix the syntax at that line.",
                  details: { file: display(message.file) },
                }),
              );
            } else if (message.file === "") {
              // The thread itself failed (its tools could not load): every file of the batch fails with it.
              for (const file of batch)
                if (!modules.has(file) && !errors.has(file))
                  errors.set(
                    file,
                    loadError(file, message.message, "Reinstall dependencies (pnpm install)."),
                  );
              done({});
              void worker.terminate();
            } else {
              current = undefined;
              errors.set(message.file, loadError(message.file, message.message));
            }
          });
          worker.on("error", (error) => {
            if (current) errors.set(current, loadError(current, error.message.split("\n")[0] ?? ""));
            done({ ...(current ? { current } : {}), reason: "exit" });
          });
          worker.on("exit", () => done({ ...(current ? { current } : {}), reason: "exit" }));
        });

        const { current, reason } = outcome;
        if (current && !errors.has(current)) {
          errors.set(
            current,
            reason === "timeout"
              ? loadError(
                  current,
                  `it did not finish within ${timeoutMs / 1000} s (a top-level await that never settles, or a loop)`,
                  "A config must evaluate at once: remove the await or loop that waits on something outside it.",
                )
              : loadError(
                  current,
                  "its evaluation stopped before it finished (a top-level await that never settles, or the process ended)",
                  "A config must evaluate at once: remove the await that never settles, or the call that ends the process.",
                ),
          );
        }
        pending = batch.filter((f) => !modules.has(f) && !errors.has(f));
        if ((!reason || !current) && pending.length > 0) {
          // The thread ended its batch without word of these files: never loop on them.
          for (const file of pending) errors.set(file, loadError(file, "its evaluation did not report back"));
          pending = [];
        }
      }
      return { modules, errors };
    },
  };
}
