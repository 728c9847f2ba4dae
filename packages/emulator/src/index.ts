/**
 * @lego/emulator: the local cloud. Cloudflare's v4 REST API on 127.0.0.1, which the unmodified
 * `wrangler` and the `cloudflare` SDK talk to, running what is deployed in workerd (Miniflare 5), with D1
 * on SQLite, on one port routed by `Host`.
 */

export type { CfMessage, ResultInfo } from "./api/envelope.ts";
export { CfApiError, CfCode, paginate } from "./api/envelope.ts";
export { splitSqlStatements } from "./d1/split-sql.ts";
export { EmulatorErrorCode } from "./errors.ts";
export type { FaultDecision, FaultRule } from "./faults.ts";
export { createPrng, FAULT_KINDS, FaultInjector } from "./faults.ts";
export type { AdoptablePortfolio, LocalCloudStatus, LocalCloudUpOptions, ZoneSeed } from "./lifecycle.ts";
export {
  addLocalCloudZones,
  ensureLocalCloud,
  localCloudDown,
  localCloudReset,
  localCloudStateDir,
  localCloudStatus,
  localCloudUp,
  portfolioAdoption,
  readFaultFile,
  triggerLocalCloudCron,
} from "./lifecycle.ts";
export type { HostTarget } from "./runtime/host-routing.ts";
export { canonicalHostname, resolveHost, routeMatcher } from "./runtime/host-routing.ts";
export type { LocalCloud, LocalCloudOptions, RecordedRequest } from "./server.ts";
export {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_ACCOUNT_SUBDOMAIN,
  EMULATOR_VERSION,
  registerLocalCloud,
  startLocalCloud,
} from "./server.ts";
