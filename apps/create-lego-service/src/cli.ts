import type { Readable, Writable } from "node:stream";
import { styleText } from "node:util";
import { ExitCode, type Prompter, toLegoError, UsageError } from "@lego/core";
import { type ArgsDef, defineCommand, parseArgs, renderUsage } from "citty";
import pkg from "../package.json" with { type: "json" };
import { completeScaffoldOptions } from "./ask.ts";
import { parseHostnames, parseList, SERVICE_TYPES, type ServiceType } from "./options.ts";
import { planScaffold } from "./plan.ts";
import { createTerminalPrompter } from "./prompter.ts";
import { type ScaffoldResult, writeScaffold } from "./write.ts";

/** The arguments of `create-lego-service` (also used by `lego create`). */
export const createArgs = {
  name: { type: "positional", required: false, description: "Service name (the Worker name)" },
  type: { type: "string", description: `Service type: ${SERVICE_TYPES.join(", ")}`, valueHint: "type" },
  domain: {
    type: "string",
    description: "Production hostname (default <name>.example.com)",
    valueHint: "host",
  },
  env: {
    type: "string",
    description: "Deployed environments (default staging,production)",
    valueHint: "a,b",
  },
  hostnames: {
    type: "string",
    description: "Per-environment hostnames, overriding the derived ones",
    valueHint: "env=host,...",
  },
  dir: {
    type: "string",
    description: "Folder to create (default ./<name>); must be empty",
    valueHint: "path",
  },
  "account-id": { type: "string", description: "Cloudflare account id (32 hex)", valueHint: "id" },
  "zone-id": { type: "string", description: "Cloudflare zone id (32 hex)", valueHint: "id" },
  "auth-service": { type: "string", description: "api-gateway: service bound as AUTH", valueHint: "name" },
  "data-service": { type: "string", description: "api-gateway: service bound as DATA", valueHint: "name" },
  "runtime-version": {
    type: "string",
    description: "Dependency spec for @lego/runtime in package.json",
    valueHint: "spec",
  },
  "dry-run": { type: "boolean", description: "Print the plan; write nothing" },
  json: { type: "boolean", description: "Print one JSON document on stdout" },
} as const satisfies ArgsDef;

const command = defineCommand({
  meta: {
    name: "create-lego-service",
    version: pkg.version,
    description: "Scaffold a Lego service on Cloudflare Workers",
  },
  args: { ...createArgs, help: { type: "boolean", alias: "h", description: "Show this help" } },
});

/** The streams, environment and folder a run of the CLI works with; tests pass their own. */
export interface CliIo {
  argv: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  /** Overrides the prompter the terminal would get (tests script answers with it). */
  prompter?: Prompter;
}

/** What `--json` prints on success (`data`), and what the library returns. */
export interface CreateOutput {
  name: string;
  type: ServiceType;
  dir: string;
  dryRun: boolean;
  files: string[];
  environments: Array<{ name: string; hostname: string; script: string }>;
  secrets: string[];
  nextSteps: string[];
}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Throws exit 2 for a flag the command does not define (citty accepts anything). */
export function rejectUnknownFlags(parsed: Record<string, unknown>, defs: ArgsDef): void {
  const known = new Set<string>(["_"]);
  for (const [key, def] of Object.entries(defs)) {
    known.add(key);
    known.add(camel(key));
    const aliases = "alias" in def ? def.alias : undefined;
    for (const alias of typeof aliases === "string" ? [aliases] : (aliases ?? [])) known.add(alias);
  }
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    const flag = unknown[0]!;
    throw new UsageError({
      code: "ERR_SCAFFOLD_UNKNOWN_FLAG",
      message: `Unknown flag --${flag}`,
      hint: "Run with --help to list the flags.",
    });
  }
}

/** Reads a string flag, treating `--flag` with no value as a usage error. */
function stringFlag(args: Record<string, unknown>, flag: string): string | undefined {
  const value = args[flag];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new UsageError({
      code: "ERR_SCAFFOLD_MISSING_OPTION",
      message: `--${flag} needs a value`,
      hint: `Write --${flag} <value>.`,
    });
  }
  return value;
}

/**
 * Turns parsed `create` arguments into a scaffold, asking for what is missing through `prompter`, and
 * returns what was (or, with `--dry-run`, would be) written. Shared by `create-lego-service` and `lego create`.
 */
export async function runCreate(
  args: Record<string, unknown>,
  context: { cwd: string; prompter: Prompter },
): Promise<{ output: CreateOutput; result?: ScaffoldResult }> {
  const positionals = (args._ as string[] | undefined) ?? [];
  if (positionals.length > 1) {
    throw new UsageError({
      code: "ERR_SCAFFOLD_UNKNOWN_FLAG",
      message: `Unexpected argument ${JSON.stringify(positionals[1])}`,
      hint: "Pass one service name; flags start with --.",
    });
  }
  const options = await completeScaffoldOptions(
    {
      name: positionals[0],
      type: stringFlag(args, "type") as ServiceType | undefined,
      domain: stringFlag(args, "domain"),
      environments: parseList(stringFlag(args, "env")),
      hostnames: parseHostnames(stringFlag(args, "hostnames")),
      dir: stringFlag(args, "dir"),
      accountId: stringFlag(args, "account-id"),
      zoneId: stringFlag(args, "zone-id"),
      authService: stringFlag(args, "auth-service"),
      dataService: stringFlag(args, "data-service"),
      runtimeVersion: stringFlag(args, "runtime-version"),
    },
    context.prompter,
  );
  const plan = planScaffold(options);
  const dryRun = args["dry-run"] === true;
  const result = dryRun ? undefined : await writeScaffold(plan, { cwd: context.cwd });
  return {
    output: {
      name: plan.options.name,
      type: plan.options.type,
      dir: result?.dir ?? plan.dir,
      dryRun,
      files: plan.files.map((f) => f.path),
      environments: plan.environments,
      secrets: plan.secrets,
      nextSteps: plan.nextSteps,
    },
    ...(result ? { result } : {}),
  };
}

/** Human rendering of a create result. */
export function renderCreateOutput(
  output: CreateOutput,
  style: (format: "bold" | "dim" | "green", text: string) => string,
): string {
  const envWidth = Math.max(...output.environments.map((e) => e.name.length));
  const hostWidth = Math.max(...output.environments.map((e) => e.hostname.length + 8));
  const lines = [
    `${style("green", "✔")} ${output.dryRun ? "Would create" : "Created"} ${style("bold", output.name)} (${output.type}) in ${output.dir}: ${output.files.length} files`,
    "",
    ...output.environments.map(
      (e) =>
        `  ${e.name.padEnd(envWidth)}  ${`https://${e.hostname}`.padEnd(hostWidth)}  ${style("dim", `Worker ${e.script}`)}`,
    ),
  ];
  if (output.secrets.length > 0)
    lines.push("", `  Needs secret${output.secrets.length > 1 ? "s" : ""}: ${output.secrets.join(", ")}`);
  lines.push("", "Next:", `  cd ${output.dir}`, ...output.nextSteps.map((s) => `  ${s}`), "");
  return lines.join("\n");
}

function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}

/**
 * Runs `create-lego-service` with the given argv and streams; returns the exit code. Never calls
 * `process.exit`, so tests run it in-process. `--json` prints exactly one document on stdout.
 */
export async function runCreateLegoServiceCli(io: CliIo): Promise<number> {
  const json = io.argv.includes("--json");
  const style = (format: "bold" | "dim" | "green", text: string) =>
    styleText(format, text, { stream: io.stdout });
  try {
    const args = parseArgs(io.argv, command.args as ArgsDef) as Record<string, unknown>;
    if (args.help === true) {
      await write(io.stdout, `${await renderUsage(command)}\n`);
      return ExitCode.Success;
    }
    rejectUnknownFlags(args, command.args as ArgsDef);
    const prompter =
      io.prompter ??
      createTerminalPrompter(
        { stdinIsTTY: io.stdin.isTTY === true, stdoutIsTTY: io.stdout.isTTY === true, env: io.env, json },
        { input: io.stdin, output: io.stdout },
      );
    const { output } = await runCreate(args, { cwd: io.cwd, prompter });
    if (json) await write(io.stdout, `${JSON.stringify({ ok: true, data: output })}\n`);
    else await write(io.stdout, renderCreateOutput(output, style));
    return ExitCode.Success;
  } catch (thrown) {
    const error = toLegoError(thrown);
    if (json) {
      const body = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
      await write(io.stdout, `${JSON.stringify({ ok: false, error: body })}\n`);
    } else {
      const hint = error.hint ? `\n  ${error.hint}` : "";
      const stack = error.kind === "system" && io.env.LEGO_DEBUG ? `\n${error.stack ?? ""}` : "";
      await write(
        io.stderr,
        `${styleText("red", "✖", { stream: io.stderr })} ${error.message}${hint}${stack}\n`,
      );
    }
    return error.exitCode;
  }
}
