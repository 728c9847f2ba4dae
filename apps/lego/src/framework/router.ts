import { UsageError } from "@lego/core";
import type { CommandNode, LegoGroup } from "./define.ts";
import { closest } from "./suggest.ts";

/** Where an argv leads: the command (or group, for help) and the tokens left for its parser. */
export interface Route {
  node: CommandNode;
  /** The words before the node, from the root: `["lego", "local"]` for `lego local up`. */
  path: string[];
  /** The argv tokens that are not command words. */
  rest: string[];
}

/** Finds a child of a group by name or alias. */
export function findChild(group: LegoGroup, word: string): CommandNode | undefined {
  return group.commands.find((c) => c.meta.name === word || c.meta.aliases?.includes(word));
}

/**
 * Walks the command tree: each group takes the first word that is not a flag as its sub-command.
 * Flags must therefore follow the command words (`lego local up --port 0`). An unknown word is exit 2
 * with a "did you mean" hint.
 */
export function route(root: LegoGroup, argv: readonly string[]): Route {
  let node: CommandNode = root;
  const path: string[] = [];
  let rest = [...argv];
  while (node.kind === "group") {
    const group: LegoGroup = node;
    const end = rest.indexOf("--");
    const index = rest.findIndex((t, i) => (end === -1 || i < end) && !t.startsWith("-"));
    if (index === -1) break;
    const word = rest[index] as string;
    const child = findChild(group, word);
    const here = [...path, group.meta.name].join(" ");
    if (!child) {
      const names = group.commands.filter((c) => !c.meta.hidden).map((c) => c.meta.name);
      const guess = closest(word, names);
      throw new UsageError({
        code: "ERR_UNKNOWN_COMMAND",
        message: `Unknown command "${word}" for \`${here}\``,
        hint: `${guess ? `Did you mean \`${here} ${guess}\`? ` : ""}Run \`${here} --help\` to see the commands.`,
        details: { command: [...path, group.meta.name, word].join(" ") },
      });
    }
    path.push(group.meta.name);
    rest = [...rest.slice(0, index), ...rest.slice(index + 1)];
    node = child;
  }
  return { node, path, rest };
}
