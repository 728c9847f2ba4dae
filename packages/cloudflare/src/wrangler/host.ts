import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { writeFileAtomic } from "@lego/core";

/**
 * Long-lived wrangler processes: each runs the pinned, unmodified `wrangler-dist/cli.js` again for every
 * command it is given, one command at a time. Why: a wrangler process spends ~85% of a deploy's CPU
 * booting Node and loading wrangler's 15 MB bundle (bench/wrangler-startup.bench.mjs: ~1.2 s CPU of a
 * ~1.4 s deploy); a process that already compiled it runs the next deploy for ~0.3 s. On the local cloud,
 * where a portfolio deploy is CPU-bound, that is most of what a portfolio deploy costs.
 *
 * What stays as it was: every command evaluates wrangler's module afresh (its module state is new each
 * time; only V8's compiled code and the modules wrangler requires from node_modules, such as esbuild, are
 * reused), with the environment, working folder and argv Lego gives it, and its own stdout and stderr. A
 * command that fails, or calls `process.exit`, ends its process (nothing of a failed command is reused);
 * a process runs at most {@link MAX_COMMANDS_PER_HOST} commands. Cancel and timeout kill the process group,
 * as with a process per command, and the same preload makes it die with Lego.
 */

/** One command for a host. */
export interface HostCommand {
  args: string[];
  env: Record<string, string>;
  cwd: string;
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  /** A warm-up (see `WranglerRunner.prewarm`): other commands wait for its host rather than start one. */
  warmup?: boolean | undefined;
}

/** How a hosted command ended, in the terms the runner reads from execa. */
export interface HostCommandResult {
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
  signal: string | undefined;
  failed: boolean;
  timedOut: boolean;
  isCanceled: boolean;
  /** "ENOENT" when Node could not be started. */
  code?: string | undefined;
  /** Whether the host had run a command before this one. */
  reused: boolean;
}

export interface WranglerHostPoolOptions {
  nodePath: string;
  wranglerBin: string;
  /** Where the host script is written. */
  stateDir: string;
  /** The die-with-Lego preload (see runner.ts), or undefined without the watchdog. */
  preload: string | undefined;
  /** The host process's own environment (compile cache, PATH); each command brings its own. */
  env: Record<string, string>;
}

/** Commands one host runs before it is replaced: bounds what wrangler's process-wide leftovers can add up to. */
export const MAX_COMMANDS_PER_HOST = 8;

/** Only wrangler's CLI bundle defines the `main` a host calls; `bin/wrangler.js` or another entry runs in a process of its own. */
export function canHost(wranglerBin: string): boolean {
  return basename(wranglerBin) === "cli.js" && basename(dirname(wranglerBin)) === "wrangler-dist";
}

const END = "\u0000LEGO-WRANGLER-HOST-END ";

/**
 * The host, plain CommonJS written into the runner's state folder. Commands arrive as JSON lines on fd 4;
 * after each, the host writes an end marker (with the exit code) on stdout and on stderr, so the output of
 * one command never mixes with the next. The only addition to wrangler's code is one line appended to
 * it, exporting its `main` and `FatalError` (what cli.js's own last lines call when it is the main
 * module); without them (another wrangler build) the host answers "unsupported" and Lego runs that
 * wrangler one process per command.
 */
const HOST_SOURCE = `"use strict";
const Module = require("node:module");
const { readFileSync } = require("node:fs");
const { dirname } = require("node:path");
const cli = process.argv[2];
const source = readFileSync(cli, "utf8") +
  '\\n;module.exports.__legoHost = typeof main === "function" && typeof FatalError === "function" ? { main, FatalError } : undefined;\\n';
const reallyExit = process.exit.bind(process);
const WATCHED = ["SIGINT", "SIGTERM", "SIGHUP", "beforeExit", "uncaughtException", "unhandledRejection", "warning"];
let current;
function end(job, code, last) {
  current = undefined;
  // "last": this host exits now, so Lego must not give it another command.
  process.stdout.write(${JSON.stringify(END)} + job.id + " " + code + (last ? " last" : "") + "\\u0000");
  process.stderr.write(${JSON.stringify(END)} + job.id + "\\u0000");
  if (last) reallyExit(0);
}
// wrangler ending its own process ends the command, then this host: its state is no longer known.
process.exit = (code) => {
  if (!current) return reallyExit(code);
  end(current, Number(code ?? process.exitCode ?? 0) || 0, true);
};
const crash = (error) => {
  try { process.stderr.write((error && error.stack) || String(error)); process.stderr.write("\\n"); } catch {}
  if (current) end(current, 7, true);
  reallyExit(7);
};
process.on("uncaughtException", crash);
process.on("unhandledRejection", crash);
async function run(job) {
  current = job;
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, job.env);
  process.chdir(job.cwd);
  process.argv = [process.argv[0], cli, ...job.args];
  process.exitCode = undefined;
  const before = new Map(WATCHED.map((e) => [e, process.listeners(e)]));
  let code;
  try {
    const m = new Module(cli, null);
    m.filename = cli;
    m.paths = Module._nodeModulePaths(dirname(cli));
    m._compile(source, cli);
    const api = m.exports.__legoHost;
    if (!api) code = "unsupported";
    else {
      try {
        await api.main(job.args);
        code = Number(process.exitCode ?? 0) || 0;
      } catch (error) {
        code = (error instanceof api.FatalError && error.code) || 1;
      }
    }
  } catch (error) {
    process.stderr.write(((error && error.stack) || String(error)) + "\\n");
    code = 1;
  }
  for (const e of WATCHED)
    for (const l of process.listeners(e)) if (!before.get(e).includes(l)) process.removeListener(e, l);
  process.exitCode = undefined;
  // A host may end by SIGKILL (cancel, timeout, Lego gone), which skips Node's write of its compile
  // cache at exit: write it after the first command.
  if (!flushed) {
    flushed = true;
    try { Module.flushCompileCache?.(); } catch {}
  }
  if (current !== job) return;
  end(job, code, code !== 0);
}
let flushed = false;
const commands = new (require("node:net").Socket)({ fd: 4, readable: true, writable: false });
let pending = "";
commands.setEncoding("utf8");
commands.on("data", (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf("\\n")) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line) run(JSON.parse(line)).catch(crash);
  }
});
commands.on("end", () => reallyExit(0));
commands.on("error", () => reallyExit(0));
`;

const scriptFiles = new Map<string, Promise<string>>();
/**
 * Writes a script Lego starts Node with (the host, the die-with-Lego preload) into `dir` once per Lego
 * process, atomically: another Lego sharing the folder may be starting Node from that file right now.
 * Its path.
 */
export function ensureScript(dir: string, name: string, source: string): Promise<string> {
  const path = join(dir, name);
  let file = scriptFiles.get(path);
  if (!file || !existsSync(path)) {
    file = writeFileAtomic(path, source, { mode: 0o600 }).then(() => path);
    file.catch(() => scriptFiles.delete(path));
    scriptFiles.set(path, file);
  }
  return file;
}

interface Host {
  child: ChildProcess;
  commands: number;
  exited: boolean;
  /** The host said it exits after its command: it gets no other. */
  retiring?: boolean | undefined;
  /** Set when the host could not start (e.g. "ENOENT"). */
  error?: string | undefined;
  /** Called when the host exits, with its code and signal. */
  onExit?: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
}

/** A pool of hosts: one command at a time in each, as many hosts as commands running at once. */
export interface WranglerHostPool {
  /** Runs one command; `undefined` when this wrangler cannot be hosted (run it in a process of its own). */
  run(command: HostCommand): Promise<HostCommandResult | undefined>;
  /** Ends every host and waits for them to be gone. */
  dispose(): Promise<void>;
}

export function createWranglerHostPool(options: WranglerHostPoolOptions): WranglerHostPool {
  const idle: Host[] = [];
  const all = new Set<Host>();
  let unsupported = false;
  let nextId = 0;

  const kill = (host: Host) => {
    const pid = host.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      try {
        host.child.kill("SIGKILL");
      } catch {}
    }
  };

  const setRef = (host: Host, ref: boolean) => {
    const handles = [host.child, ...host.child.stdio] as Array<{
      ref?: () => void;
      unref?: () => void;
    } | null>;
    for (const h of handles) (ref ? h?.ref : h?.unref)?.call(h);
  };

  const start = async (): Promise<Host> => {
    const script = await ensureScript(options.stateDir, "wrangler-host.cjs", HOST_SOURCE);
    const args = [
      "--no-warnings",
      ...(options.preload ? ["--require", options.preload] : []),
      script,
      options.wranglerBin,
    ];
    const child = spawn(options.nodePath, args, {
      cwd: options.stateDir,
      env: options.preload
        ? { ...options.env, LEGO_DIE_WITH_PARENT_FD: "3", LEGO_DIE_WITH_PARENT_PID: String(process.pid) }
        : options.env,
      // fd 3: the die-with-Lego pipe (never written); fd 4: commands.
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      detached: process.platform !== "win32",
    });
    const host: Host = { child, commands: 0, exited: false };
    all.add(host);
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.on("error", (error: NodeJS.ErrnoException) => {
      host.error = error.code ?? "ERROR";
    });
    (child.stdio[4] as Writable | null)?.on("error", () => {});
    // "close", not "exit": the output the host wrote before it ended is read by then.
    child.on("close", (code, signal) => {
      host.exited = true;
      all.delete(host);
      const at = idle.indexOf(host);
      if (at >= 0) idle.splice(at, 1);
      host.onExit?.(code, signal);
    });
    return host;
  };

  const warming = new Set<Promise<unknown>>();
  const takeIdle = (): Host | undefined => {
    let host = idle.pop();
    while (host?.exited) host = idle.pop();
    return host;
  };

  const run = (command: HostCommand): Promise<HostCommandResult | undefined> => {
    if (!command.warmup) return runOn(command);
    const p = runOn(command);
    warming.add(p);
    void p.finally(() => warming.delete(p)).catch(() => {});
    return p;
  };

  const runOn = async (command: HostCommand): Promise<HostCommandResult | undefined> => {
    if (unsupported) return undefined;
    let host = takeIdle();
    // A host warming up will be idle soon, and sooner than a new one would be.
    while (!host && !command.warmup && warming.size > 0) {
      await Promise.race(warming).catch(() => {});
      host = takeIdle();
    }
    const reused = host !== undefined;
    host ??= await start();
    setRef(host, true);
    const id = String(++nextId);
    const h = host;
    h.commands++;
    const result = await new Promise<HostCommandResult & { unsupported?: boolean }>((resolve) => {
      let stdout = "";
      let stderr = "";
      let code: string | undefined;
      let stderrDone = false;
      let settled = false;
      let timedOut = false;
      let canceled = false;
      const outMarker = new RegExp(`${END}${id} ([^\\u0000]*)\\u0000`);
      const errMarker = `${END}${id}\u0000`;
      const finish = (extra: Partial<HostCommandResult> & { unsupported?: boolean }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        command.signal?.removeEventListener("abort", onAbort);
        (h.child.stdout as Readable).off("data", onOut);
        (h.child.stderr as Readable).off("data", onErr);
        h.onExit = undefined;
        resolve({
          stdout,
          stderr,
          exitCode: undefined,
          signal: undefined,
          failed: true,
          timedOut,
          isCanceled: canceled,
          reused,
          ...extra,
        });
      };
      const maybeDone = () => {
        if (code === undefined || !stderrDone) return;
        const [value, last] = code.split(" ");
        if (last === "last") h.retiring = true;
        if (value === "unsupported") return finish({ unsupported: true });
        const exitCode = Number(value);
        finish({ exitCode, failed: exitCode !== 0 });
      };
      const onOut = (chunk: string) => {
        stdout += chunk;
        const m = outMarker.exec(stdout);
        if (m) {
          code = m[1];
          stdout = stdout.slice(0, m.index);
          maybeDone();
        }
      };
      const onErr = (chunk: string) => {
        stderr += chunk;
        const at = stderr.indexOf(errMarker);
        if (at >= 0) {
          stderr = stderr.slice(0, at);
          stderrDone = true;
          maybeDone();
        }
      };
      const onAbort = () => {
        canceled = true;
        kill(h);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill(h);
      }, command.timeoutMs);
      h.onExit = (exitCode, signal) =>
        finish({
          exitCode: exitCode ?? undefined,
          signal: signal ?? undefined,
          failed: true,
          ...(h.error ? { code: h.error } : {}),
        });
      (h.child.stdout as Readable).on("data", onOut);
      (h.child.stderr as Readable).on("data", onErr);
      if (command.signal?.aborted) return onAbort();
      command.signal?.addEventListener("abort", onAbort, { once: true });
      if (h.exited) return finish({ failed: true });
      const line = JSON.stringify({ id, args: command.args, env: command.env, cwd: command.cwd });
      (h.child.stdio[4] as Writable).write(`${line}\n`);
    });
    if (result.unsupported) {
      unsupported = true;
      kill(h);
      return undefined;
    }
    if (!result.failed && !h.exited && !h.retiring && h.commands < MAX_COMMANDS_PER_HOST) {
      setRef(h, false);
      idle.push(h);
    } else if (!h.exited) {
      // A failed command ends its host itself; one that ran its share is ended here.
      if (result.failed) kill(h);
      else (h.child.stdio[4] as Writable).end();
      setRef(h, false);
    }
    return result;
  };

  return {
    run,
    async dispose() {
      // Idle hosts end on their own when their command pipe closes (wrangler's exit handlers run, and
      // Lego reaps them); a busy one, or one that lingers, is killed with its group.
      const idleNow = new Set(idle.splice(0));
      const closed = [...all].map(
        (h) =>
          new Promise<void>((resolve) => {
            if (h.exited) return resolve();
            h.child.once("close", () => resolve());
            if (idleNow.has(h)) (h.child.stdio[4] as Writable | null)?.end();
            else kill(h);
          }),
      );
      const timer = setTimeout(() => {
        for (const h of all) kill(h);
      }, 2000);
      await Promise.all(closed);
      clearTimeout(timer);
      all.clear();
    },
  };
}
