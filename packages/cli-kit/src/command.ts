import { type LegoError, toLegoError } from "@lego/core";
import { type ArgsDef, type ParsedArgs, parseArgv, reservedFlagNames } from "./args.ts";
import { paint, type StyleFormat, shouldUseColor } from "./color.ts";
import { type CommandMeta, renderHelp } from "./help.ts";
import { canPrompt } from "./interactive.ts";
import { errorLines, extractGlobalFlags, formatValue, jsonError, jsonResult } from "./output.ts";

/** A stream the kit writes to: `process.stdout`, a `PassThrough` in tests. */
export interface OutputStream {
  write(chunk: string, callback: (error?: Error | null) => void): unknown;
  isTTY?: boolean | undefined;
}

/** Where a human result is printed: stdout, coloured when colour is on. */
export interface Output {
  /** A line of the result. */
  print(text?: string): void;
  /** Colours text (node:util `styleText`) when colour is on; a no-op otherwise. */
  style(format: StyleFormat, text: string): string;
}

/** What a command's handler gets besides its parsed arguments. */
export interface RunContext {
  /** True with `--json`: the result is the one JSON document on stdout. */
  json: boolean;
  /** True with `--debug` or LEGO_DEBUG=1. */
  debug: boolean;
  /** Whether the command may ask questions ({@link canPrompt}): terminals, not CI, not `--json`. */
  interactive: boolean;
  env: Record<string, string | undefined>;
  stdin: { isTTY?: boolean | undefined };
  stdout: OutputStream;
}

/**
 * A command: data (meta and args) plus a handler that returns a result. {@link runCommand} renders
 * the result: with `--json` as `{ "ok": true, "data": result }`, otherwise through `human`.
 */
export interface Command<A extends ArgsDef = ArgsDef, R = unknown> {
  kind: "command";
  meta: CommandMeta;
  /** Printed by `--version` and at the top of `--help`. */
  version?: string | undefined;
  args: A;
  run(ctx: RunContext, args: ParsedArgs<A>): Promise<R>;
  /** Renders the result for people. Without it, the result is printed as `key: value` lines. */
  human?(result: R, out: Output): void;
}

/**
 * Defines a command. Declare flags in kebab-case; the handler gets them in camelCase, typed. `--json`,
 * `--debug`, `--help`/`-h` and `--version` belong to the kit: declaring one is an error.
 *
 * @example
 * export const hello = defineCommand({
 *   meta: { name: "hello", description: "Greet someone" },
 *   version: "1.0.0",
 *   args: { name: { type: "positional", description: "Who to greet" }, loud: { type: "boolean", description: "Shout" } },
 *   async run(_ctx, args) {
 *     return { greeting: `Hello, ${args.name}${args.loud ? "!" : ""}` };
 *   },
 *   human(result, out) {
 *     out.print(result.greeting);
 *   },
 * });
 */
export function defineCommand<const A extends ArgsDef, R>(definition: {
  meta: CommandMeta;
  version?: string;
  args?: A;
  run(ctx: RunContext, args: ParsedArgs<A>): Promise<R>;
  human?: (result: R, out: Output) => void;
}): Command<A, R> {
  const args = definition.args ?? ({} as A);
  for (const [name, def] of Object.entries(args)) {
    const names = def.type === "positional" ? [] : [name, ...[def.alias ?? []].flat()];
    const owned = names.find((n) => reservedFlagNames.includes(n));
    if (owned) throw new Error(`${definition.meta.name}: declares --${owned}, which the kit owns`);
  }
  return {
    kind: "command",
    meta: definition.meta,
    version: definition.version,
    args,
    run: definition.run,
    ...(definition.human ? { human: definition.human } : {}),
  };
}

/** The streams and environment of one run; tests pass their own. */
export interface CommandIo {
  env: Record<string, string | undefined>;
  stdin: { isTTY?: boolean | undefined };
  stdout: OutputStream;
  stderr: OutputStream;
}

/** What {@link runCommand} returns: the exit code to exit with, and the result or error for tests. */
export interface CommandOutcome {
  exitCode: number;
  data?: unknown;
  error?: LegoError;
}

function write(stream: OutputStream, text: string): Promise<void> {
  if (text === "") return Promise.resolve();
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

const truthy = (value: string | undefined): boolean =>
  value !== undefined && /^(1|true|yes)$/i.test(value.trim());

/**
 * Runs a single-command CLI in-process and resolves to its outcome; never calls `process.exit` (the
 * bin does). Bad input (an unknown flag, a missing value, an extra argument) is exit 2 naming the
 * flag, with "did you mean" when a flag is close; `--help` renders the usage; `--json` prints exactly
 * one document on stdout; an error is one or two lines on stderr (a stack only with `--debug`) and
 * the exit code of its kind (`@lego/core`'s `ExitCode`).
 *
 * @example
 * const { exitCode } = await runCommand(hello, process.argv.slice(2), process);
 * process.exit(exitCode);
 */
export async function runCommand<A extends ArgsDef, R>(
  command: Command<A, R>,
  argv: readonly string[],
  io: CommandIo,
): Promise<CommandOutcome> {
  const { flags, rest } = extractGlobalFlags(argv);
  const env = io.env;
  const debug = flags.debug || truthy(env.LEGO_DEBUG);
  const colorEnv = {
    ...(env.NO_COLOR !== undefined ? { NO_COLOR: env.NO_COLOR } : {}),
    ...(env.FORCE_COLOR ? { FORCE_COLOR: env.FORCE_COLOR } : {}),
  };
  const colorOut = !flags.json && shouldUseColor(colorEnv, io.stdout.isTTY === true);
  const colorErr = shouldUseColor(colorEnv, io.stderr.isTTY === true);
  const lines: string[] = [];
  const out: Output = {
    print: (text = "") => lines.push(text),
    style: (format, text) => paint(colorOut, format, text),
  };
  const result = async (data: unknown, human: ((data: unknown) => void) | undefined) => {
    if (flags.json) return write(io.stdout, `${jsonResult(data)}\n`);
    if (human) human(data);
    else if (data !== undefined && data !== null) lines.push(formatValue(data));
    const text = lines.join("\n");
    return write(io.stdout, text === "" || text.endsWith("\n") ? text : `${text}\n`);
  };
  try {
    if (flags.help) {
      const usage = await renderHelp(command, [], { color: colorOut, version: command.version });
      await result({ usage }, () => lines.push(usage));
      return { exitCode: 0, data: { usage } };
    }
    if (flags.version) {
      const version = command.version ?? "unknown";
      await result({ version }, () => lines.push(version));
      return { exitCode: 0, data: { version } };
    }
    const args = parseArgv(rest, command.args, command.meta.name);
    const ctx: RunContext = {
      json: flags.json,
      debug,
      interactive: canPrompt({
        stdinIsTTY: io.stdin.isTTY === true,
        stdoutIsTTY: io.stdout.isTTY === true,
        env,
        json: flags.json,
      }),
      env,
      stdin: io.stdin,
      stdout: io.stdout,
    };
    const data = await command.run(ctx, args);
    const human = command.human;
    await result(data, human ? (d) => human(d as R, out) : undefined);
    return { exitCode: 0, data };
  } catch (thrown) {
    const error = toLegoError(thrown);
    if (flags.json) await write(io.stdout, `${jsonError(error)}\n`);
    const text = errorLines(error, { color: colorErr, debug }).join("\n");
    await write(io.stderr, `${text}\n`);
    return { exitCode: error.exitCode, error };
  }
}
