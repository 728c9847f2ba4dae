import { availableParallelism } from "node:os";
import type { Cloud } from "@lego/cloudflare";
import type { AuditLog, Clock, Logger, Prompter, Redactor } from "@lego/core";
import {
  type DeployContext,
  type DeployHooks,
  type DeploymentPlan,
  type DeployOptions,
  type DeployProgress,
  deployService,
  type HttpClient,
  type PlannedService,
  planDeployment,
  type RunReport,
  revertService,
  type ServiceRunReport,
  serviceStatus,
} from "@lego/deployment";
import type { Portfolio } from "@lego/discovery";
import { createDeployHooks } from "./hooks.ts";
import { executeRun } from "./run.ts";
import { runOptions } from "./run-options.ts";
import { dependenciesOf, planWaves, runGraph, type ScheduleNode } from "./scheduler.ts";

/**
 * What happens to services this run already updated when another one fails (the seed's
 * `CrossDomainCoordinator`):
 * - `isolate` (default): only the failed service goes back to its rollback point; the rest stay.
 * - `rollback-dependencies`: also what the failed service depends on that this run updated.
 * - `rollback-all`: every service this run updated goes back: the release lands whole or not at all.
 *   It implies `--fail-fast`: nothing new starts once something failed.
 */
export type FailurePolicy = "isolate" | "rollback-dependencies" | "rollback-all";
export const failurePolicies: readonly FailurePolicy[] = ["isolate", "rollback-dependencies", "rollback-all"];

/** Progress of a portfolio run: the plan once, then each service's steps and outcome. */
export type RunProgress =
  | DeployProgress
  | { type: "plan"; runId: string; services: string[]; waves: string[][]; concurrency: number };

/** Everything a portfolio deploy acts through. Apps build it once per command. */
export interface OrchestrationContext {
  cloud: Pick<Cloud, "target" | "client" | "wrangler">;
  /** The one audit writer; default a new `AuditLog` on the portfolio root. */
  audit?: AuditLog | undefined;
  logger?: Logger | undefined;
  prompter?: Prompter | undefined;
  clock?: Clock | undefined;
  redactor?: Redactor | undefined;
  signal?: AbortSignal | undefined;
  http?: HttpClient | undefined;
  /** Secret values the production tests may use (`{{secret:NAME}}`); never logged. */
  secret?: ((service: string, name: string) => Promise<string | undefined>) | undefined;
  onProgress?: ((event: RunProgress) => void) | undefined;
  /** Replaces the bricks' hooks (validation, secrets check, migrations); default {@link createDeployHooks}. */
  hooks?: DeployHooks | undefined;
}

export interface DeployServicesOptions {
  portfolio: Portfolio;
  /** Service names; empty or absent: every service of the portfolio. */
  services?: readonly string[] | undefined;
  deploy: DeployOptions;
  /** How many services deploy at once. Default {@link defaultConcurrency} for the target. */
  concurrency?: number | undefined;
  /** Start nothing new after the first failure. */
  failFast?: boolean | undefined;
  onFailure?: FailurePolicy | undefined;
  /** Treat every service as independent (the seed's `enableDependencyResolution: false`). */
  ignoreDependencies?: boolean | undefined;
  /** The command as typed, for the journal, audit log and report. */
  command: string;
  breakStaleLock?: boolean | undefined;
}

/** A portfolio deploy's plan: the services in dependency order, their dependencies, and the waves. */
export interface PortfolioPlan {
  plan: DeploymentPlan;
  nodes: ScheduleNode[];
  waves: string[][];
}

/**
 * How many services deploy at once when not told. On the local cloud every wrangler bundles with
 * esbuild and the emulator runs on the same machine, so a deploy is CPU-bound: the cores, plus two
 * for the time a deploy spends waiting (live check, tests). On Cloudflare a deploy mostly waits on
 * the network (upload, API calls, propagation), so more overlap pays, up to a level that keeps well
 * inside the API's rate limit (1,200 requests per 5 minutes; a deploy makes ~15).
 */
export function defaultConcurrency(targetKind: string): number {
  if (targetKind === "local") return Math.min(8, Math.max(2, availableParallelism() + 2));
  return 8;
}

/**
 * Plans a portfolio deploy (pure): the deployment plan of `@lego/deployment`, one scheduler node per
 * service with its dependencies (service bindings and `dependsOn`), and the waves they form.
 */
export function planPortfolioDeploy(
  portfolio: Portfolio,
  names: readonly string[],
  options: DeployOptions,
): PortfolioPlan {
  const plan = planDeployment(portfolio, names, options);
  const nodes = plan.services.map((s) => ({
    id: s.service,
    dependsOn: portfolio.graph.dependencies[s.service] ?? [],
  }));
  return { plan, nodes, waves: planWaves(nodes) };
}

/**
 * Deploys services of a portfolio as one run of the run engine: each service's pipeline
 * (`deployService`) starts as soon as everything it depends on is live and tested in this run, at
 * most `concurrency` at once. A failed service skips only its dependents, with the reason; the
 * `onFailure` policy then decides what else goes back, and every service put back is verified by
 * its production tests. Returns the run's report (`ok: false` when anything failed); throws only for
 * a run that could not start (a lock held: exit 4) or was interrupted (exit 130, report written).
 *
 * @example
 * const report = await deployServices(
 *   { portfolio, deploy: { ...defaultDeployOptions, environment: "staging" }, command: "lego deploy --all" },
 *   { cloud },
 * );
 */
export async function deployServices(
  options: DeployServicesOptions,
  ctx: OrchestrationContext,
): Promise<RunReport> {
  const { portfolio } = options;
  const planned = planPortfolioDeploy(portfolio, options.services ?? [], options.deploy);
  const { plan } = planned;
  const nodes = options.ignoreDependencies
    ? planned.nodes.map((n) => ({ id: n.id, dependsOn: [] }))
    : planned.nodes;
  const waves = options.ignoreDependencies ? [nodes.map((n) => n.id)] : planned.waves;
  const onFailure = options.onFailure ?? "isolate";
  const failFast = options.failFast === true || onFailure === "rollback-all";
  const concurrency = Math.max(1, options.concurrency ?? defaultConcurrency(ctx.cloud.target.kind));
  const byName = new Map(plan.services.map((s) => [s.service, s]));
  const waveOf = new Map<string, number>();
  waves.forEach((w, i) => {
    for (const id of w) waveOf.set(id, i);
  });

  const { report } = await executeRun(
    runOptions(ctx, {
      root: portfolio.root,
      kind: "deploy",
      command: options.command,
      services: plan.services.map((s) => s.service),
      environment: plan.environment,
      breakStaleLock: options.breakStaleLock,
    }),
    async (run) => {
      // wrangler's processes start while the plan is announced and each first service validates and
      // reads its rollback point: the first deploys then skip Node's boot and wrangler's load.
      ctx.cloud.wrangler.prewarm?.(Math.min(concurrency, plan.services.length));
      ctx.onProgress?.({
        type: "plan",
        runId: run.id,
        services: plan.services.map((s) => s.service),
        waves,
        concurrency,
      });
      await run.journal.append("run.plan", { waves, concurrency, onFailure, failFast });
      const hooks =
        ctx.hooks ??
        (await createDeployHooks(plan, {
          portfolio,
          cloud: ctx.cloud,
          journal: run.journal,
          audit: run.audit,
          logger: ctx.logger,
          prompter: ctx.prompter,
          clock: ctx.clock,
          signal: ctx.signal,
        }));
      const dctx: DeployContext = {
        root: portfolio.root,
        command: options.command,
        target: ctx.cloud.target,
        client: ctx.cloud.client,
        wrangler: ctx.cloud.wrangler,
        auditor: run.audit,
        journal: run.journal,
        hooks,
        ...(ctx.http ? { http: ctx.http } : {}),
        ...(ctx.clock ? { clock: ctx.clock } : {}),
        ...(ctx.logger ? { logger: ctx.logger } : {}),
        ...(ctx.redactor ? { redactor: ctx.redactor } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.secret ? { secret: ctx.secret } : {}),
        ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
      };

      const results = await runGraph<ServiceRunReport>(nodes, {
        concurrency,
        failFast,
        signal: ctx.signal,
        run: async (name) => {
          const report = await deployService(plan, byName.get(name) as PlannedService, dctx);
          await run.journal.append("service.finished", { service: name, status: serviceStatus(report) });
          return { ok: report.ok, value: report };
        },
        onError: (name, error) => failedReport(byName.get(name) as PlannedService, error),
        onSkip: (name, reason) => {
          ctx.onProgress?.({ type: "service", service: name, status: "skipped", reason });
          void run.journal.append("service.finished", { service: name, status: "skipped", reason });
        },
      });

      const reports = plan.services.map((s): ServiceRunReport => {
        const r = results.get(s.service);
        const wave = waveOf.get(s.service) ?? 0;
        if (!r || r.status === "skipped") {
          const reason = r?.status === "skipped" ? r.reason : "not started";
          return {
            service: s.service,
            environment: s.environment,
            scriptName: s.scriptName,
            ok: false,
            status: "skipped",
            skipReason: reason,
            wave,
            steps: [],
            error: { code: "ERR_SKIPPED", message: `skipped: ${reason}` },
          };
        }
        return { ...r.value, wave };
      });

      // The coordination policy: what else goes back when something failed (never after Ctrl-C).
      const failed = reports.filter((r) => ["failed", "rolled-back"].includes(serviceStatus(r)));
      const interrupted = ctx.signal?.aborted === true;
      if (failed.length > 0 && onFailure !== "isolate" && !interrupted) {
        const toRevert = new Set<string>();
        if (onFailure === "rollback-all") {
          for (const r of reports) if (serviceStatus(r) === "ok") toRevert.add(r.service);
        } else {
          for (const f of failed)
            for (const dep of dependenciesOf(nodes, f.service)) {
              const r = reports.find((x) => x.service === dep);
              if (r && serviceStatus(r) === "ok") toRevert.add(dep);
            }
        }
        const reason = `${failed.map((f) => f.service).join(", ")} failed (--on-failure ${onFailure})`;
        // Dependents go back before what they depend on: waves in reverse, each wave at once.
        for (const wave of [...waves].reverse()) {
          await Promise.all(
            wave
              .filter((name) => toRevert.has(name))
              .map(async (name) => {
                const r = reports.find((x) => x.service === name) as ServiceRunReport;
                await revertService(plan, byName.get(name) as PlannedService, r, dctx, reason);
                await run.journal.append("service.finished", { service: name, status: serviceStatus(r) });
              }),
          );
        }
      }
      return {
        services: reports,
        result: undefined,
        waves,
        schedule: { concurrency, onFailure, failFast },
      };
    },
  );
  return report;
}

function failedReport(service: PlannedService, error: unknown): ServiceRunReport {
  const e = error as { code?: string; message?: string; exitCode?: number };
  return {
    service: service.service,
    environment: service.environment,
    scriptName: service.scriptName,
    ok: false,
    status: "failed",
    steps: [],
    error: {
      code: e.code ?? "ERR_DEPLOY_FAILED",
      message: e.message ?? String(error),
      ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
    },
  };
}
