import { UsageError } from "@lego/core";
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
    env: {
      type: "string",
      alias: ["environment"],
      description: "Environment (default: production, or the one a hostname names)",
    },
    to: { type: "string", description: "A version id, or a run id (the version that run replaced)" },
    yes: { type: "boolean", description: "Skip the production confirmation" },
    "break-stale-lock": { type: "boolean", description: "Take over a lock left behind by a dead run" },
    ...rootArg,
  },
  async run(ctx, args) {
    const { rollbackService } = await import("@lego/orchestration");
    const portfolio = await openPortfolio(ctx, args.root);
    const picked = await pickServices(ctx, portfolio, args.service ? [args.service] : [], {
      what: "roll back",
    });
    const environment = args.env ?? picked.environment ?? "production";
    const [service] = picked.services;
    if (!service) throw new UsageError({ code: "ERR_NO_SERVICES", message: "Nothing to roll back" });
    const cloud = await openCloud(ctx, portfolio.root, portfolio);
    try {
      if (environment === "production" && !args.yes) {
        const ok = await ctx.prompter.confirm({
          message: `Roll back ${service.name} in production?`,
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
      const run = await ctx.ui.tasks().run(`Roll back ${service.name} (${environment})`, () =>
        rollbackService(
          {
            portfolio,
            service: service.name,
            environment,
            to: args.to,
            command: `lego ${ctx.argv.join(" ")}`,
            breakStaleLock: args.breakStaleLock === true,
          },
          {
            cloud,
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
