/**
 * The codes @lego/orchestration throws. Codes are never renamed once released; messages may change.
 */
export const OrchestrationErrorCode = [
  /** A seed-style class was used with no target: no token and no local cloud running (exit 2). */
  "ERR_ORCHESTRATION_NO_TARGET",
  /** A service named by a seed-style class is not in the portfolio (exit 2). */
  "ERR_ORCHESTRATION_UNKNOWN_SERVICE",
] as const;
/** One of {@link OrchestrationErrorCode}. */
export type OrchestrationErrorCode = (typeof OrchestrationErrorCode)[number];
