import type { Readable, Writable } from "node:stream";
import { type ArgsDef, defineCommand, type ParsedArgs, runCommand } from "@lego/cli-kit";
import { createNonInteractivePrompter, type Prompter, UsageError } from "@lego/core";
import pkg from "../package.json" with { type: "json" };
import { completeScaffoldOptions } from "./ask.ts";
import { parseHostnames, parseList, SERVICE_TYPES, type ServiceType } from "./options.ts";
import { planScaffold } from "./plan.ts";
import { createInquirerPrompter } from "./prompter.ts";
import { type ScaffoldResult, writeScaffold } from "./write.ts";

/**
 * The arguments of `create-lego-service`, parsed by @lego/cli-kit as `lego`'s are (`--json`, `--help`,
 * `--version` and `--debug` are the kit's own).
 */
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
} as const satisfies ArgsDef;

/** What {@link runCreate} takes: the parsed {@link createArgs}. */
export type CreateArgs = ParsedArgs<typeof createArgs>;

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

/** A string flag's value, treating an empty one (`--domain ""`) as a usage error. */
function stringFlag(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === "") {
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
 * returns what was (or, with `--dry-run`, would be) written: the handler of `create-lego-service`.
 */
export async function runCreate(
  args: CreateArgs,
  context: { cwd: string; prompter: Prompter },
): Promise<{ output: CreateOutput; result?: ScaffoldResult }> {
  const options = await completeScaffoldOptions(
    {
      name: args.name,
      type: stringFlag(args.type, "type") as ServiceType | undefined,
      domain: stringFlag(args.domain, "domain"),
      environments: parseList(stringFlag(args.env, "env")),
      hostnames: parseHostnames(stringFlag(args.hostnames, "hostnames")),
      dir: stringFlag(args.dir, "dir"),
      accountId: stringFlag(args.accountId, "account-id"),
      zoneId: stringFlag(args.zoneId, "zone-id"),
      authService: stringFlag(args.authService, "auth-service"),
      dataService: stringFlag(args.dataService, "data-service"),
      runtimeVersion: stringFlag(args.runtimeVersion, "runtime-version"),
    },
    context.prompter,
  );
  const plan = planScaffold(options);
  const dryRun = args.dryRun;
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

/**
 * The `create-lego-service` command, on @lego/cli-kit (the framework `lego` runs on). `prompter`
 * replaces the terminal's (tests script answers with it).
 */
export function createLegoServiceCommand(options: {
  cwd: string;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  prompter?: Prompter | undefined;
}) {
  return defineCommand({
    meta: {
      name: "create-lego-service",
      description: "Scaffold a Lego service on Cloudflare Workers",
      examples: [
        "create-lego-service notes --type data-service --domain notes.example.com",
        "create-lego-service edge --type api-gateway --env staging,production --dir services/edge",
        "create-lego-service site --type static-site --dry-run --json",
      ],
    },
    version: pkg.version,
    args: createArgs,
    async run(ctx, args): Promise<CreateOutput> {
      const prompter =
        options.prompter ??
        (ctx.interactive
          ? createInquirerPrompter({ input: options.stdin, output: options.stdout })
          : createNonInteractivePrompter());
      return (await runCreate(args, { cwd: options.cwd, prompter })).output;
    },
    human(output, out) {
      out.print(renderCreateOutput(output, out.style));
    },
  });
}

/**
 * Runs `create-lego-service` with the given argv and streams; returns the exit code. Never calls
 * `process.exit`, so tests run it in-process. `--json` prints exactly one document on stdout; bad input
 * is exit 2 naming the flag, as in `lego`.
 */
export async function runCreateLegoServiceCli(io: CliIo): Promise<number> {
  const command = createLegoServiceCommand(io);
  const { exitCode } = await runCommand(command, io.argv, io);
  return exitCode;
}
