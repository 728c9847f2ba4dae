/**
 * @lego/insights: what is running and how delivery is going. Read-only views over the cloud, the
 * runs in progress (journals and locks) and the audit trail.
 *
 * - `monitorPortfolio`: one environment now: what serves (read back from the API), the last deploy,
 *   health from probes (p50/p95), runs in progress and stale locks. `renderSnapshotText` for terminals.
 * - `deliveryMetrics`: deployment frequency, lead time for changes, change failure rate, time to
 *   restore and where deploy time goes, per service and for the portfolio. `renderAnalyticsHtml`;
 *   `writeDeliveryReport` (what `lego analytics` runs: the metrics, filters checked, the page written).
 */

export { InsightsErrorCode } from "./errors.ts";
export { renderAnalyticsHtml } from "./html.ts";
export type {
  DeliveryMetrics,
  DeliveryMetricsOptions,
  DeployRecord,
  MetricSet,
  StepStat,
} from "./metrics.ts";
export { classifyDeploys, deliveryMetrics, gitCommitTime, summarizeDeploys } from "./metrics.ts";
export type {
  HealthProbe,
  LastChange,
  MonitorContext,
  MonitorOptions,
  PortfolioSnapshot,
  RunInProgress,
  ServiceSnapshot,
  ServingVersion,
} from "./monitor.ts";
export { monitorPortfolio, readRunsInProgress } from "./monitor.ts";
export { formatDuration, renderSnapshotText } from "./render.ts";
export type { DeliveryReportOptions } from "./report.ts";
export { writeDeliveryReport } from "./report.ts";
export { mean, median, parseDuration, parseSince, percentile } from "./stats.ts";
