// This file is the worked example of a command; CONTRIBUTING.md walks through it. A command is data
// (meta, args) plus a handler that returns a result; the framework does parsing, `--help`, `--json`,
// errors and exit codes. Keep handlers thin: read args, call one library function, return its result.
import { defineCommand } from "../framework/define.ts";
import { program } from "../program.ts";

/** `lego version` (also `lego --version`): the CLI's version and the Node running it. */
export const versionCommand = defineCommand({
  // `name` is the word typed after `lego`; `description` is the one line shown by `lego --help`.
  meta: {
    name: "version",
    description: "Print the lego version",
    examples: ["lego version", "lego --version", "lego version --json"],
  },
  // Flags in kebab-case; the handler gets them camelCased and typed. `--json`, `--debug` and
  // `--help` are global and must not be declared here.
  args: {
    verbose: { type: "boolean", description: "Also print the Node.js version and platform" },
  },
  // The handler gets the context (env, cwd, legoHome, logger, prompter, signal, ui, …) and the
  // parsed args. It returns data; with `--json` that becomes `{ "ok": true, "data": … }` on stdout.
  // To fail, throw a LegoError subclass from @lego/core (UsageError → exit 2, AuthError → 3, …).
  async run(_ctx, args) {
    return {
      name: program.name,
      version: program.version,
      ...(args.verbose
        ? { node: process.versions.node, platform: `${process.platform}-${process.arch}` }
        : {}),
    };
  },
  // Human rendering of the result: `ui.print` writes to stdout. Without `human`, the result is
  // printed as `key: value` lines.
  human(result, ui) {
    ui.print(`${result.name} ${result.version}`);
    if (result.node) ui.print(ui.style("dim", `node ${result.node} (${result.platform})`));
  },
});
