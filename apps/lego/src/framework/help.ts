import { type ArgsDef as CittyArgsDef, type CommandDef, renderUsage } from "citty";
import { paint, stripAnsi } from "./color.ts";
import type { CommandNode } from "./define.ts";

/** The flags every command takes, listed under GLOBAL OPTIONS. */
export const globalFlagHelp: ReadonlyArray<readonly [string, string]> = [
  ["--json", "Print exactly one JSON document on stdout: { ok, data } or { ok: false, error }"],
  ["--debug", "Show stack traces and debug logs (or LEGO_DEBUG=1)"],
  ["-h, --help", "Show help for a command"],
  ["--version", "Print the lego version"],
];

function toCitty(node: CommandNode, version: string | undefined): CommandDef<CittyArgsDef> {
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
  for (const [name, def] of Object.entries(node.args as Record<string, Record<string, unknown>>)) {
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
 * Renders `--help` for a command or group with citty's usage renderer, plus EXAMPLES and GLOBAL
 * OPTIONS. `path` is the words before the node (`["lego", "local"]` for `lego local up`).
 */
export async function renderHelp(
  node: CommandNode,
  path: readonly string[],
  options: { color: boolean; version?: string },
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
  const full = [...path, node.meta.name].join(" ");
  const sections: string[] = [text];
  if (node.meta.examples?.length) {
    sections.push(
      `${paint(options.color, ["bold", "underline"], "EXAMPLES")}\n\n${node.meta.examples.map((e) => `  ${e}`).join("\n")}`,
    );
  }
  const width = Math.max(...globalFlagHelp.map(([flag]) => flag.length));
  sections.push(
    `${paint(options.color, ["bold", "underline"], "GLOBAL OPTIONS")}\n\n${globalFlagHelp
      .map(([flag, doc]) => `  ${paint(options.color, "cyan", flag.padStart(width))}  ${doc}`)
      .join("\n")}`,
  );
  if (node.kind === "group" && path.length === 0) {
    sections.push(
      `Exit codes: 0 ok, 1 failed, 2 usage, 3 auth, 4 conflict, 130 interrupted.\nRun \`${full} env\` to see the environment variables lego reads.`,
    );
  }
  return `${sections.join("\n\n")}\n`;
}
