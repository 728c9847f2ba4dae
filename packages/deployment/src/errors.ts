/**
 * The codes @lego/deployment throws. Codes are never renamed once released; messages may change.
 */
export const DeploymentErrorCode = [
  /** A named service is not in the portfolio (exit 2). */
  "ERR_DEPLOY_UNKNOWN_SERVICE",
  /** The service does not declare the environment asked for (exit 2). */
  "ERR_DEPLOY_UNKNOWN_ENVIRONMENT",
  /** The wrangler config has no section for the environment (exit 2). */
  "ERR_DEPLOY_NO_WRANGLER_ENV",
  /** A run ended with a service failed (exit 1, or the failing step's own code for 2/3/4). */
  "ERR_DEPLOY_FAILED",
  /** A service was not attempted because one it depends on failed (or `--fail-fast` stopped the run). */
  "ERR_SKIPPED",
  /** A service that passed was put back on its rollback point by the run's `--on-failure` policy. */
  "ERR_REVERTED",
  /** Putting a service back on its rollback point (by the `--on-failure` policy) failed. */
  "ERR_REVERT_FAILED",
  /** The new version did not answer its health check before the timeout. */
  "ERR_NOT_LIVE",
  /** An HTTP check got no answer in time. */
  "ERR_HTTP_TIMEOUT",
  /** `--to` names no version or run of this service (exit 2). */
  "ERR_ROLLBACK_TARGET",
  /** No earlier good version to roll back to (exit 2). */
  "ERR_ROLLBACK_NO_PREVIOUS",
  /** The rolled-back version did not answer its health check (exit 1). */
  "ERR_ROLLBACK_UNVERIFIED",
  /** Canary: the new version failed its pre-traffic tests (through the override header); no traffic moved (exit 1). */
  "ERR_CANARY_TESTS_FAILED",
  /** Canary: the new version did worse than the old one during a bake; 100% is back on the old one (exit 1). */
  "ERR_CANARY_ROLLED_BACK",
  /** Canary: the traffic split the API reports is not the one asked for (exit 1). */
  "ERR_CANARY_TRAFFIC",
  /** A bad `--steps`, `--bake` or `--strategy` value (exit 2). */
  "ERR_BAD_FLAG",
] as const;
/** One of {@link DeploymentErrorCode}. */
export type DeploymentErrorCode = (typeof DeploymentErrorCode)[number];
