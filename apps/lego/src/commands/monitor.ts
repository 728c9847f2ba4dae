// `lego monitor` (the seed's `lego-master-deploy monitor`): a live view of one environment of the
// portfolio, from @lego/insights' monitorPortfolio. The command parses, opens the cloud, renders.
import { OperationError, UsageError } from "@lego/core";
import type { PortfolioSnapshot } from "@lego/insights";
import { renderSnapshotText } from "@lego/insights/render";
import { defineCommand } from "../framework/define.ts";
import { openCloud, openPortfolio, rootArg } from "../wiring.ts";

function parseProbes(value: string | undefined): number {
  if (value === undefined) return 5;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 100) {
    throw new UsageError({
      code: "ERR_BAD_FLAG",
      message: `--probes ${JSON.stringify(value)} is not a number of requests`,
      hint: "Pass a whole number from 1 to 100 (--probes 5): the health requests per service, p50/p95 over them.",
    });
  }
  return n;
}

/** `lego monitor`: what serves, last deploys, health and runs in progress, refreshed in place. */
export const monitorCommand = defineCommand({
  meta: {
    name: "monitor",
    description: "Watch one environment: serving versions, last deploys, health (p50/p95), runs in progress",
    examples: [
      "lego monitor --env staging",
      "lego monitor --env production --interval 10s --probes 10",
      "lego monitor --env staging --once --json",
    ],
    endsOnInterrupt: true,
  },
  args: {
    services: {
      type: "positional",
      multiple: true,
      required: false,
      description: "Services to watch (default: all)",
    },
    env: {
      type: "string",
      alias: ["environment"],
      description: "Environment (default: production)",
    },
    interval: { type: "string", description: "Time between refreshes (default 5s)", valueHint: "5s" },
    once: { type: "boolean", description: "Take one snapshot and exit (also without a terminal)" },
    probes: {
      type: "string",
      description: "Health requests per service per refresh (default 5)",
      valueHint: "n",
    },
    ...rootArg,
  },
  async run(ctx, args) {
    const { monitorPortfolio, parseDuration } = await import("@lego/insights");
    const intervalMs = parseDuration(args.interval ?? "5s", "--interval");
    const probes = parseProbes(args.probes);
    const portfolio = await openPortfolio(ctx, args.root);
    const environment = args.env ?? "production";
    const services = args.services ?? [];
    const unknown = services.filter((s) => !portfolio.services.some((p) => p.name === s));
    if (unknown.length > 0)
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: `No service named ${unknown.join(", ")} in ${portfolio.root}`,
        hint: `Services: ${portfolio.services.map((s) => s.name).join(", ")}.`,
      });
    if (!portfolio.services.some((s) => s.environments[environment])) {
      const names = [...new Set(portfolio.services.flatMap((s) => Object.keys(s.environments)))];
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: `--env ${environment}: no service of ${portfolio.root} has that environment`,
        hint: `Environments: ${names.join(", ") || "none"}.`,
      });
    }
    const cloud = await openCloud(ctx, portfolio.root, portfolio);
    const take = () =>
      monitorPortfolio(
        { portfolio, environment, probes, services },
        { cloud, clock: ctx.clock, signal: ctx.signal },
      );
    try {
      let snapshot = await take();
      if (!args.once && ctx.ui.live) {
        // The live view: redrawn in place until Ctrl-C, which ends it with exit 0.
        for (;;) {
          ctx.ui.frame(
            `${renderSnapshotText(snapshot, ctx.ui.style)}\n${ctx.ui.style("dim", `every ${args.interval ?? "5s"} · Ctrl-C to stop`)}`,
          );
          try {
            await ctx.clock.sleep(intervalMs, ctx.signal);
            snapshot = await take();
          } catch (error) {
            if (ctx.signal.aborted) break;
            throw error;
          }
          if (ctx.signal.aborted) break;
        }
        return { ...snapshot, watched: true };
      }
      if (!snapshot.healthy) {
        if (!ctx.json) ctx.ui.print(renderSnapshotText(snapshot, ctx.ui.style));
        const bad = snapshot.services.filter((s) => s.state === "unhealthy");
        throw new OperationError({
          code: "ERR_UNHEALTHY",
          kind: "user",
          message: `${bad.length} of ${snapshot.services.length} services unhealthy in ${environment}: ${bad
            .map((s) => `${s.service} (${s.health?.problem ?? s.apiError ?? "unhealthy"})`)
            .join(", ")}`,
          hint: "`lego test <service>` runs its production tests; `lego rollback <service>` puts the previous version back.",
          details: { snapshot },
        });
      }
      return snapshot;
    } finally {
      await cloud.dispose();
    }
  },
  human(result: PortfolioSnapshot & { watched?: boolean }, ui) {
    if (!result.watched) ui.print(renderSnapshotText(result, ui.style));
  },
});
