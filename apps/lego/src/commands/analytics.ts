// `lego analytics` (the seed's `lego-portfolio analytics`): delivery metrics from the audit trail, the
// run reports and git, from @lego/insights' writeDeliveryReport; the HTML page goes under .lego/.
import { stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { UsageError } from "@lego/core";
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
    const { parseSince, writeDeliveryReport } = await import("@lego/insights");
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
    return writeDeliveryReport({
      root,
      since,
      until: new Date(ctx.clock.now()),
      ...(args.service ? { service: args.service } : {}),
      ...(args.env ? { environment: args.env } : {}),
      ...(args.html ? { html: args.html, cwd: ctx.cwd } : {}),
      clock: ctx.clock,
      logger: ctx.logger,
    });
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
