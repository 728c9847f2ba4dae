import { join } from "node:path";
import { portfolioStateDir, UsageError } from "@lego/core";
import type { DeployStrategy, DryRunReport, RunReport, ValidationLevel } from "@lego/deployment";
import type { FailurePolicy, RunProgress } from "@lego/orchestration";
import { parseIntegerFlag } from "../framework/args.ts";
import { defineCommand } from "../framework/define.ts";
import type { TaskList } from "../framework/tasks.ts";
import type { Ui } from "../framework/ui.ts";
import { openCloud, openPortfolio, pickServices, rootArg, testSecrets } from "../wiring.ts";

const LEVELS = ["basic", "standard", "comprehensive"] as const;

/** `lego deploy`: the seed's primary command, for real. */
export const deployCommand = defineCommand({
  meta: {
    name: "deploy",
    // The seed's names for a deploy of several services, and of the whole portfolio (`--all` implied).
    aliases: ["deploy-multi", "deploy-portfolio"],
    description:
      "Deploy services: validate, deploy with wrangler, wait until live, test, roll back on failure",
    examples: [
      "lego deploy api-gateway --env staging",
      "lego deploy staging-api.example.com",
      "lego deploy --all --env staging --no-tests",
      "lego deploy --all --env staging --concurrency 4 --on-failure rollback-all",
      "lego deploy-multi auth-service data-service --environment staging --parallel",
      "lego deploy --domains auth-service,data-service --env staging",
      "lego deploy --all --env staging --dry-run   # the waves and what would change",
      "lego deploy --interactive --dry-run",
      "lego deploy api-gateway --env production --yes",
      "lego deploy api-gateway --env staging --strategy canary --steps 10,50,100 --bake 2m",
      "lego deploy api-gateway --env staging --strategy canary --steps 100   # blue-green",
    ],
  },
  args: {
    services: {
      type: "positional",
      multiple: true,
      required: false,
      description: "Services to deploy (name, hostname or script name)",
    },
    env: {
      type: "string",
      alias: ["environment"],
      description: "Environment (default: production, or the one a hostname names)",
    },
    all: {
      type: "boolean",
      description: "Deploy every service of the portfolio, in dependency order, several at once",
    },
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
    concurrency: {
      type: "string",
      description:
        "How many services deploy at once (default: cores + 2 on the local cloud, 8 on Cloudflare)",
      valueHint: "n",
    },
    parallel: {
      type: "boolean",
      default: true,
      description: "Deploy independent services at once (the default; --no-parallel: one at a time)",
    },
    domains: {
      type: "string",
      description: "Services as a comma-separated list (the seed's `orchestrate --domains a,b,c`)",
      valueHint: "a,b,c",
    },
    "fail-fast": { type: "boolean", description: "Start no new service after the first failure" },
    "on-failure": {
      type: "enum",
      options: ["isolate", "rollback-dependencies", "rollback-all"],
      default: "isolate",
      description:
        "When a service fails: roll back only it (isolate), also what it depends on, or the whole run",
    },
    strategy: {
      type: "enum",
      options: ["immediate", "canary"],
      default: "immediate",
      description:
        "immediate: deploy, then test; canary: test the new version before any traffic, then move traffic step by step",
    },
    steps: {
      type: "string",
      description:
        "Canary traffic steps in % of the new version, ending at 100 (default 10,50,100; 100: blue-green)",
      valueHint: "10,50,100",
    },
    bake: {
      type: "string",
      description:
        "Canary: how long each step bakes while both versions are compared (default 60s; e.g. 30s, 2m)",
      valueHint: "duration",
    },
    force: {
      type: "boolean",
      description: "Canary: apply pending migrations that drop or rename a table or column anyway",
    },
    yes: { type: "boolean", description: "Skip the production confirmation" },
    "break-stale-lock": { type: "boolean", description: "Take over a lock left behind by a dead run" },
    ...rootArg,
  },
  async run(ctx, args) {
    const [deployment, orchestration] = await Promise.all([
      import("@lego/deployment"),
      import("@lego/orchestration"),
    ]);
    const { defaultDeployOptions, describeDryRun, runFailure, serviceStatus } = deployment;
    const portfolio = await openPortfolio(ctx, args.root);
    const named = [
      ...(args.services ?? []),
      ...(args.domains ?? "")
        .split(",")
        .map((d) => d.trim())
        .filter(Boolean),
    ];
    // `lego deploy-portfolio` (the seed's form) deploys everything.
    const all = args.all === true || (ctx.argv[0] === "deploy-portfolio" && named.length === 0);
    const picked = await pickServices(ctx, portfolio, named, { all, what: "deploy" });
    if (args.env && picked.environment && args.env !== picked.environment) {
      throw new UsageError({
        code: "ERR_ENVIRONMENT_CONFLICT",
        message: `--env ${args.env} contradicts the hostname given, which belongs to ${picked.environment}`,
        hint: `Drop --env, or name the service instead of the hostname.`,
      });
    }
    const environment = args.env ?? picked.environment ?? "production";
    const environmentFrom = args.env ? "--env" : picked.environment ? "the hostname given" : "the default";
    // Which environment runs, every time, before anything changes (stderr; also in --json).
    ctx.ui.info(
      `Environment: ${environment} (${environmentFrom === "the default" ? "the default: no --env given" : `from ${environmentFrom}`})`,
    );
    const liveTimeoutS = parseIntegerFlag(args.liveTimeout, "--live-timeout", { min: 1, max: 3600 }) ?? 30;
    if (args.parallel === false && args.concurrency !== undefined)
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: "--no-parallel and --concurrency contradict each other",
        hint: "--no-parallel is --concurrency 1; pass one of them.",
      });
    const concurrency =
      args.parallel === false ? 1 : parseIntegerFlag(args.concurrency, "--concurrency", { min: 1, max: 64 });
    const strategy = canaryStrategy(args, deployment);
    const options = {
      ...defaultDeployOptions,
      ...(strategy ? { strategy } : {}),
      ...(args.force ? { force: true } : {}),
      environment,
      validation: args.validation as ValidationLevel,
      tests: args.tests,
      rollback: args.rollback,
      restoreDb: args.restoreDb === true,
      liveTimeoutMs: liveTimeoutS * 1000,
    };
    const names = picked.services.map((s) => s.name);
    const { plan, waves } = orchestration.planPortfolioDeploy(portfolio, names, options);
    const cloud = await openCloud(ctx, portfolio.root, portfolio);
    try {
      if (args.dryRun) {
        const dry = await describeDryRun(plan, {
          client: cloud.client,
          wrangler: cloud.wrangler,
          workersUrlPattern: cloud.target.workersUrlPattern,
          signal: ctx.signal,
          concurrency: concurrency ?? orchestration.defaultConcurrency(cloud.target.kind),
        });
        return {
          dryRun: true as const,
          environmentFrom,
          target: cloud.target.kind,
          waves,
          concurrency: concurrency ?? orchestration.defaultConcurrency(cloud.target.kind),
          ...dry,
        };
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
      const view = ctx.ui.tasks({ summary: plan.services.length > 1 });
      const report: RunReport = await orchestration.deployServices(
        {
          portfolio,
          services: names,
          deploy: options,
          concurrency,
          failFast: args.failFast === true,
          onFailure: args.onFailure as FailurePolicy,
          command: `lego ${ctx.argv.join(" ")}`,
          breakStaleLock: args.breakStaleLock === true,
        },
        {
          cloud,
          logger: ctx.logger,
          prompter: ctx.prompter,
          clock: ctx.clock,
          redactor: ctx.redactor,
          signal: ctx.signal,
          secret: testSecrets(ctx, environment),
          onProgress: (event) => renderProgress(view, event),
        },
      );
      view.end();
      // --json of a failed run still carries the whole run (each service, skip reasons, waves).
      const failure = runFailure(report, join(portfolioStateDir(portfolio.root), "runs", report.runId), {
        run: summarize(report, portfolio.root, serviceStatus),
      });
      if (failure) throw failure;
      return { dryRun: false as const, environmentFrom, ...summarize(report, portfolio.root, serviceStatus) };
    } finally {
      await cloud.dispose();
    }
  },
  human(result, ui) {
    if (result.dryRun)
      return printDryRun(
        result as DryRunReport & { target: string; waves: string[][]; concurrency: number },
        ui,
      );
    printRun(result as ReturnType<typeof summarize>, ui);
  },
});

/** `--strategy canary --steps … --bake …` as the library's strategy; `--steps`/`--bake` alone are refused (exit 2). */
function canaryStrategy(
  args: { strategy?: string | undefined; steps?: string | undefined; bake?: string | undefined },
  lib: typeof import("@lego/deployment"),
): DeployStrategy | undefined {
  if (args.strategy !== "canary") {
    const stray = args.steps !== undefined ? "--steps" : args.bake !== undefined ? "--bake" : undefined;
    if (stray)
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: `${stray} only applies to --strategy canary`,
        hint: `Add --strategy canary, or drop ${stray}.`,
      });
    return undefined;
  }
  return {
    kind: "canary",
    ...lib.defaultCanaryOptions,
    ...(args.steps !== undefined ? { steps: lib.parseCanarySteps(args.steps, "--steps") } : {}),
    ...(args.bake !== undefined ? { bakeMs: lib.parseDuration(args.bake, "--bake") } : {}),
  };
}

/** Feeds the live view: one line per service (waiting → its current step → how it ended). */
function renderProgress(view: TaskList, event: RunProgress): void {
  if (event.type === "plan") {
    if (event.services.length > 1) for (const name of event.services) view.update(name, "waiting", "waiting");
    return;
  }
  if (event.type === "step") {
    if (event.status === "running") view.update(event.service, "running", `${event.step}…`);
    return;
  }
  const detail =
    event.status === "skipped"
      ? event.reason
      : event.status === "ok"
        ? event.url
        : [event.message, event.url].filter(Boolean).join(" · ");
  view.update(event.service, event.status, detail);
}

/** What `lego deploy --json` returns: the run, its report files, and each service's URL and versions. */
function summarize(
  report: RunReport,
  root: string,
  serviceStatus: (s: RunReport["services"][number]) => string,
) {
  const dir = join(portfolioStateDir(root), "runs", report.runId);
  return {
    runId: report.runId,
    ok: report.ok,
    environment: report.services[0]?.environment,
    target: report.target.kind,
    durationMs: report.durationMs,
    report: { json: join(dir, "report.json"), md: join(dir, "report.md"), html: join(dir, "report.html") },
    waves: report.waves ?? [],
    schedule: report.schedule,
    services: report.services.map((s) => ({
      service: s.service,
      environment: s.environment,
      scriptName: s.scriptName,
      ok: s.ok,
      status: serviceStatus(s),
      ...(s.skipReason ? { skipReason: s.skipReason } : {}),
      ...(s.wave !== undefined ? { wave: s.wave } : {}),
      ...(s.error
        ? {
            error: {
              code: s.error.code,
              message: s.error.message,
              ...(s.error.stderrTail ? { stderrTail: s.error.stderrTail } : {}),
            },
          }
        : {}),
      url: s.url,
      versionBefore: s.versionBefore ?? null,
      versionAfter: s.versionAfter ?? null,
      liveVersion: s.liveVersion ?? null,
      ...(s.canary ? { canary: s.canary } : {}),
      tests: s.tests
        ? { ok: s.tests.ok, checks: s.tests.checks.map((c) => ({ id: c.id, ok: c.ok, message: c.message })) }
        : undefined,
    })),
  };
}

function printRun(result: ReturnType<typeof summarize>, ui: Ui): void {
  if (result.waves.length > 1)
    ui.print(ui.style("dim", `waves: ${result.waves.map((w) => w.join(", ")).join(" → ")}`));
  for (const s of result.services) {
    const checks = s.tests
      ? ` · ${s.tests.checks.filter((c) => c.ok).length}/${s.tests.checks.length} checks`
      : "";
    ui.print(
      `${ui.style("green", "✔")} ${s.service} (${s.environment}) ${ui.style("cyan", s.url ?? "")} · version ${s.versionAfter ?? "?"}${checks}`,
    );
    if (s.canary)
      ui.print(
        ui.style(
          "dim",
          `  ${s.canary.strategy}: ${s.canary.phases.map((p) => (p.kind === "pre-traffic" ? "tested at 0%" : `${p.percent}% ${p.decision}`)).join(" → ")}`,
        ),
      );
  }
  ui.print(ui.style("dim", `run ${result.runId} · report ${result.report.html}`));
}

function printDryRun(
  result: DryRunReport & { target: string; waves: string[][]; concurrency: number },
  ui: Ui,
): void {
  ui.print(`Dry run on ${result.target}: nothing was deployed.`);
  if (result.waves.length > 0) {
    ui.print(`\nWaves (concurrency ${result.concurrency}): each starts once what it depends on is live`);
    result.waves.forEach((wave, i) => {
      ui.print(`  ${i + 1}. ${wave.join(", ")}`);
    });
  }
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
