import { type ArgsDef as CittyArgsDef, type CommandDef, renderUsage } from "citty";
import type { ArgsDef } from "./args.ts";
import { paint, stripAnsi } from "./color.ts";

/** What `--help` and a router know about a command or group. */
export interface CommandMeta {
  /** The word typed on the command line (`up` in `lego local up`), or the program's name. */
  name: string;
  /** One line, shown in the parent's command list and at the top of `--help`. */
  description: string;
  /** Other words that select it. */
  aliases?: readonly string[];
  /** Left out of the parent's command list (still runnable). */
  hidden?: boolean;
  /** Full command lines shown under EXAMPLES in `--help`. */
  examples?: readonly string[];
}

/** What {@link renderHelp} renders: a command with its arguments, or a group with its commands. */
export type HelpNode =
  | { kind: "command"; meta: CommandMeta; args: ArgsDef }
  | { kind: "group"; meta: CommandMeta; commands: readonly HelpNode[] };

/** The flags the kit handles on every command (see `runCommand`), listed under GLOBAL OPTIONS. */
export function globalFlagHelp(program: string): ReadonlyArray<readonly [string, string]> {
  return [
    ["--json", "Print exactly one JSON document on stdout: { ok, data } or { ok: false, error }"],
    ["--debug", "Show stack traces (or LEGO_DEBUG=1)"],
    ["-h, --help", "Show this help"],
    ["--version", `Print the ${program} version`],
  ];
}

/** Options of {@link renderHelp}. */
export interface HelpOptions {
  color: boolean;
  /** Shown next to the description (top level only). */
  version?: string | undefined;
  /** GLOBAL OPTIONS rows, `[flag, description]`. Default: {@link globalFlagHelp} of the first word. */
  globalFlags?: ReadonlyArray<readonly [string, string]>;
  /** A last paragraph (exit codes, where to read more). */
  footer?: string | undefined;
}

function toCitty(node: HelpNode, version: string | undefined): CommandDef<CittyArgsDef> {
  const meta = { name: node.meta.name, description: node.meta.description, ...(version ? { version } : {}) };
  if (node.kind === "group") {
    const subCommands: Record<string, CommandDef<CittyArgsDef>> = {};
    for (const child of node.commands) {
      subCommands[child.meta.name] = {
        meta: {
          name: child.meta.name,
          description: child.meta.description,
          hidden: child.meta.hidden ?? false,
          ...(child.meta.aliases?.length ? { alias: [...child.meta.aliases] } : {}),
        },
      };
    }
    return { meta, subCommands };
  }
  // citty prints every alias with one dash (`-environment`): a long alias is named in the description
  // instead (`--environment` also works), and only one-letter aliases stay as citty's `-e`.
  const args: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(node.args as unknown as Record<string, Record<string, unknown>>)) {
    const aliases = def.alias === undefined ? [] : [def.alias as string | string[]].flat();
    const long = aliases.filter((a) => a.length > 1);
    if (def.type === "positional" || long.length === 0) {
      args[name] = def;
      continue;
    }
    const short = aliases.filter((a) => a.length === 1);
    const { alias: _alias, ...rest } = def;
    args[name] = {
      ...rest,
      ...(short.length > 0 ? { alias: short } : {}),
      description: `${def.description ?? ""} (also ${long.map((a) => `--${a}`).join(", ")})`.trim(),
    };
  }
  return { meta, args: args as unknown as CittyArgsDef };
}

/**
 * Renders `--help` for a command or group with citty's usage renderer, plus EXAMPLES, GLOBAL OPTIONS
 * and an optional footer. `path` is the words before the node (`["lego", "local"]` for `lego local up`;
 * `[]` for a program's top level).
 *
 * @example
 * const text = await renderHelp(command, [], { color: false, version: "1.0.0" });
 */
export async function renderHelp(
  node: HelpNode,
  path: readonly string[],
  options: HelpOptions,
): Promise<string> {
  const parent =
    path.length > 0 ? ({ meta: { name: path.join(" ") } } as CommandDef<CittyArgsDef>) : undefined;
  // citty decides colour from process.env at import time; strip it and apply our own decision.
  let text = stripAnsi(
    await renderUsage(toCitty(node, path.length === 0 ? options.version : undefined), parent),
  )
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");
  if (options.color) {
    text = text.replace(/^(USAGE|ARGUMENTS|OPTIONS|COMMANDS)\b/gm, (h) =>
      paint(true, ["bold", "underline"], h),
    );
  }
  const sections: string[] = [text];
  if (node.meta.examples?.length) {
    sections.push(
      `${paint(options.color, ["bold", "underline"], "EXAMPLES")}\n\n${node.meta.examples.map((e) => `  ${e}`).join("\n")}`,
    );
  }
  const globals = options.globalFlags ?? globalFlagHelp(path[0] ?? node.meta.name);
  if (globals.length > 0) {
    const width = Math.max(...globals.map(([flag]) => flag.length));
    sections.push(
      `${paint(options.color, ["bold", "underline"], "GLOBAL OPTIONS")}\n\n${globals
        .map(([flag, doc]) => `  ${paint(options.color, "cyan", flag.padStart(width))}  ${doc}`)
        .join("\n")}`,
    );
  }
  if (options.footer) sections.push(options.footer);
  return `${sections.join("\n\n")}\n`;
}
