import { join } from "node:path";
import { acquireLock, createRunJournal, portfolioStateDir, UsageError } from "@lego/core";
import { defineCommand } from "../framework/define.ts";
import { openCloud, openPortfolio, pickServices, rootArg } from "../wiring.ts";

/** `lego rollback`: back to the previous deployment (or a named version or run), verified. */
export const rollbackCommand = defineCommand({
  meta: {
    name: "rollback",
    description:
      "Roll a service back to its previous version (or --to a version id or run id), then verify it answers",
    examples: [
      "lego rollback api-gateway --env staging",
      "lego rollback api-gateway --env staging --to 20261125-050000-1a2b3c",
    ],
  },
  args: {
    service: { type: "positional", required: false, description: "Service (name, hostname or script name)" },
    env: { type: "string", description: "Environment (default: production, or the one a hostname names)" },
    to: { type: "string", description: "A version id, or a run id (the version that run replaced)" },
    yes: { type: "boolean", description: "Skip the production confirmation" },
    ...rootArg,
  },
  async run(ctx, args) {
    const { runRollback, DeploymentAuditor, planDeployment, defaultDeployOptions, urlForHostname } =
      await import("@lego/deployment");
    const portfolio = await openPortfolio(ctx, args.root);
    const picked = await pickServices(ctx, portfolio, args.service ? [args.service] : [], {
      what: "roll back",
    });
    const environment = args.env ?? picked.environment ?? "production";
    const [planned] = planDeployment(
      portfolio,
      picked.services.map((s) => s.name),
      { ...defaultDeployOptions, environment },
    ).services;
    if (!planned) throw new UsageError({ code: "ERR_NO_SERVICES", message: "Nothing to roll back" });
    const cloud = await openCloud(ctx, portfolio.root, portfolio);
    try {
      if (environment === "production" && !args.yes) {
        const ok = await ctx.prompter.confirm({
          message: `Roll back ${planned.service} in production?`,
          default: false,
          flag: "--yes",
        });
        if (!ok)
          throw new UsageError({
            code: "ERR_CANCELLED",
            message: "Rollback cancelled",
            hint: "Nothing was changed.",
          });
      }
      const lock = await acquireLock(join(portfolioStateDir(portfolio.root), "lock"), {
        command: `lego ${ctx.argv.join(" ")}`,
      });
      try {
        const journal = await createRunJournal({
          root: portfolio.root,
          now: () => new Date(ctx.clock.now()),
        });
        const url = planned.primaryHostname
          ? urlForHostname(cloud.target.workersUrlPattern, planned.primaryHostname)
          : undefined;
        const run = await ctx.ui.tasks().run(`Roll back ${planned.service} (${environment})`, () =>
          runRollback(
            {
              service: planned.service,
              environment,
              scriptName: planned.scriptName,
              path: planned.path,
              wranglerEnv: planned.wranglerEnv,
              url,
              health: planned.tests.health,
            },
            { to: args.to },
            {
              root: portfolio.root,
              command: `rollback ${planned.service} --env ${environment}${args.to ? ` --to ${args.to}` : ""}`,
              target: cloud.target,
              client: cloud.client,
              wrangler: cloud.wrangler,
              auditor: new DeploymentAuditor({
                root: portfolio.root,
                clock: ctx.clock,
                redactor: ctx.redactor,
              }),
              journal,
              clock: ctx.clock,
              logger: ctx.logger,
              redactor: ctx.redactor,
              signal: ctx.signal,
            },
          ),
        );
        const { report: _report, ...result } = run;
        return result;
      } finally {
        await lock.release();
      }
    } finally {
      await cloud.dispose();
    }
  },
  human(result, ui) {
    ui.print(
      `${ui.style("green", "✔")} ${result.service} (${result.environment}) rolled back ${result.from ?? "?"} → ${result.to}${result.verified ? ", answering again" : ""}`,
    );
    if (result.url) ui.print(`  ${ui.style("cyan", result.url)}`);
    ui.print(`  report: ${result.reportDir}/report.html`);
  },
});
