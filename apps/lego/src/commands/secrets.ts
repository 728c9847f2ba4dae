// `lego secrets generate|push|list|diff|rotate|sync` (and the seed's `lego-secrets`): thin handlers over
// @lego/secrets. Results carry names and status; values only with --reveal on a terminal.
import { resolve } from "node:path";
import { type RunJournal, UsageError } from "@lego/core";
import type { PortfolioService } from "@lego/discovery";
// Types only: the library (and node:crypto with it) loads when a secrets command runs, not with the CLI.
import type {
  EnhancedSecretManager,
  SecretListing,
  SecretSpec,
  SecretsDiff,
  SecretsResult,
  SecretsScope,
} from "@lego/secrets";
import { type CommandContext, defineCommand, defineGroup } from "../framework/define.ts";
import type { Ui } from "../framework/ui.ts";
import { openCloud } from "../wiring.ts";

const serviceArgs = {
  service: {
    type: "positional",
    description: "Service: its name, a hostname it serves, or a Worker script name",
    required: false,
  },
  domain: { type: "string", description: "The seed's name for the service argument", valueHint: "service" },
  env: {
    type: "string",
    alias: ["environment", "e"],
    description: "Environment (wrangler --env); implied by a hostname or script name",
    valueHint: "name",
  },
  root: { type: "string", description: "Portfolio root. Default: the current folder", valueHint: "path" },
  "break-stale-lock": {
    type: "boolean",
    description: "Take over a lock left behind by a dead run (commands that change secrets)",
  },
} as const;

interface ServiceArgs {
  service?: string | undefined;
  domain?: string | undefined;
  env?: string | undefined;
  root?: string | undefined;
  breakStaleLock?: boolean | undefined;
}

interface Located {
  root: string;
  service: PortfolioService;
  /** The environment named by --env, or implied by the argument. */
  env: string | undefined;
}

async function locate(ctx: CommandContext, args: ServiceArgs, required = true): Promise<Located | undefined> {
  const name = args.service ?? args.domain;
  if (args.service && args.domain && args.service !== args.domain) {
    throw new UsageError({
      code: "ERR_USAGE",
      message: `Two services given: "${args.service}" and --domain "${args.domain}"`,
      hint: "Give the service once, as an argument or with --domain.",
    });
  }
  if (!name) {
    if (!required) return undefined;
    // The seed's `lego-secrets --types … --persist` with no --domain: the service whose folder holds
    // the cwd (in --env, default production).
    const here = await serviceOfCwd(ctx, args);
    if (here) return here;
    throw new UsageError({
      code: "ERR_USAGE",
      message: "Which service? None was given",
      hint: "Name it: `lego secrets push api --env staging` (a name, hostname or script name; or --domain).",
    });
  }
  const root = resolve(ctx.cwd, args.root ?? ".");
  const { resolveService, scanPortfolio } = await import("@lego/discovery");
  const portfolio = await scanPortfolio({ root, logger: ctx.logger, clock: ctx.clock });
  const resolved = resolveService(portfolio, name);
  if (args.env && resolved.environment && args.env !== resolved.environment) {
    throw new UsageError({
      code: "ERR_USAGE",
      message: `"${name}" belongs to ${resolved.service.name}'s ${resolved.environment} environment, not ${args.env}`,
      hint: `Drop --env, or name the service (${resolved.service.name}) instead.`,
    });
  }
  return { root, service: resolved.service, env: args.env ?? resolved.environment };
}

/**
 * The service whose folder holds the cwd (the portfolio root is --root, or the nearest folder above
 * with a lego.config.* or services/), in --env or production (deploy's default). Undefined outside one.
 */
async function serviceOfCwd(ctx: CommandContext, args: ServiceArgs): Promise<Located | undefined> {
  const { existsSync } = await import("node:fs");
  const { dirname, join, sep } = await import("node:path");
  const { LEGO_CONFIG_FILES, scanPortfolio } = await import("@lego/discovery");
  const cwd = resolve(ctx.cwd);
  let root = args.root === undefined ? undefined : resolve(ctx.cwd, args.root);
  for (let dir = cwd; root === undefined; dir = dirname(dir)) {
    if (LEGO_CONFIG_FILES.some((f) => existsSync(join(dir, f))) || existsSync(join(dir, "services")))
      root = dir;
    else if (dirname(dir) === dir) return undefined;
  }
  const portfolio = await scanPortfolio({ root, logger: ctx.logger, clock: ctx.clock });
  const service = portfolio.services.find((s) => cwd === s.path || cwd.startsWith(s.path + sep));
  if (!service) return undefined;
  ctx.logger.info(`${service.name}: the service in ${service.dir}`);
  return { root, service, env: args.env ?? "production" };
}

function requireEnv(located: Located, verb: string): string {
  if (located.env) return located.env;
  throw new UsageError({
    code: "ERR_USAGE",
    message: `Which environment of ${located.service.name}? ${verb} needs one`,
    hint: `Pass --env (${located.service.environmentNames.join(", ")}).`,
  });
}

/** The API and wrangler for the resolved target (@lego/cloudflare's one factory), as the secrets library uses them. */
async function connect(ctx: CommandContext) {
  const [cloud, { createApiSecretsReader, createWranglerSecretsWriter }] = await Promise.all([
    openCloud(ctx, ctx.cwd),
    import("@lego/secrets"),
  ]);
  const target = cloud.target;
  return {
    target,
    runner: cloud,
    reader: createApiSecretsReader(cloud.client, { signal: ctx.signal }),
    writer: createWranglerSecretsWriter(cloud.wrangler, { signal: ctx.signal }),
  };
}

/**
 * A run that changes secrets, through the run engine: the service's lock, the run's journal and audit
 * events (names only), the report, and the manager wired to the API, wrangler and the vault.
 */
async function secretsRun(
  ctx: CommandContext,
  located: Located,
  action: string,
  options: { connect: boolean; reveal: boolean; breakStaleLock?: boolean | undefined },
  work: (manager: EnhancedSecretManager, journal: RunJournal) => Promise<SecretsResult>,
): Promise<SecretsResult & { runId: string; target?: string }> {
  const [{ executeServiceRun }, { EnhancedSecretManager }] = await Promise.all([
    import("@lego/orchestration"),
    import("@lego/secrets"),
  ]);
  const vault = await ctx.vault();
  const wired = options.connect ? await connect(ctx) : undefined;
  const service = located.service;
  try {
    const { result, report } = await executeServiceRun(
      {
        root: located.root,
        portfolio: { services: [service] },
        kind: `secrets.${action}`,
        command: `lego ${ctx.argv.join(" ")}`,
        services: [service.name],
        environment: located.env,
        target: wired ? wired.target : { kind: "vault" },
        clock: ctx.clock,
        redactor: ctx.redactor,
        signal: ctx.signal,
        breakStaleLock: options.breakStaleLock,
      },
      async (run) => {
        const manager = new EnhancedSecretManager({
          vault,
          reader: wired?.reader,
          writer: wired?.writer,
          logger: ctx.logger,
          journal: run.journal,
          prompter: ctx.prompter,
          // Revealed values must reach stdout, so they are not registered for redaction.
          redactor: options.reveal ? undefined : ctx.redactor,
        });
        const started = ctx.clock.now();
        try {
          const result = await work(manager, run.journal);
          await run.record({
            action: `secrets.${action}.finished`,
            service: service.name,
            environment: result.env,
            result: "ok",
            durationMs: ctx.clock.now() - started,
            details: {
              names: result.secrets.map((s) => s.name),
              pushed: result.secrets.filter((s) => s.pushed).map((s) => s.name),
              persisted: result.secrets.filter((s) => s.persisted).map((s) => s.name),
            },
          });
          return result;
        } catch (error) {
          await run.record({
            action: `secrets.${action}.finished`,
            service: service.name,
            ...(located.env ? { environment: located.env } : {}),
            result: "failed",
          });
          throw error;
        }
      },
    );
    return { ...result, runId: report.runId, ...(wired ? { target: wired.target.kind } : {}) };
  } finally {
    await wired?.runner.dispose();
  }
}

function assertReveal(ctx: CommandContext, reveal: boolean): void {
  if (reveal && !ctx.isTTY) {
    throw new UsageError({
      code: "ERR_REVEAL_NEEDS_TTY",
      message: "--reveal prints secret values, and stdout is not a terminal",
      hint: "Run it in a terminal, or use --persist and push them with `lego secrets push` instead.",
    });
  }
}

function renderResult(result: SecretsResult & { runId?: string }, ui: Ui): void {
  const verb = { generate: "Generated", push: "Pushed", rotate: "Rotated", sync: "Synced" }[result.action];
  ui.print(`${verb} secrets of ${result.service} (${result.env}, script ${result.scriptName})`);
  if (result.secrets.length === 0) ui.print(ui.style("dim", "  nothing to do: every required secret is set"));
  for (const s of result.secrets) {
    const flags = [s.pushed ? "pushed" : undefined, s.persisted ? "in vault" : undefined]
      .filter(Boolean)
      .join(", ");
    const value = result.values?.[s.name];
    ui.print(
      `  ${s.name.padEnd(24)} ${s.type.padEnd(10)} ${s.reason.padEnd(9)} ${flags}${value ? `  ${value}` : ""}`,
    );
  }
  for (const s of result.skipped) ui.print(ui.style("yellow", `  ${s.name}: skipped, ${s.reason}`));
  if (result.unchanged.length > 0) ui.print(ui.style("dim", `  unchanged: ${result.unchanged.join(", ")}`));
}

async function specsFrom(types: string[], custom: string[]): Promise<SecretSpec[]> {
  const { parseCustomSecret, parseSecretTypes } = await import("@lego/secrets");
  return [...(types.length > 0 ? parseSecretTypes(types) : []), ...custom.map(parseCustomSecret)];
}

/** `lego secrets generate` (and the seed's `lego-secrets --domain --environment --types --persist`). */
export const secretsGenerateCommand = defineCommand({
  meta: {
    name: "generate",
    description:
      "Generate secrets (jwt, api-keys, database, encryption, webhook, custom) and keep or push them",
    examples: [
      "lego secrets generate api --env staging --persist --push",
      "lego secrets generate --domain api.example.com --types database,api-keys,jwt --persist",
      "lego secrets generate api --env staging --custom SESSION_KEY:48 --push",
      "lego-secrets --domain my-domain --environment production --types database,jwt --persist",
      "lego secrets generate --types jwt --reveal",
    ],
  },
  args: {
    ...serviceArgs,
    types: {
      type: "string",
      multiple: true,
      description: "Secret types, comma-separated: jwt, api-keys, database, encryption, webhook",
      valueHint: "list",
    },
    custom: {
      type: "string",
      multiple: true,
      description:
        "A custom secret NAME:LENGTH[:ALPHABET] (alnum, alpha, numeric, symbols, hex, base64url, chars=…)",
      valueHint: "spec",
    },
    persist: { type: "boolean", description: "Keep the values encrypted in the vault (to push them again)" },
    push: { type: "boolean", description: "Upload them to the environment (through wrangler, on stdin)" },
    reveal: { type: "boolean", description: "Print the values (only on a terminal)" },
  },
  async run(ctx, args) {
    const { secretsScopeFor } = await import("@lego/secrets");
    assertReveal(ctx, args.reveal);
    const specs = await specsFrom(args.types, args.custom);
    const located = await locate(ctx, args, args.persist || args.push);
    if (!located) {
      // No service: the seed's bare generator. Values go nowhere but the terminal.
      if (!args.reveal) {
        throw new UsageError({
          code: "ERR_NOTHING_TO_KEEP",
          message: "Generated secrets would be thrown away: no service to persist or push them for",
          hint: "Name a service and pass --persist or --push, or pass --reveal in a terminal.",
        });
      }
      if (specs.length === 0) {
        throw new UsageError({
          code: "ERR_USAGE",
          message: "Nothing to generate",
          hint: "Pass --types jwt,api-keys,… or --custom NAME:LENGTH.",
        });
      }
      const { EnhancedSecretManager } = await import("@lego/secrets");
      const manager = new EnhancedSecretManager();
      const generated = manager.generateSecrets(specs);
      return {
        action: "generate" as const,
        service: "",
        env: "",
        scriptName: "",
        secrets: generated.map((g) => ({
          name: g.name,
          type: g.type,
          reason: "requested" as const,
          source: "generate" as const,
          pushed: false,
          persisted: false,
        })),
        unchanged: [],
        skipped: [],
        values: Object.fromEntries(generated.map((g) => [g.name, g.value])),
      };
    }
    const env = requireEnv(located, "generate");
    const scope = secretsScopeFor(located.service, env);
    // Without --types or --custom: the seed's `--domain x --environment y`, i.e. the required secrets not set yet.
    const fillMissing = specs.length === 0;
    return secretsRun(
      ctx,
      located,
      "generate",
      { connect: args.push || fillMissing, reveal: args.reveal, breakStaleLock: args.breakStaleLock },
      (manager) =>
        manager.generate(scope, {
          specs,
          fillMissing,
          push: args.push,
          persist: args.persist,
          reveal: args.reveal,
        }),
    );
  },
  human: renderResult,
});

/** `lego secrets push <service> --env <env>` */
export const secretsPushCommand = defineCommand({
  meta: {
    name: "push",
    description: "Push the vault's values and generate the missing required secrets",
    examples: [
      "lego secrets push api --env staging --persist",
      "lego secrets push api --env production --only JWT_SECRET",
    ],
  },
  args: {
    ...serviceArgs,
    persist: { type: "boolean", description: "Keep newly generated values in the vault" },
    only: { type: "string", multiple: true, description: "Only this secret (repeatable)", valueHint: "NAME" },
    reveal: { type: "boolean", description: "Print the values (only on a terminal)" },
  },
  async run(ctx, args) {
    const { secretsScopeFor } = await import("@lego/secrets");
    assertReveal(ctx, args.reveal);
    const located = (await locate(ctx, args)) as Located;
    const scope = secretsScopeFor(located.service, requireEnv(located, "push"));
    return secretsRun(
      ctx,
      located,
      "push",
      { connect: true, reveal: args.reveal, breakStaleLock: args.breakStaleLock },
      (manager) => manager.push(scope, { persist: args.persist, only: args.only, reveal: args.reveal }),
    );
  },
  human: renderResult,
});

/** `lego secrets rotate <service> <NAME> --env <env>` */
export const secretsRotateCommand = defineCommand({
  meta: {
    name: "rotate",
    description: "Replace one secret with a new value of the same kind",
    examples: ["lego secrets rotate api JWT_SECRET --env production"],
  },
  args: {
    service: { type: "positional", description: "Service (name, hostname or script name)" },
    name: { type: "positional", description: "The secret to rotate, e.g. JWT_SECRET" },
    env: serviceArgs.env,
    root: serviceArgs.root,
    "break-stale-lock": serviceArgs["break-stale-lock"],
    persist: { type: "boolean", description: "Keep the new value in the vault (always, if it was there)" },
    reveal: { type: "boolean", description: "Print the new value (only on a terminal)" },
  },
  async run(ctx, args) {
    const { secretsScopeFor } = await import("@lego/secrets");
    assertReveal(ctx, args.reveal);
    const located = (await locate(ctx, args)) as Located;
    const scope = secretsScopeFor(located.service, requireEnv(located, "rotate"));
    return secretsRun(
      ctx,
      located,
      "rotate",
      { connect: true, reveal: args.reveal, breakStaleLock: args.breakStaleLock },
      (manager) => manager.rotate(scope, args.name, { persist: args.persist, reveal: args.reveal }),
    );
  },
  human: renderResult,
});

/** `lego secrets sync <service> --from staging --to production` */
export const secretsSyncCommand = defineCommand({
  meta: {
    name: "sync",
    description: "Copy the vault's values of one environment to another (asks first)",
    examples: [
      "lego secrets sync api --from staging --to production",
      "lego secrets sync api --from staging --to production --yes",
    ],
  },
  args: {
    service: serviceArgs.service,
    domain: serviceArgs.domain,
    root: serviceArgs.root,
    "break-stale-lock": serviceArgs["break-stale-lock"],
    from: { type: "string", required: true, description: "Environment to copy from", valueHint: "env" },
    to: { type: "string", required: true, description: "Environment to copy to", valueHint: "env" },
    yes: { type: "boolean", alias: "y", description: "Do not ask for confirmation" },
  },
  async run(ctx, args) {
    const { secretsScopeFor } = await import("@lego/secrets");
    const located = (await locate(ctx, args)) as Located;
    if (args.from === args.to) {
      throw new UsageError({
        code: "ERR_USAGE",
        message: `--from and --to are both ${args.from}`,
        hint: "Name two different environments.",
      });
    }
    const from = secretsScopeFor(located.service, args.from);
    const to = secretsScopeFor(located.service, args.to);
    return secretsRun(
      ctx,
      located,
      "sync",
      { connect: true, reveal: false, breakStaleLock: args.breakStaleLock },
      (manager) => manager.sync({ from, to, yes: args.yes }),
    );
  },
  human: renderResult,
});

/** What `lego secrets list` returns. */
export interface SecretsListResult {
  service: string;
  env: string;
  scriptName: string;
  secrets: SecretListing[];
}

/** `lego secrets list <service> --env <env>` */
export const secretsListCommand = defineCommand({
  meta: {
    name: "list",
    description: "List the secrets of an environment: set, required, in the vault (names only)",
    examples: ["lego secrets list api --env staging", "lego secrets list staging-api.example.com --json"],
  },
  args: serviceArgs,
  async run(ctx, args): Promise<SecretsListResult> {
    const { EnhancedSecretManager, secretsScopeFor } = await import("@lego/secrets");
    const located = (await locate(ctx, args)) as Located;
    const scope = secretsScopeFor(located.service, requireEnv(located, "list"));
    const vault = await ctx.vault();
    const { reader } = await connect(ctx);
    const secrets = await new EnhancedSecretManager({ reader, vault }).list(scope);
    return { service: scope.service, env: scope.env, scriptName: scope.scriptName, secrets };
  },
  human(result, ui) {
    ui.print(`Secrets of ${result.service} (${result.env}, script ${result.scriptName})`);
    if (result.secrets.length === 0) ui.print(ui.style("dim", "  none"));
    for (const s of result.secrets) {
      const state = s.set ? ui.style("green", "set") : ui.style(s.required ? "red" : "dim", "missing");
      const notes = [s.required ? "required" : undefined, s.persisted ? "in vault" : undefined].filter(
        Boolean,
      );
      ui.print(`  ${s.name.padEnd(24)} ${state}${notes.length ? `  (${notes.join(", ")})` : ""}`);
    }
  },
});

/** What `lego secrets diff` returns. */
export interface SecretsDiffResult {
  service: string;
  diffs: SecretsDiff[];
  /** Total of missing required secrets over the environments. */
  missing: number;
}

/** `lego secrets diff <service> [--env <env>]` */
export const secretsDiffCommand = defineCommand({
  meta: {
    name: "diff",
    description:
      "Show which required secrets each environment lacks (read from the API); exit 4 (drift) when any is missing",
    examples: ["lego secrets diff api", "lego secrets diff api --env production --json"],
  },
  args: serviceArgs,
  async run(ctx, args): Promise<SecretsDiffResult> {
    const { EnhancedSecretManager, secretsScopesFor } = await import("@lego/secrets");
    const located = (await locate(ctx, args)) as Located;
    const scopes: SecretsScope[] = secretsScopesFor(located.service, located.env ? [located.env] : []);
    const { reader } = await connect(ctx);
    const diffs = await new EnhancedSecretManager({ reader }).diff(scopes);
    const result = {
      service: located.service.name,
      diffs,
      missing: diffs.reduce((n, d) => n + d.missing.length, 0),
    };
    // Drift (exit 4, DESIGN.md's exit codes): declared secrets the cloud does not have. Scripts and CI
    // branch on the exit code; --json carries the whole diff in error.details.
    if (result.missing > 0) {
      const { LegoError, ExitCode } = await import("@lego/core");
      const lacking = diffs.filter((d) => d.missing.length > 0);
      throw new LegoError({
        code: "ERR_SECRETS_DRIFT",
        message: `${result.service} lacks ${result.missing} declared secret${result.missing === 1 ? "" : "s"} in the cloud: ${lacking.map((d) => `${d.env} (script ${d.scriptName}${d.scriptExists ? "" : ", not deployed"}): ${d.missing.join(", ")}`).join("; ")}`,
        hint: `Set them with: ${lacking.map((d) => `lego secrets push ${result.service} --env ${d.env}`).join("; ")}`,
        kind: "user",
        exitCode: ExitCode.Conflict,
        details: result,
      });
    }
    return result;
  },
  human(result, ui) {
    for (const d of result.diffs) {
      const head = `${result.service} (${d.env}, script ${d.scriptName}${d.scriptExists ? "" : ", not deployed"})`;
      if (d.missing.length === 0)
        ui.print(`${ui.style("green", "✓")} ${head}: all ${d.required.length} required secrets set`);
      else ui.print(`${ui.style("red", "✗")} ${head}: missing ${d.missing.join(", ")}`);
    }
  },
});

/** `lego secrets …` (the seed's `lego-secrets` runs `lego secrets generate`). */
export const secretsGroup = defineGroup({
  meta: { name: "secrets", description: "Worker secrets: generate, push, list, diff, rotate, sync" },
  commands: [
    secretsGenerateCommand,
    secretsPushCommand,
    secretsListCommand,
    secretsDiffCommand,
    secretsRotateCommand,
    secretsSyncCommand,
  ],
});
