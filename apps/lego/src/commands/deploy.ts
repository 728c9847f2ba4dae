import { join } from "node:path";
import { acquireLock, createRunJournal, portfolioStateDir, type RunJournal, UsageError } from "@lego/core";
import type {
  DeploymentAuditor,
  DeploymentPlan,
  DryRunReport,
  RunReport,
  ValidationLevel,
} from "@lego/deployment";
import { parseIntegerFlag } from "../framework/args.ts";
import { defineCommand } from "../framework/define.ts";
import type { Ui } from "../framework/ui.ts";
import { openCloud, openPortfolio, pickServices, rootArg, testSecrets } from "../wiring.ts";

const LEVELS = ["basic", "standard", "comprehensive"] as const;

/** `lego deploy`: the seed's primary command, for real. */
export const deployCommand = defineCommand({
  meta: {
    name: "deploy",
    description:
      "Deploy services: validate, deploy with wrangler, wait until live, test, roll back on failure",
    examples: [
      "lego deploy api-gateway --env staging",
      "lego deploy staging-api.example.com",
      "lego deploy --all --env staging --no-tests",
      "lego deploy --interactive --dry-run",
      "lego deploy api-gateway --env production --yes",
    ],
  },
  args: {
    services: {
      type: "positional",
      multiple: true,
      required: false,
      description: "Services to deploy (name, hostname or script name)",
    },
    env: { type: "string", description: "Environment (default: production, or the one a hostname names)" },
    all: { type: "boolean", description: "Deploy every service of the portfolio, in dependency order" },
    interactive: {
      type: "boolean",
      description: "Pick the service from a list (the default on a terminal without names)",
    },
    "dry-run": { type: "boolean", description: "Print the plan and what would change; write nothing" },
    tests: {
      type: "boolean",
      default: true,
      description: "Run production tests after the deploy (--no-tests to skip)",
    },
    rollback: {
      type: "boolean",
      default: true,
      description: "Roll back when the new version fails (--no-rollback to keep it)",
    },
    validation: {
      type: "enum",
      options: LEVELS,
      default: "standard",
      description: "Validation level before deploying",
    },
    "restore-db": {
      type: "boolean",
      description: "Also restore the database when the Worker is rolled back after a migration",
    },
    "live-timeout": {
      type: "string",
      description: "Seconds to wait for the new version to answer (default 30)",
    },
    yes: { type: "boolean", description: "Skip the production confirmation" },
    "break-stale-lock": { type: "boolean", description: "Take over a lock left behind by a dead run" },
    ...rootArg,
  },
  async run(ctx, args) {
    const { applyPlan, defaultDeployOptions, describeDryRun, planDeployment, runFailure, DeploymentAuditor } =
      await import("@lego/deployment");
    const portfolio = await openPortfolio(ctx, args.root);
    const picked = await pickServices(ctx, portfolio, args.services ?? [], { all: args.all, what: "deploy" });
    if (args.env && picked.environment && args.env !== picked.environment) {
      throw new UsageError({
        code: "ERR_ENVIRONMENT_CONFLICT",
        message: `--env ${args.env} contradicts the hostname given, which belongs to ${picked.environment}`,
        hint: `Drop --env, or name the service instead of the hostname.`,
      });
    }
    const environment = args.env ?? picked.environment ?? "production";
    const liveTimeoutS = parseIntegerFlag(args.liveTimeout, "--live-timeout", { min: 1, max: 3600 }) ?? 30;
    const plan: DeploymentPlan = planDeployment(
      portfolio,
      picked.services.map((s) => s.name),
      {
        ...defaultDeployOptions,
        environment,
        validation: args.validation as ValidationLevel,
        tests: args.tests,
        rollback: args.rollback,
        restoreDb: args.restoreDb === true,
        liveTimeoutMs: liveTimeoutS * 1000,
      },
    );
    // Made before the cloud is opened: it looks up who is deploying (`git config`) meanwhile.
    const auditor = args.dryRun
      ? undefined
      : new DeploymentAuditor({ root: portfolio.root, clock: ctx.clock, redactor: ctx.redactor });
    const cloud = await openCloud(ctx, portfolio.root, portfolio);
    try {
      if (args.dryRun || !auditor) {
        const dry = await describeDryRun(plan, {
          client: cloud.client,
          wrangler: cloud.wrangler,
          workersUrlPattern: cloud.target.workersUrlPattern,
          signal: ctx.signal,
        });
        return { dryRun: true as const, target: cloud.target.kind, ...dry };
      }
      if (environment === "production" && !args.yes) {
        const ok = await ctx.prompter.confirm({
          message: `Deploy ${plan.services.map((s) => s.service).join(", ")} to production (${cloud.target.kind})?`,
          default: false,
          flag: "--yes",
        });
        if (!ok)
          throw new UsageError({
            code: "ERR_CANCELLED",
            message: "Deploy cancelled",
            hint: "Nothing was changed.",
          });
      }
      const lock = await acquireLock(join(portfolioStateDir(portfolio.root), "lock"), {
        command: `lego ${ctx.argv.join(" ")}`,
        breakStale: args.breakStaleLock === true,
      });
      try {
        const journal = await createRunJournal({
          root: portfolio.root,
          now: () => new Date(ctx.clock.now()),
        });
        const hooks = await deployHooks(ctx, portfolio, cloud, plan, journal, auditor);
        const tasks = ctx.ui.tasks();
        const report: RunReport = await applyPlan(plan, {
          root: portfolio.root,
          command: `deploy ${plan.services.map((s) => s.service).join(" ")} --env ${environment}`,
          target: cloud.target,
          client: cloud.client,
          wrangler: cloud.wrangler,
          auditor,
          journal,
          hooks,
          clock: ctx.clock,
          logger: ctx.logger,
          redactor: ctx.redactor,
          secret: testSecrets(ctx, environment),
          signal: ctx.signal,
          onProgress: (event) => {
            if (event.type === "step")
              tasks.update(`${event.service}: ${event.step}`, event.status, event.message);
            else tasks.update(`${event.service}`, event.status, event.url);
          },
        });
        tasks.end();
        const failure = runFailure(report, join(portfolioStateDir(portfolio.root), "runs", report.runId));
        if (failure) throw failure;
        return { dryRun: false as const, ...summarize(report, portfolio.root) };
      } finally {
        await lock.release();
      }
    } finally {
      await cloud.dispose();
    }
  },
  human(result, ui) {
    if (result.dryRun) return printDryRun(result as DryRunReport & { target: string }, ui);
    printRun(result as ReturnType<typeof summarize>, ui);
  },
});

/** What `lego deploy --json` returns: the run, its report files, and each service's URL and versions. */
function summarize(report: RunReport, root: string) {
  const dir = join(portfolioStateDir(root), "runs", report.runId);
  return {
    runId: report.runId,
    ok: report.ok,
    environment: report.services[0]?.environment,
    target: report.target.kind,
    durationMs: report.durationMs,
    report: { json: join(dir, "report.json"), md: join(dir, "report.md"), html: join(dir, "report.html") },
    services: report.services.map((s) => ({
      service: s.service,
      environment: s.environment,
      scriptName: s.scriptName,
      ok: s.ok,
      url: s.url,
      versionBefore: s.versionBefore ?? null,
      versionAfter: s.versionAfter ?? null,
      tests: s.tests
        ? { ok: s.tests.ok, checks: s.tests.checks.map((c) => ({ id: c.id, ok: c.ok, message: c.message })) }
        : undefined,
    })),
  };
}

function printRun(result: ReturnType<typeof summarize>, ui: Ui): void {
  for (const s of result.services) {
    const checks = s.tests
      ? ` · ${s.tests.checks.filter((c) => c.ok).length}/${s.tests.checks.length} checks`
      : "";
    ui.print(
      `${ui.style("green", "✔")} ${s.service} (${s.environment}) ${ui.style("cyan", s.url ?? "")} · version ${s.versionAfter ?? "?"}${checks}`,
    );
  }
  ui.print(ui.style("dim", `run ${result.runId} · report ${result.report.html}`));
}

function printDryRun(result: DryRunReport & { target: string }, ui: Ui): void {
  ui.print(`Dry run on ${result.target}: nothing was deployed.`);
  for (const s of result.services) {
    ui.print(
      `\n${ui.style("bold", s.service)} (${s.environment}) → ${s.scriptName}${s.url ? ` ${ui.style("cyan", s.url)}` : ""}`,
    );
    ui.print(`  steps: ${s.steps.join(" → ")}`);
    ui.print(`  bundle: ${s.bundle ? `${(s.bundle.bytes / 1024).toFixed(1)} KiB` : "not built"}`);
    ui.print(`  live version: ${s.liveVersion ?? "none (first deploy)"}`);
    for (const c of s.changes)
      ui.print(
        `  ${c.kind === "add" ? ui.style("green", "+") : c.kind === "remove" ? ui.style("red", "-") : "~"} ${c.what}`,
      );
    if (s.secretsMissing.length)
      ui.print(ui.style("yellow", `  missing secrets: ${s.secretsMissing.join(", ")}`));
  }
}

async function deployHooks(
  ctx: Parameters<typeof deployCommand.run>[0],
  portfolio: Awaited<ReturnType<typeof openPortfolio>>,
  cloud: Awaited<ReturnType<typeof openCloud>>,
  plan: DeploymentPlan,
  journal: RunJournal,
  auditor: DeploymentAuditor,
) {
  const { DeploymentValidator, validationError } = await import("@lego/discovery");
  const { checkRequiredSecrets } = await import("@lego/secrets");
  const { createDeployMigrationHook, fromCloudflare } = await import("@lego/database");
  const migrate = createDeployMigrationHook(portfolio, {
    root: portfolio.root,
    ...fromCloudflare({ client: cloud.client, wrangler: cloud.wrangler }),
    logger: ctx.logger,
    prompter: ctx.prompter,
    clock: ctx.clock,
    runId: journal.runId,
    journal,
    audit: auditor,
    target: cloud.target.kind,
    signal: ctx.signal,
  });
  const validator = new DeploymentValidator({
    client: cloud.client,
    wrangler: cloud.wrangler,
    logger: ctx.logger,
  });
  const order = plan.services.map((s) => s.service);
  // One validation of the whole plan (account discovery runs once), consulted per service.
  let report: Promise<Awaited<ReturnType<typeof validator.validateDeployment>>> | undefined;
  return {
    async validate(service: DeploymentPlan["services"][number], level: ValidationLevel) {
      report ??= validator.validateDeployment({
        portfolio,
        services: order,
        environment: plan.environment,
        level,
        signal: ctx.signal,
      });
      const full = await report;
      const mine = full.checks.filter((c) => c.service === undefined || c.service === service.service);
      const failed = mine.filter((c) => !c.ok && c.severity === "error");
      if (failed.length > 0)
        throw validationError({ ...full, ok: false, checks: mine, errors: failed.length });
    },
    migrate,
    async checkSecrets(service: DeploymentPlan["services"][number]) {
      return checkRequiredSecrets({ service, client: cloud.client, signal: ctx.signal });
    },
  };
}
