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
    const { RollbackManager, DeploymentAuditor, planDeployment, defaultDeployOptions, urlForHostname } =
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
        const auditor = new DeploymentAuditor({
          root: portfolio.root,
          clock: ctx.clock,
          redactor: ctx.redactor,
        });
        const manager = new RollbackManager({
          client: cloud.client,
          wrangler: cloud.wrangler,
          root: portfolio.root,
          clock: ctx.clock,
          logger: ctx.logger,
          signal: ctx.signal,
        });
        const url = planned.primaryHostname
          ? urlForHostname(cloud.target.workersUrlPattern, planned.primaryHostname)
          : undefined;
        const started = ctx.clock.now();
        await journal.append("rollback.started", { service: planned.service, environment, to: args.to });
        try {
          const result = await ctx.ui.tasks().run(`Roll back ${planned.service} (${environment})`, () =>
            manager.rollback(
              {
                service: planned.service,
                environment,
                scriptName: planned.scriptName,
                path: planned.path,
                wranglerEnv: planned.wranglerEnv,
                url,
                health: planned.tests.health,
              },
              { to: args.to, message: `lego rollback (run ${journal.runId})` },
            ),
          );
          await journal.append("rollback.finished", { ok: true, from: result.from, to: result.to });
          await auditor.record({
            runId: journal.runId,
            action: "rollback.finished",
            target: cloud.target.kind,
            service: planned.service,
            environment,
            versionBefore: result.from ?? null,
            versionAfter: result.to,
            result: "ok",
            durationMs: ctx.clock.now() - started,
          });
          return { runId: journal.runId, ...result, url };
        } catch (error) {
          await journal.append("rollback.finished", { ok: false, error: (error as Error).message });
          await auditor.record({
            runId: journal.runId,
            action: "rollback.finished",
            target: cloud.target.kind,
            service: planned.service,
            environment,
            result: "failed",
            durationMs: ctx.clock.now() - started,
            details: { error: (error as { code?: string }).code },
          });
          throw error;
        }
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
  },
});
