import { isAbsolute, join, resolve } from "node:path";
import { type Logger, PRIVATE_FILE, portfolioStateDir, UsageError, writeFileAtomic } from "@lego/core";
import { renderAnalyticsHtml } from "./html.ts";
import { type DeliveryMetrics, type DeliveryMetricsOptions, deliveryMetrics } from "./metrics.ts";

/** {@link writeDeliveryReport}'s options: the window and filters of `deliveryMetrics`, and the page. */
export interface DeliveryReportOptions extends DeliveryMetricsOptions {
  /** Where the HTML page goes (relative to `cwd`); default `<root>/.lego/analytics.html`. */
  html?: string | undefined;
  /** Folder a relative `html` is resolved from. Default: `root`. */
  cwd?: string | undefined;
  logger?: Logger | undefined;
}

/**
 * `lego analytics` in one call: {@link deliveryMetrics} over the window, and the HTML page written
 * (by default `.lego/analytics.html`, 0600 like everything lego keeps there). A `service` or `environment` that matches no deploy
 * and no service of the portfolio is a typo, not an empty (and reassuring) answer: `ERR_BAD_FLAG`
 * (exit 2) listing what exists.
 */
export async function writeDeliveryReport(
  options: DeliveryReportOptions,
): Promise<DeliveryMetrics & { htmlPath: string }> {
  const metrics = await deliveryMetrics(options);
  const { root, service, environment } = options;
  if ((service || environment) && metrics.deploys.length === 0) {
    const { scanPortfolio } = await import("@lego/discovery");
    const portfolio = await scanPortfolio({
      root,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    }).catch(() => undefined);
    const services = portfolio?.services ?? [];
    if (service && !services.some((s) => s.name === service))
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: `--service ${service}: no service of ${root} and no deploy in its audit trail has that name`,
        hint: `Services: ${services.map((s) => s.name).join(", ") || "none"}.`,
      });
    const envs = [...new Set(services.flatMap((s) => Object.keys(s.environments)))];
    if (environment && !envs.includes(environment))
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: `--env ${environment}: no service of ${root} and no deploy in its audit trail has that environment`,
        hint: `Environments: ${envs.join(", ") || "none"}.`,
      });
  }
  // The default page sits with lego's other state (private); a path the user names gets default modes.
  const htmlPath = options.html
    ? isAbsolute(options.html)
      ? options.html
      : resolve(options.cwd ?? root, options.html)
    : join(portfolioStateDir(root), "analytics.html");
  await writeFileAtomic(htmlPath, renderAnalyticsHtml(metrics), options.html ? {} : PRIVATE_FILE);
  return { ...metrics, htmlPath };
}
