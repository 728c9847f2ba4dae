import type { CommandMeta as KitCommandMeta } from "@lego/cli-kit";
import type { Target } from "@lego/cloudflare";
import type { Clock, LegoEnv, Logger, Prompter, Redactor } from "@lego/core";
import type { Vault } from "@lego/secrets";
import { type ArgsDef, type ParsedArgs, withStandardAliases } from "./args.ts";
import type { Ui } from "./ui.ts";

/** What `--help` and the router know about a command or group (@lego/cli-kit's, plus lego's own). */
export interface CommandMeta extends KitCommandMeta {
  /** Ctrl-C is how the command ends (a live view): its result is rendered and the exit code is 0, not 130. */
  endsOnInterrupt?: boolean;
}

/**
 * Everything a handler may use. Built once per invocation by the framework; handlers never read
 * `process.*` themselves, so tests run them in-process with their own streams, env and signal.
 */
export interface CommandContext {
  /** The argv the CLI was given (after a seed alias was expanded), without the node and script paths. */
  argv: readonly string[];
  /** `readEnv(env)`, parsed once. */
  env: LegoEnv;
  cwd: string;
  /** The user state folder (`resolveLegoHome(env)`). */
  legoHome: string;
  /** Writes to stderr through the renderer; `debug` only shows with `--debug`. */
  logger: Logger;
  /** Interactive only when stdin and stdout are TTYs, not CI, not `--json`; else every question is exit 2 naming its flag. */
  prompter: Prompter;
  clock: Clock;
  /** Aborted on Ctrl-C; pass it to every library call that can wait. */
  signal: AbortSignal;
  /** True with `--json`: the result goes to stdout as the one JSON document, nothing else does. */
  json: boolean;
  /** True with `--debug` or LEGO_DEBUG=1. */
  debug: boolean;
  /** The renderer: notes, warnings and task lists on stderr. */
  ui: Ui;
  /** True when stdout is a terminal. */
  isTTY: boolean;
  /** Register every secret the command handles; all output passes through it. */
  redactor: Redactor;
  /**
   * Where the run acts (`local` or `cloudflare`: API base URL, token, account), resolved once on first
   * call from CLOUDFLARE_API_TOKEN, the vault, or the local cloud (started if needed). Says so in one
   * line on stderr; the token is registered with the redactor.
   */
  target(): Promise<Target>;
  /** The encrypted token vault under legoHome; its passphrase comes from LEGO_VAULT_PASSPHRASE or a prompt. */
  vault(): Promise<Vault>;
}

/**
 * A leaf command: data (meta and args) plus a handler that returns a result. The framework renders
 * the result: with `--json` as `{ "ok": true, "data": result }`, otherwise through `human`.
 */
export interface LegoCommand<A extends ArgsDef = ArgsDef, R = unknown> {
  kind: "command";
  meta: CommandMeta;
  args: A;
  run(ctx: CommandContext, args: ParsedArgs<A>): Promise<R>;
  /** Renders the result for people: `ui.print` goes to stdout. Without it, the result is printed as YAML-ish lines. */
  human?(result: R, ui: Ui): void;
}

/** A group of commands (`lego local …`). */
export interface LegoGroup {
  kind: "group";
  meta: CommandMeta;
  commands: readonly CommandNode[];
}

/** A command or a group. */
// biome-ignore lint/suspicious/noExplicitAny: a list holds commands of different arg and result types; `run` is contravariant in them.
export type CommandNode = LegoCommand<any, any> | LegoGroup;

/**
 * Defines a command. Declare flags in kebab-case; the handler gets them in camelCase, typed.
 *
 * @example
 * export const helloCommand = defineCommand({
 *   meta: { name: "hello", description: "Greet someone" },
 *   args: { name: { type: "positional", description: "Who to greet" } },
 *   async run(_ctx, args) {
 *     return { greeting: `Hello, ${args.name}` };
 *   },
 *   human(result, ui) {
 *     ui.print(result.greeting);
 *   },
 * });
 */
export function defineCommand<const A extends ArgsDef, R>(definition: {
  meta: CommandMeta;
  args?: A;
  run(ctx: CommandContext, args: ParsedArgs<A>): Promise<R>;
  human?: (result: R, ui: Ui) => void;
}): LegoCommand<A, R> {
  return {
    kind: "command",
    meta: definition.meta,
    // The standard aliases (`--environment` for `--env`, …) in one place for every command.
    args: withStandardAliases(definition.args ?? ({} as A)),
    run: definition.run,
    human: definition.human,
  };
}

/**
 * Defines a group of commands.
 *
 * @example
 * export const localGroup = defineGroup({
 *   meta: { name: "local", description: "Run the local cloud" },
 *   commands: [upCommand, statusCommand],
 * });
 */
export function defineGroup(definition: { meta: CommandMeta; commands: readonly CommandNode[] }): LegoGroup {
  return { kind: "group", meta: definition.meta, commands: definition.commands };
}
