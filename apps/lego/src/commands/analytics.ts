// `lego analytics` (the seed's `lego-portfolio analytics`): delivery metrics from the audit trail, the
// run reports and git, from @lego/insights' deliveryMetrics; the HTML page goes under .lego/.
import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { portfolioStateDir, UsageError } from "@lego/core";
import type { DeliveryMetrics } from "@lego/insights";
import { formatDuration } from "@lego/insights/render";
import { defineCommand } from "../framework/define.ts";
import { rootArg } from "../wiring.ts";

const pct = (r: number | null) => (r === null ? "–" : `${Math.round(r * 1000) / 10}%`);

/** `lego analytics`: deployment frequency, lead time, change failure rate, time to restore, step times. */
export const analyticsCommand = defineCommand({
  meta: {
    name: "analytics",
    description:
      "Delivery metrics: deploy frequency, lead time, change failure rate, time to restore, step times",
    examples: [
      "lego analytics",
      "lego analytics --since 7d --service api-gateway",
      "lego analytics --json",
      "lego analytics --html report.html",
    ],
  },
  args: {
    since: { type: "string", description: "Window: a duration back from now or a date (default 30d)" },
    service: { type: "string", description: "Only this service" },
    env: { type: "string", alias: ["environment"], description: "Only this environment (default: all)" },
    html: {
      type: "string",
      description: "Write the HTML page here (default: .lego/analytics.html)",
      valueHint: "file",
    },
    ...rootArg,
  },
  async run(ctx, args) {
    const { deliveryMetrics, parseSince, renderAnalyticsHtml } = await import("@lego/insights");
    if (args.root !== undefined && args.root.trim() === "")
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: "--root is empty",
        hint: "Pass the portfolio folder (--root ./portfolio), or leave --root out to use the current folder.",
      });
    if (args.html !== undefined && args.html.trim() === "")
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: "--html is empty",
        hint: "Pass a file for the page (--html analytics.html), or leave --html out for .lego/analytics.html.",
      });
    const since = parseSince(args.since ?? "30d", ctx.clock.now());
    const root = args.root ? (isAbsolute(args.root) ? args.root : resolve(ctx.cwd, args.root)) : ctx.cwd;
    if (!(await stat(root).catch(() => undefined))?.isDirectory())
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: `--root ${root} is not a folder`,
        hint: "Pass the portfolio folder (--root ./portfolio), or run lego analytics in it.",
      });
    const metrics = await deliveryMetrics({
      root,
      since,
      until: new Date(ctx.clock.now()),
      ...(args.service ? { service: args.service } : {}),
      ...(args.env ? { environment: args.env } : {}),
      clock: ctx.clock,
    });
    // A --service or --env that matches nothing is a typo, not an empty (and reassuring) answer.
    if ((args.service || args.env) && metrics.deploys.length === 0) {
      const { scanPortfolio } = await import("@lego/discovery");
      const portfolio = await scanPortfolio({ root, logger: ctx.logger, clock: ctx.clock }).catch(
        () => undefined,
      );
      const services = portfolio?.services ?? [];
      if (args.service && !services.some((s) => s.name === args.service))
        throw new UsageError({
          code: "ERR_BAD_FLAG",
          message: `--service ${args.service}: no service of ${root} and no deploy in its audit trail has that name`,
          hint: `Services: ${services.map((s) => s.name).join(", ") || "none"}.`,
        });
      const envs = [...new Set(services.flatMap((s) => Object.keys(s.environments)))];
      if (args.env && !envs.includes(args.env))
        throw new UsageError({
          code: "ERR_BAD_FLAG",
          message: `--env ${args.env}: no service of ${root} and no deploy in its audit trail has that environment`,
          hint: `Environments: ${envs.join(", ") || "none"}.`,
        });
    }
    const htmlPath = args.html
      ? isAbsolute(args.html)
        ? args.html
        : resolve(ctx.cwd, args.html)
      : join(portfolioStateDir(root), "analytics.html");
    await mkdir(dirname(htmlPath), { recursive: true });
    await writeFile(htmlPath, renderAnalyticsHtml(metrics));
    return { ...metrics, htmlPath };
  },
  human(result: DeliveryMetrics & { htmlPath: string }, ui) {
    const p = result.portfolio;
    ui.print(
      ui.style(
        "bold",
        `Delivery ${result.since.slice(0, 10)} → ${result.until.slice(0, 10)} (${result.windowDays} day${result.windowDays === 1 ? "" : "s"})`,
      ),
    );
    ui.print(`  deployment frequency  ${p.deploysPerDay}/day (${p.successful} successful of ${p.deploys})`);
    ui.print(
      `  lead time for changes ${formatDuration(p.leadTime.medianMs)} median, ${formatDuration(p.leadTime.p95Ms)} p95 (${p.leadTime.count} deploys with a commit)`,
    );
    ui.print(
      `  change failure rate   ${pct(p.changeFailureRate)} (${p.failedChanges} of ${p.changes}; rollbacks: ${p.rollbacks.automatic} automatic, ${p.rollbacks.byHand} by hand)`,
    );
    ui.print(
      `  time to restore       ${formatDuration(p.timeToRestore.medianMs)} median${p.timeToRestore.open ? ` (${p.timeToRestore.open} not restored)` : ""}`,
    );
    if (p.steps.length > 0) {
      ui.print("  where deploy time goes:");
      for (const s of [...p.steps].sort((a, b) => b.totalMs - a.totalMs))
        ui.print(
          `    ${s.name.padEnd(15)} ${formatDuration(s.meanMs).padStart(8)} mean  ${String(Math.round(s.share * 100)).padStart(3)}%`,
        );
    }
    for (const s of result.services)
      ui.print(
        `  ${s.service}: ${s.deploys} deploys, ${s.deploysPerDay}/day, lead ${formatDuration(s.leadTime.medianMs)}, failure ${pct(s.changeFailureRate)}, restore ${formatDuration(s.timeToRestore.medianMs)}`,
      );
    ui.print(ui.style("dim", `HTML: ${result.htmlPath}`));
  },
});
