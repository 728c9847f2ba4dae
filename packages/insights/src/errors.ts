/**
 * The codes @lego/insights throws. Codes are never renamed once released; messages may change.
 */
export const InsightsErrorCode = [
  /** A duration flag (`--since 30d`, `--interval 5s`) is not a number with a unit (exit 2). */
  "ERR_BAD_DURATION",
  /** `monitorPortfolio`: a service of the snapshot is unhealthy or nothing of it serves (exit 1). */
  "ERR_UNHEALTHY",
] as const;
/** One of {@link InsightsErrorCode}. */
export type InsightsErrorCode = (typeof InsightsErrorCode)[number];
