/**
 * @lego/deployment: deploy a service for real. Plan (pure), then apply: validate, check secrets,
 * record the rollback point, migrate, deploy through wrangler, wait until the new version answers,
 * run the production tests the service declares, roll back on failure; audit and report every run.
 */

export type { DeployContext, DeployHooks, DeployProgress, MigrationOutcome } from "./apply.ts";
export { applyPlan, deployService, revertService, runFailure, urlForHostname } from "./apply.ts";
export type { AuditEvent, DeploymentAuditorOptions } from "./audit.ts";
export { DeploymentAuditor, resolveActor } from "./audit.ts";
export type {
  CanaryOptions,
  CanaryPhase,
  CanaryReport,
  CanaryRun,
  CanaryThresholds,
  DeployStrategy,
  ProbeStats,
  TrafficShare,
} from "./canary.ts";
export {
  decideCanaryStep,
  defaultCanaryOptions,
  defaultCanaryThresholds,
  deployCanary,
  parseCanarySteps,
  parseDuration,
  percentile,
  probeStats,
  versionOverrideHeader,
} from "./canary.ts";
export type { DryRunChange, DryRunContext, DryRunReport, DryRunService } from "./dry-run.ts";
export { describeDryRun } from "./dry-run.ts";
export { DeploymentErrorCode } from "./errors.ts";
export type { HttpClient, HttpRequestOptions, HttpResponse } from "./http.ts";
export { defaultHttpClient } from "./http.ts";
export type { DeploymentPlan, DeployOptions, PlannedService, StepName, ValidationLevel } from "./plan.ts";
export { defaultDeployOptions, planDeployment } from "./plan.ts";
export type { RunReport, ServiceRunReport, StepRecord } from "./report.ts";
export {
  listRuns,
  readRunReport,
  renderReportHtml,
  renderReportMarkdown,
  serviceStatus,
  writeRunReport,
} from "./report.ts";
export type {
  RollbackManagerOptions,
  RollbackPoint,
  RollbackResult,
  RollbackRun,
  RollbackRunContext,
  RollbackScope,
  ScopedRollback,
} from "./rollback.ts";
export {
  isPlaceholderVersion,
  isRollbackDeployment,
  RollbackManager,
  rejectedVersions,
  rollbackScope,
  runRollback,
} from "./rollback.ts";
export type { CheckResult, ProductionTesterOptions, TestReport, WaitUntilLiveOptions } from "./tester.ts";
export { defaultProductionTests, ProductionTester, waitUntilLive } from "./tester.ts";
