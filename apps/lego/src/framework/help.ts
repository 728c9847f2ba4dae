import { renderHelp as renderKitHelp } from "@lego/cli-kit";
import type { CommandNode } from "./define.ts";

/** The flags every command takes, listed under GLOBAL OPTIONS. */
export const globalFlagHelp: ReadonlyArray<readonly [string, string]> = [
  ["--json", "Print exactly one JSON document on stdout: { ok, data } or { ok: false, error }"],
  ["--debug", "Show stack traces and debug logs (or LEGO_DEBUG=1)"],
  ["-h, --help", "Show help for a command"],
  ["--version", "Print the lego version"],
];

/**
 * Renders `--help` for a command or group with @lego/cli-kit's renderer (the one create-lego-service
 * uses), with lego's GLOBAL OPTIONS and, at the top level, the exit codes. `path` is the words before
 * the node (`["lego", "local"]` for `lego local up`).
 */
export async function renderHelp(
  node: CommandNode,
  path: readonly string[],
  options: { color: boolean; version?: string },
): Promise<string> {
  const full = [...path, node.meta.name].join(" ");
  return renderKitHelp(node, path, {
    color: options.color,
    version: options.version,
    globalFlags: globalFlagHelp,
    footer:
      node.kind === "group" && path.length === 0
        ? `Exit codes: 0 ok, 1 failed, 2 usage, 3 auth, 4 conflict, 130 interrupted.\nRun \`${full} env\` to see the environment variables lego reads.`
        : undefined,
  });
}
