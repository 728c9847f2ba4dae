/**
 * @lego/cloudflare: the one place that talks to Cloudflare. The API client (official SDK, Lego's
 * retries, terminating pagination), the wrangler runner (pinned wrangler, argv arrays, secrets on
 * stdin, ND-JSON results), target and credential resolution, and translation of foreign errors
 * into LegoErrors.
 */

export type {
  CallOptions,
  CloudflareClient,
  CloudflareClientOptions,
  CloudflareSdk,
  ListAllOptions,
  RequestSpec,
} from "./client.ts";
export { createCloudflareClient, DEFAULT_API_BASE_URL } from "./client.ts";
export type { Cloud, OpenCloudOptions } from "./cloud.ts";
export { openCloud } from "./cloud.ts";
export type { ApiFailure, Redact, RequestContext, TranslateOptions } from "./errors.ts";
export {
  CloudflareErrorCode,
  INVALID_TOKEN_CF_CODES,
  parseRetryAfter,
  RATE_LIMIT_CF_CODES,
  translateCloudflareError,
  WORKER_NOT_FOUND_CF_CODES,
} from "./errors.ts";
export type { PageRequest, PageResult, PaginateOptions, PaginationStop, ResultInfo } from "./paginate.ts";
export { collectPages, paginate } from "./paginate.ts";
export { isRepeatableSql } from "./repeatable-sql.ts";
export type { ResolvedRetryPolicy, RetryPolicy, RetryReason } from "./retry.ts";
export { backoffDelay, defaultRetryPolicy, resolveRetryPolicy, retryReason } from "./retry.ts";
export type { ResolveTargetOptions, Target, TokenVault } from "./target.ts";
export { resolveTarget } from "./target.ts";
export type {
  ApiEnvelope,
  CloudflareAccount,
  CloudflareUser,
  D1Database,
  D1QueryResult,
  Deployment,
  TokenStatus,
  WorkerDomain,
  WorkerRoute,
  WorkerScript,
  WorkerSecret,
  WorkerService,
  WorkerVersion,
  Zone,
} from "./types.ts";
export type {
  WranglerCommandFailedRecord,
  WranglerDeployRecord,
  WranglerOtherRecord,
  WranglerOutputRecord,
  WranglerSessionRecord,
  WranglerVersionDeployRecord,
  WranglerVersionUploadRecord,
} from "./wrangler/output.ts";
export { findRecord, parseWranglerOutput } from "./wrangler/output.ts";
export type { ApiRelay, ApiRelayOptions, ApiRelayStats } from "./wrangler/relay.ts";
export { isRepeatableRequest, startApiRelay } from "./wrangler/relay.ts";
export type {
  BuildResult,
  D1Scope,
  DeployResult,
  VersionUploadResult,
  WranglerRunner,
  WranglerRunnerOptions,
  WranglerRunOptions,
  WranglerRunResult,
  WranglerScope,
  WranglerTarget,
} from "./wrangler/runner.ts";
export { createWranglerRunner, resolveWranglerBin, wranglerErrors } from "./wrangler/runner.ts";
