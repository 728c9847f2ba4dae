import { homedir } from "node:os";
import { extractGlobalFlags } from "@lego/cli-kit";
import {
  type Clock,
  createNonInteractivePrompter,
  createRedactor,
  InterruptedError,
  isLegoError,
  type LegoError,
  type Prompter,
  readEnv,
  resolveLegoHome,
  secretEnvNames,
  systemClock,
  toLegoError,
  UsageError,
} from "@lego/core";
import { expandSeedAlias, hoistRoot, renderSeedForms, type SeedAlias, seedAliasFor } from "./aliases.ts";
import { type ArgsDef, parseArgv, reservedFlagNames } from "./args.ts";
import { shouldUseColor } from "./color.ts";
import { type CommandContext, type CommandNode, defineGroup, type LegoGroup } from "./define.ts";
import { renderHelp } from "./help.ts";
import { createInquirerPrompter, isCi, isInteractive } from "./interactive.ts";
import { route } from "./router.ts";
import { createTargetResolver, createVaultResolver } from "./target.ts";
import { createRenderer, type TextStream } from "./ui.ts";

/** Options of {@link runCli}. Every one defaults to the real process; tests pass their own. */
export interface RunCliOptions {
  /** The command tree's top level. Default: the registered commands (`src/commands/index.ts`). */
  commands: readonly CommandNode[];
  /** Name and version shown by `--help` and `--version`. */
  program: { name: string; description: string; version: string };
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout?: TextStream;
  stderr?: TextStream;
  /** Whether the streams are terminals. Default: each stream's own `isTTY`. */
  isTTY?: boolean | { stdin?: boolean; stdout?: boolean; stderr?: boolean };
  /** Aborting it interrupts the command (exit 130). entry.ts aborts it on SIGINT. */
  signal?: AbortSignal;
  /** basename(argv[1]): a seed binary name (`lego-db`) selects its alias. */
  binName?: string;
  /** The prompter to use when the session is interactive. Default: @inquirer/prompts on stdin/stdout. */
  prompter?: Prompter;
  clock?: Clock;
  /** Home folder for the default LEGO_HOME. Default: os.homedir(). */
  homeDir?: string;
  /** How long an interrupted command may take to wind down before lego gives up on it. Default 5000 ms. */
  abortGraceMs?: number;
}

/** What {@link runCli} returns: the exit code the process exits with, and the result or error for tests. */
export interface CliOutcome {
  exitCode: number;
  data?: unknown;
  error?: LegoError;
}

/** Fails loudly (at start-up, in every test) when a command declares a flag the framework owns. */
function assertTree(node: CommandNode, path: string): void {
  if (node.kind === "group") {
    const seen = new Set<string>();
    for (const child of node.commands) {
      for (const word of [child.meta.name, ...(child.meta.aliases ?? [])]) {
        if (seen.has(word)) throw new Error(`lego: two commands named "${path} ${word}"`);
        seen.add(word);
      }
      assertTree(child, `${path} ${child.meta.name}`);
    }
    return;
  }
  for (const [name, def] of Object.entries(node.args as ArgsDef)) {
    const aliases = def.type === "positional" || def.alias === undefined ? [] : [def.alias].flat();
    for (const n of [name, ...aliases]) {
      if (def.type !== "positional" && reservedFlagNames.includes(n)) {
        throw new Error(`lego: \`${path}\` declares --${n}, which the framework owns`);
      }
    }
  }
}

const truthy = (value: string | undefined): boolean =>
  value !== undefined && /^(1|true|yes)$/i.test(value.trim());

/**
 * Runs the CLI in-process and resolves to the exit code; never calls `process.exit` (only entry.ts
 * does). Parsing, routing, help, `--json`, colour, interactivity, errors and Ctrl-C live here, so
 * every command behaves the same.
 *
 * @example
 * const { exitCode } = await runCli(["local", "status", "--json"], {
 *   commands, program, env: { LEGO_HOME: dir }, stdout, stderr,
 * });
 */
export async function runCli(argv: readonly string[], options: RunCliOptions): Promise<CliOutcome> {
  const rawEnv = options.env ?? process.env;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const stdin = options.stdin ?? process.stdin;
  const tty =
    typeof options.isTTY === "boolean"
      ? { stdin: options.isTTY, stdout: options.isTTY, stderr: options.isTTY }
      : {
          stdin: options.isTTY?.stdin ?? Boolean(stdin.isTTY),
          stdout: options.isTTY?.stdout ?? Boolean(stdout.isTTY),
          stderr: options.isTTY?.stderr ?? Boolean(stderr.isTTY),
        };
  const clock = options.clock ?? systemClock;
  const signal = options.signal ?? new AbortController().signal;

  const alias = seedAliasFor(options.binName);
  const expanded = alias ? expandSeedAlias(alias.alias, argv) : hoistRoot(argv);
  const { flags, rest } = extractGlobalFlags(expanded);
  const debug = flags.debug || truthy(rawEnv.LEGO_DEBUG);
  const colorEnv = {
    ...(rawEnv.NO_COLOR !== undefined ? { NO_COLOR: rawEnv.NO_COLOR } : {}),
    ...(rawEnv.FORCE_COLOR ? { FORCE_COLOR: rawEnv.FORCE_COLOR } : {}),
  };
  const redactor = createRedactor(secretEnvNames.map((name) => rawEnv[name]));
  const ui = createRenderer({
    stdout,
    stderr,
    json: flags.json,
    debug,
    colorStdout: !flags.json && shouldUseColor(colorEnv, tty.stdout),
    colorStderr: shouldUseColor(colorEnv, tty.stderr),
    live: tty.stderr && !flags.json && !isCi(rawEnv.CI),
    clock,
    redactor,
  });
  const root: LegoGroup = defineGroup({
    meta: { name: options.program.name, description: options.program.description },
    commands: options.commands,
  });

  try {
    assertTree(root, root.meta.name);
    const words = flags.version && !flags.help ? ["version"] : rest;
    const { node, path, rest: tokens } = route(root, words);
    if (flags.help || node.kind === "group") {
      const help = await renderHelp(node, path, {
        color: !flags.json && shouldUseColor(colorEnv, tty.stdout),
        version: options.program.version,
      });
      // A seed binary's help starts with its seed forms and the lego command each one runs.
      const usage = alias ? `${renderSeedForms(alias.name, alias.alias)}\n\n${help}` : help;
      if (flags.json) ui.result({ usage }, undefined);
      else ui.raw(usage);
      return { exitCode: 0, data: { usage } };
    }
    const commandPath = [...path, node.meta.name].join(" ");
    const args = parseArgv(tokens, node.args, commandPath);
    const env = readEnv(rawEnv);
    const legoHome = resolveLegoHome(env, options.homeDir ?? homedir());
    const interactive = isInteractive({
      stdinIsTTY: tty.stdin,
      stdoutIsTTY: tty.stdout,
      ci: rawEnv.CI,
      json: flags.json,
    });
    const prompter = !interactive
      ? createNonInteractivePrompter()
      : (options.prompter ??
        createInquirerPrompter({ input: stdin, output: stdout as NodeJS.WritableStream, signal }));
    const logger = ui.logger();
    const cwd = options.cwd ?? process.cwd();
    const credentials = { env, legoHome, prompter, redactor, ui };
    const vault = createVaultResolver(credentials);
    const ctx: CommandContext = {
      argv: expanded,
      env,
      cwd,
      legoHome,
      logger,
      prompter,
      clock,
      signal,
      json: flags.json,
      debug,
      ui,
      isTTY: tty.stdout,
      redactor,
      vault,
      target: createTargetResolver(credentials, vault),
    };
    if (signal.aborted) throw interrupted(signal);
    const data = await settleOrAbort(
      node.run(ctx, args),
      signal,
      options.abortGraceMs ?? 5000,
      node.meta.endsOnInterrupt === true,
    );
    ui.result(data, node.human);
    return { exitCode: 0, data };
  } catch (thrown) {
    let error = signal.aborted ? interrupted(signal, thrown) : toLegoError(thrown);
    if (alias && error.code === "ERR_UNKNOWN_COMMAND")
      error = aliasTargetMissing(alias, argv, expanded, error);
    ui.error(error);
    return { exitCode: error.exitCode, error };
  } finally {
    ui.end();
  }
}

function interrupted(signal: AbortSignal, cause?: unknown): LegoError {
  if (isLegoError(signal.reason) && signal.reason.exitCode === 130) return signal.reason;
  return new InterruptedError("Interrupted", cause);
}

/**
 * Resolves or rejects with the command; after an abort, waits at most `graceMs` for it to wind down.
 * A command that `endsOnInterrupt` (a live view) resolves with what it returns after Ctrl-C.
 */
function settleOrAbort<T>(
  work: Promise<T>,
  signal: AbortSignal,
  graceMs: number,
  endsOnInterrupt = false,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(interrupted(signal)), graceMs);
      timer.unref?.();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (timer) clearTimeout(timer);
        if (signal.aborted && !endsOnInterrupt) reject(interrupted(signal));
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        if (timer) clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function aliasTargetMissing(
  alias: { name: string; alias: SeedAlias },
  original: readonly string[],
  expanded: readonly string[],
  error: LegoError,
): LegoError {
  const inserted = new Set([
    ...alias.alias.prefix,
    ...Object.values(alias.alias.verbs ?? {}).flat(),
    ...(alias.alias.defaultVerb ?? []),
  ]);
  const command = String(error.details?.command ?? "");
  const missing = command.split(" ").at(-1) ?? "";
  if (!inserted.has(missing)) return error;
  return new UsageError({
    code: "ERR_COMMAND_UNAVAILABLE",
    message: `${alias.name} runs \`${command}\`, which this build of lego does not have`,
    hint: `\`${alias.name} ${original.join(" ")}\` means \`lego ${expanded.join(" ")}\`. Run \`lego --help\` to see the commands this build has.`,
    details: { alias: alias.name, command },
    cause: error,
  });
}
