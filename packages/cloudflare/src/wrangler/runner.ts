import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Logger } from "@lego/core";
import { createNullLogger, ExitCode, InterruptedError, LegoError, UsageError } from "@lego/core";
import { INVALID_TOKEN_CF_CODES, type Redact, redactor } from "../errors.ts";
import { canHost, createWranglerHostPool, ensureScript, type WranglerHostPool } from "./host.ts";
import {
  findRecord,
  parseWranglerOutput,
  type WranglerDeployRecord,
  type WranglerOutputRecord,
  type WranglerVersionUploadRecord,
} from "./output.ts";
import { type ApiRelay, type ApiRelayOptions, type ApiRelayStats, startApiRelay } from "./relay.ts";

/** What the runner needs of a target: where the API is and how to authenticate. A `Target` fits. */
export interface WranglerTarget {
  apiBaseUrl: string;
  token: string;
  accountId?: string | undefined;
}

/** Options of {@link createWranglerRunner}. */
export interface WranglerRunnerOptions {
  /** Path to wrangler's JS entry (`wrangler-dist/cli.js` or `bin/wrangler.js`). Default: the pinned dependency. */
  wranglerBin?: string | undefined;
  /** The Node that runs wrangler. Default `process.execPath` (wrangler 4.164 needs Node >= 22.12). */
  nodePath?: string | undefined;
  /** Default working directory (the service folder). */
  cwd: string;
  target: WranglerTarget;
  logger?: Logger | undefined;
  /** Cancels every command of this runner. */
  signal?: AbortSignal | undefined;
  /**
   * A Lego-owned folder for wrangler's config home, Node's compile cache and temp files (apps pass
   * `$LEGO_HOME/wrangler`, so the compile cache survives). Default: a temp folder per runner, removed
   * by `dispose()`.
   */
  stateDir?: string | undefined;
  /**
   * Environment passed through to wrangler (apps pass `process.env`; it provides PATH and HOME).
   * Cloudflare credentials and wrangler output settings in it are dropped: the target decides.
   * Default: nothing.
   */
  baseEnv?: Record<string, string | undefined> | undefined;
  /** Kill a command after this many ms. Default 10 minutes. */
  timeoutMs?: number | undefined;
  /** Lines of stderr kept in ERR_WRANGLER_FAILED. Default 40. */
  stderrTailLines?: number | undefined;
  /**
   * wrangler's API traffic goes through a relay on 127.0.0.1 that retries what wrangler does not (see
   * `startApiRelay`): on by default; `false` points wrangler at the target directly. Started with the
   * first command, stopped by `dispose()`.
   */
  relay?: boolean | Omit<ApiRelayOptions, "target"> | undefined;
  /**
   * Children die with Lego (default true, except on Windows): wrangler runs in its own process group
   * with a preload (`node --require`) that holds a pipe from Lego, created before wrangler is spawned;
   * when Lego exits however it exits (SIGKILL included) the pipe reads end-of-file and the preload kills
   * wrangler's group, so neither wrangler nor its esbuild outlive it. No window: a Lego killed right
   * after the spawn, before wrangler has even started, leaves a pipe already at end-of-file.
   */
  watchdog?: boolean | undefined;
  /**
   * Run commands in long-lived wrangler processes (default true, except on Windows): each process runs
   * the unmodified wrangler CLI module afresh for every command, one at a time, and skips Node's boot and
   * the compiling of wrangler's bundle after its first command (~1 s of CPU per command; see `host.ts`).
   * A command that fails ends its process; commands with stdin (secrets) always get a process of their
   * own. `false`: one process per command (the CLI's `LEGO_WRANGLER_REUSE=0`).
   */
  reuseProcesses?: boolean | undefined;
}

/** Options of {@link WranglerRunner.run}. */
export interface WranglerRunOptions {
  cwd?: string | undefined;
  /** Extra environment variables (never secrets: use `stdin`). The offline settings and credentials win. */
  env?: Record<string, string> | undefined;
  /** Written to wrangler's stdin, then closed. The way secret values travel. */
  stdin?: string | undefined;
  /** Values to redact from the output and errors besides the token (e.g. the secret on stdin). */
  secrets?: string[] | undefined;
  /** Read `WRANGLER_OUTPUT_FILE_PATH` records. Default true. */
  outputFile?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** The outcome of a successful command. */
export interface WranglerRunResult {
  /** `["wrangler", ...args]`: safe to log (no secret is ever in argv). */
  command: string[];
  exitCode: number;
  /** Redacted. */
  stdout: string;
  /** Redacted. */
  stderr: string;
  /** The ND-JSON records wrangler wrote, in order. */
  records: WranglerOutputRecord[];
  durationMs: number;
  /** Whether a long-lived wrangler process that had run a command before ran this one. */
  reusedProcess: boolean;
}

/** Where a command acts: a service folder and a wrangler environment (`--env`). */
export interface WranglerScope {
  /** Folder holding the wrangler config. Default: the runner's cwd. */
  cwd?: string | undefined;
  /** Wrangler environment (`--env`); `""` is the top level. Omitted: wrangler's default. */
  env?: string | undefined;
  /** Path to the wrangler config, relative to cwd (`--config`). */
  config?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** The result of {@link WranglerRunner.deploy}. */
export interface DeployResult {
  workerName: string | null;
  /** `undefined` on a dry run. */
  versionId: string | undefined;
  targets: string[];
  wranglerEnvironment: string | undefined;
  record: WranglerDeployRecord;
  run: WranglerRunResult;
}

/** The result of {@link WranglerRunner.versionsUpload}. */
export interface VersionUploadResult {
  workerName: string | null;
  versionId: string;
  previewUrl: string | undefined;
  record: WranglerVersionUploadRecord;
  run: WranglerRunResult;
}

/** Which D1 database, in a service folder. */
export interface D1Scope extends WranglerScope {
  /** Binding name, database name or id, as wrangler accepts it. */
  database: string;
}

/**
 * Runs the pinned wrangler with argv arrays (never a shell), against the target's API base URL with
 * the offline environment (no metrics, no banner, no update check, config under a Lego-owned folder),
 * secret values on stdin, results from `WRANGLER_OUTPUT_FILE_PATH`.
 */
export interface WranglerRunner {
  /** The JS entry that runs. */
  readonly wranglerBin: string;
  /** Runs `wrangler ...args`; throws ERR_WRANGLER_FAILED on a non-zero exit, InterruptedError on cancel. */
  run(args: string[], options?: WranglerRunOptions): Promise<WranglerRunResult>;
  /**
   * Starts up to `count` long-lived wrangler processes now (each runs `wrangler --version`), so the
   * commands that follow skip Node's boot and wrangler's load. A command arriving meanwhile waits for one
   * of them rather than starting another. Nothing without `reuseProcesses`. Never throws.
   */
  prewarm(count: number): void;
  /** `wrangler --version`, e.g. "4.164.0". */
  version(options?: { signal?: AbortSignal | undefined }): Promise<string>;
  /** `wrangler whoami` (stdout). */
  whoami(options?: WranglerScope): Promise<string>;
  /** `wrangler deploy`; `dryRun` with `outdir` makes no API call and writes the bundle. */
  deploy(
    options?: WranglerScope & {
      dryRun?: boolean | undefined;
      outdir?: string | undefined;
      /** Worker name override (`--name`). */
      name?: string | undefined;
      /** Annotation on the new deployment (`--message`). */
      message?: string | undefined;
    },
  ): Promise<DeployResult>;
  /** `wrangler versions upload`: a new version that serves no traffic yet. */
  versionsUpload(
    options?: WranglerScope & {
      name?: string | undefined;
      message?: string | undefined;
      tag?: string | undefined;
    },
  ): Promise<VersionUploadResult>;
  /** `wrangler rollback <versionId> -y --message <message>`. */
  rollback(
    options: WranglerScope & { versionId: string; message: string; name?: string | undefined },
  ): Promise<WranglerRunResult>;
  /** `wrangler secret put <key>` with the value on stdin. Note: wrangler trims trailing whitespace. */
  secretPut(
    options: WranglerScope & { key: string; value: string; name?: string | undefined },
  ): Promise<WranglerRunResult>;
  /**
   * `wrangler secret bulk` with a JSON object on stdin (`null` deletes a key), in batches of 100
   * (wrangler's limit). Returns one run per batch.
   */
  secretBulk(
    options: WranglerScope & { secrets: Record<string, string | null>; name?: string | undefined },
  ): Promise<WranglerRunResult[]>;
  /** `wrangler d1 migrations apply <db> --remote`. */
  d1MigrationsApply(options: D1Scope): Promise<WranglerRunResult>;
  /** `wrangler d1 execute <db> --remote --json` with `--command` or `--file`: one result per statement. */
  d1Execute(
    options: D1Scope & ({ command: string; file?: undefined } | { file: string; command?: undefined }),
  ): Promise<{
    results: Array<{ results?: unknown[]; success?: boolean; meta?: unknown }>;
    run: WranglerRunResult;
  }>;
  /** `wrangler d1 export <db> --remote --output <file>`. */
  d1Export(
    options: D1Scope & {
      output: string;
      table?: string[] | undefined;
      noData?: boolean | undefined;
      noSchema?: boolean | undefined;
    },
  ): Promise<WranglerRunResult>;
  /**
   * Builds the Worker without deploying it: `wrangler deploy --dry-run --outdir <dir>` (no API call). The
   * deploy pipeline runs it before applying any migration, so a build failure never leaves one applied.
   * Throws `ERR_WRANGLER_BUILD_FAILED` whose message carries wrangler's errors (each esbuild error, with
   * its file and line), not just "Build failed with 2 errors:".
   *
   * @example
   * const { main, bytes } = await wrangler.build({ cwd: serviceDir, env: "staging", signal });
   */
  build(
    options?: WranglerScope & {
      /** Where the bundle goes. Default: a new folder under the runner's state, removed by `dispose()`. */
      outdir?: string | undefined;
      name?: string | undefined;
    },
  ): Promise<BuildResult>;
  /** The relay's counters (requests, retries), once a command started it; `undefined` without a relay. */
  relayStats(): ApiRelayStats | undefined;
  /** Stops the relay and any command still running, and removes the temp state folder when the runner created it. */
  dispose(): Promise<void>;
}

/** The result of {@link WranglerRunner.build}. */
export interface BuildResult {
  /** Absolute folder holding the bundle. */
  outdir: string;
  /** Absolute path of the bundle's entry module (`index.js`, or the one `.js`/`.mjs` file there). */
  main: string;
  /** Bytes of every file in `outdir` (source maps included). */
  bytes: number;
  /** Bytes of the entry module alone. */
  mainBytes: number;
  /** File names in `outdir`. */
  files: string[];
  durationMs: number;
}

/** Auth, endpoint and output settings that must come from the target, never from the ambient environment. */
const DROPPED_ENV = [
  "CLOUDFLARE_API_TOKEN",
  "CLOUDFLARE_API_KEY",
  "CLOUDFLARE_EMAIL",
  "CLOUDFLARE_ACCOUNT_ID",
  "CLOUDFLARE_API_BASE_URL",
  "CLOUDFLARE_BASE_URL",
  "CF_API_TOKEN",
  "CF_API_KEY",
  "CF_EMAIL",
  "CF_ACCOUNT_ID",
  "CF_API_BASE_URL",
  "WRANGLER_OUTPUT_FILE_PATH",
  "WRANGLER_OUTPUT_FILE_DIRECTORY",
  "NODE_OPTIONS",
];

/**
 * The pinned wrangler's JS entry. `wrangler-dist/cli.js` rather than `bin/wrangler.js`: the bin
 * only re-spawns Node on cli.js, which costs a second process start and puts a process between
 * Lego's signals and wrangler.
 */
export function resolveWranglerBin(): string {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve("wrangler/package.json");
    const cli = join(dirname(pkg), "wrangler-dist", "cli.js");
    if (existsSync(cli)) return cli;
    throw new Error(`${cli} does not exist`);
  } catch (error) {
    throw new LegoError({
      code: "ERR_WRANGLER_NOT_FOUND",
      message: `Cannot find the pinned wrangler: ${(error as Error).message}`,
      hint: "Reinstall dependencies (`pnpm install`), or set LEGO_WRANGLER_BIN to a wrangler JS entry.",
      kind: "system",
      exitCode: ExitCode.Failure,
      cause: error,
    });
  }
}

function wranglerPackageVersion(bin: string): string | undefined {
  let dir = dirname(resolve(bin));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "wrangler") return pkg.version;
    } catch {}
    dir = dirname(dir);
  }
  return undefined;
}

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

function tail(text: string, lines: number): string {
  const all = text.replace(ANSI, "").replace(/\r/g, "").trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

function scopeArgs(scope: WranglerScope | undefined): string[] {
  const args: string[] = [];
  if (scope?.config !== undefined) args.push("--config", scope.config);
  if (scope?.env !== undefined) args.push(`--env=${scope.env}`);
  return args;
}

function usage(message: string, hint?: string): UsageError {
  return new UsageError({ code: "ERR_WRANGLER_USAGE", message, ...(hint ? { hint } : {}) });
}

/**
 * Creates a wrangler runner for one target.
 *
 * @example
 * const wrangler = createWranglerRunner({ cwd: "services/api", target, logger, stateDir: join(legoHome, "wrangler"), baseEnv: process.env });
 * const { versionId, targets } = await wrangler.deploy({ env: "staging" });
 * await wrangler.secretPut({ env: "staging", key: "API_KEY", value }); // value on stdin, never argv
 */
/**
 * execa, loaded on first use rather than with this module: it is ~100 modules (~30 ms to evaluate), and
 * a runner is made before validation, whose API calls leave the process idle while it loads.
 */
let execaModule: Promise<typeof import("execa")> | undefined;
const loadExeca = (): Promise<typeof import("execa")> => (execaModule ??= import("execa"));

export function createWranglerRunner(options: WranglerRunnerOptions): WranglerRunner {
  // Start loading execa now; a failure surfaces where it is awaited, in run().
  loadExeca().catch(() => {});
  const wranglerBin = options.wranglerBin ?? resolveWranglerBin();
  const nodePath = options.nodePath ?? process.execPath;
  const logger = options.logger ?? createNullLogger();
  const tailLines = options.stderrTailLines ?? 40;
  const pinnedVersion = wranglerPackageVersion(wranglerBin);
  const baseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.baseEnv ?? {}))
    if (v !== undefined && !DROPPED_ENV.includes(k)) baseEnv[k] = v;

  let relay: Promise<ApiRelay> | undefined;
  let relayReady: ApiRelay | undefined;
  const ensureRelay = (): Promise<string> => {
    if (options.relay === false) return Promise.resolve(options.target.apiBaseUrl);
    relay ??= startApiRelay({
      ...(typeof options.relay === "object" ? options.relay : {}),
      target: options.target.apiBaseUrl,
      logger: (typeof options.relay === "object" ? options.relay.logger : undefined) ?? logger,
    }).then((r) => {
      relayReady = r;
      return r;
    });
    return relay.then((r) => r.baseUrl);
  };
  const useWatchdog = (options.watchdog ?? true) && process.platform !== "win32";
  const useHosts = (options.reuseProcesses ?? true) && process.platform !== "win32" && canHost(wranglerBin);
  let hosts: WranglerHostPool | undefined;
  const running = new Set<number>();
  const buildDirs: string[] = [];

  let stateDir: Promise<string> | undefined;
  let ownsStateDir = false;
  const ensureStateDir = (): Promise<string> => {
    stateDir ??= (async () => {
      const dir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "lego-wrangler-")));
      ownsStateDir = options.stateDir === undefined;
      await Promise.all(
        ["config", "compile-cache", "tmp", "output"].map((d) => mkdir(join(dir, d), { recursive: true })),
      );
      return dir;
    })();
    return stateDir;
  };

  /**
   * On an unexpected error wrangler checks npm for a newer version (no setting turns it off). A fresh
   * cache entry for the pinned version, in the TMPDIR Lego gives it, answers that check offline.
   */
  async function seedUpdateCheck(dir: string): Promise<void> {
    if (!pinnedVersion) return;
    const file = join(dir, "tmp", "update-check", "wrangler-latest.json");
    try {
      const info = await stat(file);
      if (Date.now() - info.mtimeMs < 30 * 60_000) return;
    } catch {}
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ latest: pinnedVersion, lastUpdate: Date.now() }));
  }

  /** A command's environment: the offline settings, the relay and the target's credentials win. */
  async function commandEnv(
    dir: string,
    extra: Record<string, string> | undefined,
    outputPath: string | undefined,
  ): Promise<Record<string, string>> {
    const { target } = options;
    return {
      ...baseEnv,
      ...extra,
      CLOUDFLARE_API_BASE_URL: await ensureRelay(),
      CLOUDFLARE_API_TOKEN: target.token,
      ...(target.accountId ? { CLOUDFLARE_ACCOUNT_ID: target.accountId } : {}),
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_HIDE_BANNER: "true",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      WRANGLER_NO_SKILLS_UPDATE_PROMPTS: "true",
      CI: "true",
      FORCE_COLOR: "0",
      XDG_CONFIG_HOME: join(dir, "config"),
      NODE_COMPILE_CACHE: join(dir, "compile-cache"),
      TMPDIR: join(dir, "tmp"),
      ...(outputPath ? { WRANGLER_OUTPUT_FILE_PATH: outputPath } : {}),
    };
  }

  /**
   * Warm-ups handed to the pool: commands wait for this before asking the pool for a process, so a
   * command sent right after `prewarm()` finds the warming processes instead of starting its own.
   */
  let warmupsQueued: Promise<void> | undefined;

  /** The long-lived wrangler processes, made on first use. */
  async function hostPool(dir: string): Promise<WranglerHostPool> {
    const preload = useWatchdog ? await ensureDieWithLego(dir) : undefined;
    hosts ??= createWranglerHostPool({
      nodePath,
      wranglerBin,
      stateDir: dir,
      preload,
      env: {
        ...baseEnv,
        NODE_COMPILE_CACHE: join(dir, "compile-cache"),
        TMPDIR: join(dir, "tmp"),
        CI: "true",
        FORCE_COLOR: "0",
      },
    });
    return hosts;
  }

  /** One wrangler process for one command (execa): commands with stdin, or when hosts are off. */
  async function spawnOne(
    dir: string,
    args: string[],
    env: Record<string, string>,
    cwd: string,
    runOptions: WranglerRunOptions,
    signal: AbortSignal | undefined,
  ) {
    const { execa } = await loadExeca();
    const stdinOption = runOptions.stdin !== undefined ? ("pipe" as const) : ("ignore" as const);
    const nodeArgs = useWatchdog
      ? ["--no-warnings", "--require", await ensureDieWithLego(dir), wranglerBin, ...args]
      : ["--no-warnings", wranglerBin, ...args];
    const subprocess = execa(nodePath, nodeArgs, {
      cwd,
      env: useWatchdog
        ? { ...env, LEGO_DIE_WITH_PARENT_FD: "3", LEGO_DIE_WITH_PARENT_PID: String(process.pid) }
        : env,
      extendEnv: false,
      reject: false,
      ...(runOptions.stdin !== undefined
        ? { input: runOptions.stdin }
        : useWatchdog
          ? {}
          : { stdin: "ignore" as const }),
      ...(signal ? { cancelSignal: signal } : {}),
      forceKillAfterDelay: 3000,
      timeout: options.timeoutMs ?? 10 * 60_000,
      stripFinalNewline: false,
      maxBuffer: 64 * 1024 * 1024,
      // Its own process group, so the preload (and a cancel) can end wrangler and esbuild together;
      // fd 3 is the pipe whose end-of-file tells wrangler's preload that Lego is gone.
      ...(useWatchdog ? { detached: true, stdio: [stdinOption, "pipe", "pipe", "pipe"] as const } : {}),
    });
    const pid = subprocess.pid;
    if (pid !== undefined) running.add(pid);
    let ended: Awaited<typeof subprocess> | undefined;
    try {
      ended = await subprocess;
    } finally {
      if (pid !== undefined) running.delete(pid);
      // After a cancel or a timeout, esbuild may outlive wrangler: end the whole group.
      if (useWatchdog && (ended === undefined || Boolean(ended.signal) || ended.isCanceled || ended.timedOut))
        killGroup(pid);
    }
    return ended;
  }

  async function run(args: string[], runOptions: WranglerRunOptions = {}): Promise<WranglerRunResult> {
    const { target } = options;
    const secrets = [target.token, ...(runOptions.secrets ?? [])];
    const redact: Redact = redactor(...secrets);
    // A guard, not the mechanism (secret values go to stdin by construction). Short values are
    // skipped: "test" as a local token must not forbid `--name test-worker`.
    for (const arg of args)
      if (secrets.some((s) => s.length >= 8 && arg.includes(s)))
        throw usage(
          "Refusing to run wrangler with a secret in its arguments",
          "Pass secret values on stdin.",
        );
    const command = ["wrangler", ...args];
    const cwd = runOptions.cwd ?? options.cwd;
    const cwdInfo = await stat(cwd).catch(() => undefined);
    if (!cwdInfo?.isDirectory())
      throw usage(`Cannot run ${command.join(" ")} in ${cwd}: no such folder`, "Check the service folder.");
    const dir = await ensureStateDir();
    await seedUpdateCheck(dir);
    const wantOutput = runOptions.outputFile ?? true;
    const outputPath = join(dir, "output", `${randomUUID()}.ndjson`);
    const env = await commandEnv(dir, runOptions.env, wantOutput ? outputPath : undefined);
    const signals = [options.signal, runOptions.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    if (signal?.aborted) throw new InterruptedError(`${command.join(" ")} was cancelled before it started`);
    logger.debug(`running ${command.join(" ")}`, { cwd });
    const started = Date.now();
    try {
      if (warmupsQueued) await warmupsQueued;
      const hosted =
        useHosts && runOptions.stdin === undefined
          ? await (await hostPool(dir)).run({
              args,
              env,
              cwd,
              signal,
              timeoutMs: options.timeoutMs ?? 10 * 60_000,
            })
          : undefined;
      const result = hosted ?? (await spawnOne(dir, args, env, cwd, runOptions, signal));
      const durationMs = Date.now() - started;
      const records = wantOutput
        ? parseWranglerOutput(await readFile(outputPath, "utf8").catch(() => ""), logger)
        : [];
      const stdout = redact(String(result.stdout ?? ""));
      const stderr = redact(String(result.stderr ?? ""));
      if (result.isCanceled || (signal?.aborted && result.failed))
        throw new InterruptedError(`${command.join(" ")} was cancelled`);
      if (result.failed && (result as { code?: string }).code === "ENOENT")
        throw new LegoError({
          code: "ERR_WRANGLER_NOT_FOUND",
          message: `Cannot start wrangler: ${nodePath} was not found`,
          hint: "Pass nodePath pointing at Node >= 22.12 (or unset it to use the Node running Lego).",
          kind: "system",
          exitCode: ExitCode.Failure,
        });
      if (result.failed) {
        const failed = findRecord(records, "command-failed");
        const cfCode = failed?.code;
        const auth =
          (typeof cfCode === "number" && (cfCode === 10000 || INVALID_TOKEN_CF_CODES.includes(cfCode))) ||
          /Authentication error|Invalid access token/i.test(stderr + stdout);
        const reason = result.timedOut
          ? `timed out after ${options.timeoutMs ?? 10 * 60_000} ms`
          : result.exitCode !== undefined
            ? `exited with code ${result.exitCode}`
            : `was killed (${result.signal ?? "unknown signal"})`;
        const stderrTail = tail(stderr || stdout, tailLines);
        const firstLine = failed?.message ? redact(failed.message).split("\n")[0] : undefined;
        throw new LegoError({
          code: "ERR_WRANGLER_FAILED",
          message: `${command.join(" ")} ${reason}${firstLine ? `: ${firstLine}` : ""}`,
          hint: auth
            ? "The API token was rejected or lacks a permission: check CLOUDFLARE_API_TOKEN (or the Lego vault)."
            : "wrangler's last output lines are in stderrTail: the error's details with --json, the service's error in the run report (lego runs show <run-id>).",
          kind: auth ? "user" : "system",
          exitCode: auth ? ExitCode.Auth : ExitCode.Failure,
          details: {
            command,
            cwd,
            exitCode: result.exitCode,
            ...(result.signal ? { signal: result.signal } : {}),
            ...(result.timedOut ? { timedOut: true } : {}),
            ...(cfCode !== undefined ? { cfCode } : {}),
            ...(failed?.retry_after_ms !== undefined ? { retryAfterMs: failed.retry_after_ms } : {}),
            stderrTail,
          },
        });
      }
      logger.debug(`${command.join(" ")} finished in ${durationMs} ms`);
      return {
        command,
        exitCode: result.exitCode ?? 0,
        stdout,
        stderr,
        records,
        durationMs,
        reusedProcess: hosted?.reused ?? false,
      };
    } finally {
      if (wantOutput) await rm(outputPath, { force: true });
    }
  }

  const requireRecord = <T>(value: T | undefined, what: string, result: WranglerRunResult): T => {
    if (value === undefined)
      throw new LegoError({
        code: "ERR_WRANGLER_OUTPUT_INVALID",
        message: `${result.command.join(" ")} succeeded but wrote no ${what} record`,
        hint: "The pinned wrangler may have changed its output format.",
        kind: "system",
        exitCode: ExitCode.Failure,
        details: { command: result.command, records: result.records.map((r) => r.type) },
      });
    return value;
  };

  const runner: WranglerRunner = {
    wranglerBin,
    run,

    prewarm(count) {
      if (!useHosts || count < 1) return;
      const before = warmupsQueued;
      warmupsQueued = (async () => {
        await before;
        const dir = await ensureStateDir();
        const [pool, env] = await Promise.all([hostPool(dir), commandEnv(dir, undefined, undefined)]);
        for (let i = 0; i < count; i++)
          pool
            .run({
              args: ["--version"],
              env,
              cwd: dir,
              timeoutMs: options.timeoutMs ?? 10 * 60_000,
              warmup: true,
            })
            .catch((error: unknown) => {
              logger.debug("warming a wrangler process failed", { error: String(error) });
            });
      })().catch((error: unknown) => {
        logger.debug("warming wrangler processes failed", { error: String(error) });
      });
    },

    async version(opts = {}) {
      const result = await run(["--version"], { outputFile: false, signal: opts.signal });
      const match = /\d+\.\d+\.\d+(?:-[\w.]+)?/.exec(result.stdout);
      return match ? match[0] : result.stdout.trim();
    },

    async whoami(scope = {}) {
      const result = await run(["whoami", ...scopeArgs(scope)], { cwd: scope.cwd, signal: scope.signal });
      return result.stdout;
    },

    async deploy(opts = {}) {
      const args = ["deploy", ...scopeArgs(opts)];
      if (opts.name) args.push("--name", opts.name);
      if (opts.message) args.push("--message", opts.message);
      if (opts.dryRun) args.push("--dry-run");
      if (opts.outdir) args.push("--outdir", opts.outdir);
      const result = await run(args, { cwd: opts.cwd, signal: opts.signal });
      const record = requireRecord(findRecord(result.records, "deploy"), "deploy", result);
      return {
        workerName: record.worker_name ?? null,
        versionId: record.version_id ?? undefined,
        targets: record.targets ?? [],
        wranglerEnvironment: record.wrangler_environment,
        record,
        run: result,
      };
    },

    async versionsUpload(opts = {}) {
      const args = ["versions", "upload", ...scopeArgs(opts)];
      if (opts.name) args.push("--name", opts.name);
      if (opts.message) args.push("--message", opts.message);
      if (opts.tag) args.push("--tag", opts.tag);
      const result = await run(args, { cwd: opts.cwd, signal: opts.signal });
      const record = requireRecord(findRecord(result.records, "version-upload"), "version-upload", result);
      const versionId = requireRecord(
        record.version_id ?? undefined,
        "version id in the version-upload",
        result,
      );
      return {
        workerName: record.worker_name ?? null,
        versionId,
        previewUrl: record.preview_url,
        record,
        run: result,
      };
    },

    async rollback(opts) {
      if (!opts.versionId) throw usage("rollback needs a version id");
      const args = ["rollback", opts.versionId, "--yes", "--message", opts.message, ...scopeArgs(opts)];
      if (opts.name) args.push("--name", opts.name);
      return run(args, { cwd: opts.cwd, signal: opts.signal });
    },

    async secretPut(opts) {
      if (!opts.key) throw usage("secret put needs a secret name");
      if (opts.value === "") throw usage(`Secret ${opts.key} has an empty value`, "Give the secret a value.");
      const args = ["secret", "put", opts.key, ...scopeArgs(opts)];
      if (opts.name) args.push("--name", opts.name);
      return run(args, { cwd: opts.cwd, signal: opts.signal, stdin: opts.value, secrets: [opts.value] });
    },

    async secretBulk(opts) {
      const entries = Object.entries(opts.secrets);
      // wrangler exits 0 after printing "No content found" when stdin holds no secrets: refuse instead.
      if (entries.length === 0) throw usage("secret bulk needs at least one secret");
      const runs: WranglerRunResult[] = [];
      for (let i = 0; i < entries.length; i += 100) {
        const batch = Object.fromEntries(entries.slice(i, i + 100));
        const args = ["secret", "bulk", ...scopeArgs(opts)];
        if (opts.name) args.push("--name", opts.name);
        // No file argument: wrangler 4.164 then reads stdin line by line and parses it as JSON.
        runs.push(
          await run(args, {
            cwd: opts.cwd,
            signal: opts.signal,
            stdin: JSON.stringify(batch),
            secrets: Object.values(batch).filter((v): v is string => typeof v === "string"),
          }),
        );
      }
      return runs;
    },

    async d1MigrationsApply(opts) {
      const args = ["d1", "migrations", "apply", opts.database, "--remote", ...scopeArgs(opts)];
      return run(args, { cwd: opts.cwd, signal: opts.signal });
    },

    async d1Execute(opts) {
      if ((opts.command === undefined) === (opts.file === undefined))
        throw usage("d1 execute needs exactly one of `command` or `file`");
      const args = ["d1", "execute", opts.database, "--remote", "--json", "--yes", ...scopeArgs(opts)];
      if (opts.command !== undefined) args.push("--command", opts.command);
      else args.push("--file", opts.file as string);
      const result = await run(args, { cwd: opts.cwd, signal: opts.signal });
      try {
        const parsed = JSON.parse(result.stdout) as unknown;
        const results = Array.isArray(parsed) ? parsed : [parsed];
        return {
          results: results as Array<{ results?: unknown[]; success?: boolean; meta?: unknown }>,
          run: result,
        };
      } catch (error) {
        throw new LegoError({
          code: "ERR_WRANGLER_OUTPUT_INVALID",
          message: `${result.command.join(" ")} did not print JSON`,
          kind: "system",
          exitCode: ExitCode.Failure,
          details: { command: result.command, stdoutTail: tail(result.stdout, 10) },
          cause: error,
        });
      }
    },

    async d1Export(opts) {
      const args = [
        "d1",
        "export",
        opts.database,
        "--remote",
        "--output",
        opts.output,
        "--skip-confirmation",
      ];
      args.push(...scopeArgs(opts));
      for (const table of opts.table ?? []) args.push("--table", table);
      if (opts.noData) args.push("--no-data");
      if (opts.noSchema) args.push("--no-schema");
      return run(args, { cwd: opts.cwd, signal: opts.signal });
    },

    async build(opts = {}) {
      const started = Date.now();
      const outdir = opts.outdir
        ? resolve(opts.cwd ?? options.cwd, opts.outdir)
        : await mkdtemp(join(await ensureStateDir(), "tmp", "build-"));
      if (!opts.outdir) buildDirs.push(outdir);
      const args = ["deploy", "--dry-run", "--outdir", outdir, ...scopeArgs(opts)];
      if (opts.name) args.push("--name", opts.name);
      try {
        await run(args, { cwd: opts.cwd, signal: opts.signal });
      } catch (error) {
        if (!(error instanceof LegoError) || error.code !== "ERR_WRANGLER_FAILED") throw error;
        const text = String(error.details?.stderrTail ?? "");
        const errors = wranglerErrors(text);
        throw new LegoError({
          code: "ERR_WRANGLER_BUILD_FAILED",
          message: `Building ${opts.cwd ?? options.cwd}${opts.env ? ` (env ${opts.env})` : ""} failed: ${errors.length ? errors.join("\n") : error.message}`,
          hint: "Fix the errors above; nothing was deployed and no migration was applied.",
          kind: "user",
          exitCode: ExitCode.Failure,
          cause: error,
          details: { ...error.details, errors, outdir },
        });
      }
      const files = (await readdir(outdir)).sort();
      const sizes = await Promise.all(files.map((f) => stat(join(outdir, f)).then((s) => s.size)));
      const mainName =
        files.find((f) => f === "index.js") ??
        files.find((f) => /\.(m?js)$/.test(f) && !f.endsWith(".map")) ??
        files[0];
      if (!mainName)
        throw new LegoError({
          code: "ERR_WRANGLER_OUTPUT_INVALID",
          message: `wrangler deploy --dry-run wrote nothing to ${outdir}`,
          hint: "The pinned wrangler may have changed its --outdir behaviour.",
          kind: "system",
          exitCode: ExitCode.Failure,
        });
      return {
        outdir,
        main: join(outdir, mainName),
        bytes: sizes.reduce((a, b) => a + b, 0),
        mainBytes: sizes[files.indexOf(mainName)] ?? 0,
        files,
        durationMs: Date.now() - started,
      };
    },

    relayStats() {
      return relayReady ? { ...relayReady.stats } : undefined;
    },

    async dispose() {
      const pool = hosts;
      hosts = undefined;
      await pool?.dispose();
      for (const pid of running) killGroup(pid);
      running.clear();
      const r = relay;
      relay = undefined;
      relayReady = undefined;
      if (r) await (await r.catch(() => undefined))?.close();
      for (const dir of buildDirs.splice(0)) await rm(dir, { recursive: true, force: true });
      if (stateDir && ownsStateDir) {
        const dir = await stateDir.catch(() => undefined);
        if (dir) await rm(dir, { recursive: true, force: true });
      }
      stateDir = undefined;
    },
  };
  return runner;
}

/** Kills a process group (wrangler and its esbuild), ignoring one that is gone. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined || process.platform === "win32") return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {}
}

/**
 * The preload of every wrangler Lego starts (`node --require`): fd 3 is a pipe from Lego that Lego never
 * writes nor closes. End-of-file (or an error) on it means Lego is gone, however it ended (the kernel
 * closes Lego's end even on SIGKILL): the preload kills wrangler's process group (wrangler and its
 * esbuild). The handle is unref'd, so it never keeps wrangler alive, and the variable that names the fd is
 * removed, so Node processes wrangler starts do not read a descriptor that is not theirs. The pipe is read
 * once the event loop turns (after wrangler's code has loaded); until then, and after, a worker thread
 * checks every 200 ms that the parent is still Lego; a Lego already gone when the preload runs is seen at
 * once from the parent pid. Plain CommonJS,
 * written into the runner's state folder: nothing to ship beside the bundle.
 */
const DIE_WITH_LEGO_SOURCE = `"use strict";
(() => {
  const fd = Number(process.env.LEGO_DIE_WITH_PARENT_FD);
  const parent = Number(process.env.LEGO_DIE_WITH_PARENT_PID);
  delete process.env.LEGO_DIE_WITH_PARENT_FD;
  delete process.env.LEGO_DIE_WITH_PARENT_PID;
  if (!Number.isInteger(fd) || fd < 3) return;
  const die = () => {
    try { process.kill(-process.pid, "SIGKILL"); } catch {}
    try { process.kill(process.pid, "SIGKILL"); } catch {}
  };
  if (parent > 0 && process.ppid !== parent) {
    // Lego died before wrangler started: now, not after wrangler's code has loaded. A zombie is dead.
    let alive = true;
    try {
      process.kill(parent, 0);
      alive = !/^\\d+ \\(.*\\) Z/.test(require("node:fs").readFileSync("/proc/" + parent + "/stat", "utf8"));
    } catch (error) {
      alive = error.code === "EPERM" || error.code === "ENOENT";
    }
    if (!alive) die();
    // Started through a wrapper (a nodePath that runs Node itself): fd 3 is not Lego's pipe.
    return;
  }
  let pipe;
  try {
    if (!require("node:fs").fstatSync(fd).isSocket() && !require("node:fs").fstatSync(fd).isFIFO()) return;
    pipe = new (require("node:net").Socket)({ fd, readable: true, writable: false });
  } catch {
    return;
  }
  pipe.on("end", die);
  pipe.on("error", die);
  pipe.on("close", die);
  pipe.resume();
  pipe.unref();
  // The pipe is read when the event loop turns, and wrangler first loads its code synchronously (a
  // second or more on a busy machine): a thread of its own watches the parent pid meanwhile and after.
  try {
    const watcher = new (require("node:worker_threads").Worker)(
      "setInterval(() => { if (process.ppid !== " + parent + ") { try { process.kill(-process.pid, 'SIGKILL'); } catch {} process.kill(process.pid, 'SIGKILL'); } }, 200);",
      { eval: true, stdout: false, stderr: false, env: {}, resourceLimits: { maxOldGenerationSizeMb: 8 } },
    );
    watcher.on("error", () => {});
    watcher.unref();
  } catch {}
})();
`;

/** Writes the preload once per state folder; its path. */
function ensureDieWithLego(dir: string): Promise<string> {
  return ensureScript(dir, "die-with-lego.cjs", DIE_WITH_LEGO_SOURCE);
}

/**
 * The error lines of wrangler's output: each `✘ [ERROR] …` block's first line with the `file:line:col:`
 * line under it (esbuild's format), without the closing "Build failed with N errors:" summary.
 */
export function wranglerErrors(output: string): string[] {
  const lines = output.replace(ANSI, "").split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*(?:✘|X)\s*\[ERROR\]\s*(.*)$/.exec(lines[i] ?? "");
    if (!m) continue;
    const message = (m[1] ?? "").trim();
    if (/^Build failed with \d+ errors?:?$/.test(message)) continue;
    let where: string | undefined;
    for (let j = i + 1; j < Math.min(lines.length, i + 4); j++) {
      const w = /^\s*(\S+:\d+:\d+):\s*$/.exec(lines[j] ?? "");
      if (w) {
        where = w[1];
        break;
      }
    }
    out.push(where ? `${where}: ${message}` : message);
  }
  return out;
}
