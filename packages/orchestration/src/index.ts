/**
 * @lego/orchestration: the run engine and the portfolio scheduler.
 *
 * - `executeRun`: every command that changes something is a run: the locks of the services it
 *   touches, the journal, audit events (one writer), the report, interruption.
 * - `deployServices`: a portfolio deploy: each service's pipeline starts once what it depends on is
 *   live and tested, with bounded concurrency, failure isolation and a coordination policy.
 * - `rollbackService`: a rollback as a run.
 * - `listRunSummaries` / `readRun`: every run, also those interrupted or killed (from journals).
 * - The seed's `MultiDomainOrchestrator` and `CrossDomainCoordinator`.
 */

export type {
  DeployServicesOptions,
  FailurePolicy,
  OrchestrationContext,
  PortfolioPlan,
  RunProgress,
} from "./deploy.ts";
export { defaultConcurrency, deployServices, failurePolicies, planPortfolioDeploy } from "./deploy.ts";
export { OrchestrationErrorCode } from "./errors.ts";
export type { DeployHooksContext } from "./hooks.ts";
export { createDeployHooks } from "./hooks.ts";
export type { RollbackServiceOptions, RollbackServiceResult } from "./rollback.ts";
export { rollbackService } from "./rollback.ts";
export type { Run, RunKind, RunOptions, RunOutcome, RunResult } from "./run.ts";
export { executeRun } from "./run.ts";
export type { RunSummary } from "./runs.ts";
export { listRunSummaries, readRun, summarizeJournal } from "./runs.ts";
export type { NodeResult, ScheduleNode, ScheduleOptions } from "./scheduler.ts";
export { dependenciesOf, dependentsOf, planWaves, runGraph } from "./scheduler.ts";
export type {
  CrossDomainCoordinatorOptions,
  MultiDomainOrchestratorOptions,
  PortfolioTargetOptions,
  ServiceStatus,
} from "./seed.ts";
export { CrossDomainCoordinator, MultiDomainOrchestrator } from "./seed.ts";
export type { ServiceRunOptions } from "./service-run.ts";
export { executeServiceRun } from "./service-run.ts";
