import { UsageError } from "@lego/core";
import {
  defaultDeployOptions,
  planDeployment,
  type RollbackRun,
  type RollbackScope,
  rollbackScope,
  urlForHostname,
} from "@lego/deployment";
import type { Portfolio } from "@lego/discovery";
import type { OrchestrationContext } from "./deploy.ts";
import { executeRun } from "./run.ts";
import { runOptions } from "./run-options.ts";

export interface RollbackServiceOptions {
  portfolio: Portfolio;
  service: string;
  environment: string;
  /** A version id, or a run id (the version that run replaced). Default: the previous good version. */
  to?: string | undefined;
  command: string;
  breakStaleLock?: boolean | undefined;
  /** How long to wait for the old version to answer. Default 30 s. */
  verifyTimeoutMs?: number | undefined;
}

/** What {@link rollbackService} returns: the rollback, its run and where its report went. */
export type RollbackServiceResult = RollbackRun;

/**
 * `lego rollback` as a run of the run engine: the service's lock, journal, audit and report, then
 * back to the previous good version (or `to`), verified to answer as it. A failure is recorded in
 * the report, then thrown.
 */
export async function rollbackService(
  options: RollbackServiceOptions,
  ctx: OrchestrationContext,
): Promise<RollbackServiceResult> {
  const [planned] = planDeployment(options.portfolio, [options.service], {
    ...defaultDeployOptions,
    environment: options.environment,
  }).services;
  if (!planned)
    throw new UsageError({ code: "ERR_NO_SERVICES", message: `No service ${options.service} to roll back` });
  const url = planned.primaryHostname
    ? urlForHostname(ctx.cloud.target.workersUrlPattern, planned.primaryHostname)
    : undefined;
  const scope: RollbackScope = {
    service: planned.service,
    environment: planned.environment,
    scriptName: planned.scriptName,
    path: planned.path,
    wranglerEnv: planned.wranglerEnv,
    url,
    health: planned.tests.health,
  };
  const { report, result, dir } = await executeRun(
    runOptions(ctx, {
      root: options.portfolio.root,
      kind: "rollback",
      command: options.command,
      services: [planned.service],
      environment: options.environment,
      breakStaleLock: options.breakStaleLock,
    }),
    async (run) => {
      const done = await rollbackScope(
        scope,
        { to: options.to },
        {
          root: options.portfolio.root,
          command: options.command,
          target: ctx.cloud.target,
          client: ctx.cloud.client,
          wrangler: ctx.cloud.wrangler,
          auditor: run.audit,
          journal: run.journal,
          http: ctx.http,
          clock: ctx.clock,
          logger: ctx.logger,
          redactor: ctx.redactor,
          signal: ctx.signal,
          verifyTimeoutMs: options.verifyTimeoutMs,
          onProgress: ctx.onProgress,
        },
      );
      // A failure is recorded with the service; the engine throws it once everything is written.
      return { services: [done.service], result: done, failure: done.failure };
    },
  );
  return {
    runId: report.runId,
    service: planned.service,
    environment: planned.environment,
    scriptName: planned.scriptName,
    from: result.from,
    to: result.to as string,
    verified: result.verified,
    url,
    report,
    reportDir: dir,
  };
}
