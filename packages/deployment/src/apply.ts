import type { CloudflareClient, WranglerRunner } from "@lego/cloudflare";
import {
  type AuditLog,
  type Clock,
  createNullLogger,
  ExitCode,
  InterruptedError,
  isLegoError,
  LegoError,
  type Logger,
  type Redactor,
  type RunJournal,
  systemClock,
  toLegoError,
  UsageError,
} from "@lego/core";
import { deployCanary } from "./canary.ts";
import type { HttpClient } from "./http.ts";
import type { DeploymentPlan, PlannedService, StepName, ValidationLevel } from "./plan.ts";
import { type RunReport, type ServiceRunReport, serviceStatus, writeRunReport } from "./report.ts";
import { RollbackManager, type RollbackPoint, type RollbackScope } from "./rollback.ts";
import { createStepRecorder } from "./steps.ts";
import { ProductionTester, waitUntilLive } from "./tester.ts";

/** What a migration hook returns: what it applied, and how to undo it. */
export interface MigrationOutcome {
  applied: string[];
  /** Restores the database to its state before the migrations (used with `--restore-db`). */
  restore?: () => Promise<void>;
}

/**
 * Where the other bricks plug in. Each hook throws a LegoError to stop the service's deploy.
 * - `validate`: `DeploymentValidator` from @lego/discovery at the plan's level.
 * - `checkSecrets`: required secrets present in the target environment (@lego/secrets).
 * - `migrate`: pending D1 migrations, with a backup first, restored on failure (@lego/database).
 */
export interface DeployHooks {
  validate?(service: PlannedService, level: ValidationLevel): Promise<void>;
  checkSecrets?(service: PlannedService): Promise<{ missing: string[] }>;
  migrate?(service: PlannedService): Promise<MigrationOutcome | undefined>;
}

/** Progress, for the CLI's task list. */
export type DeployProgress =
  | {
      type: "step";
      service: string;
      step: StepName;
      status: "running" | "ok" | "failed" | "skipped";
      message?: string;
    }
  | {
      type: "service";
      service: string;
      status: "ok" | "failed" | "rolled-back" | "skipped" | "interrupted";
      url?: string;
      /** Why a service was skipped, e.g. "auth-service failed". */
      reason?: string;
      /** Why it failed, in one line. */
      message?: string;
    };

/** Everything `applyPlan` acts through. Apps assemble the real ones. */
export interface DeployContext {
  /** Portfolio root: `.lego/` state goes under it. */
  root: string;
  command: string;
  /** The target's kind (for reports) and how hostnames are reached: `https://{host}` on Cloudflare. */
  target: { kind: string; apiBaseUrl: string; workersUrlPattern: string };
  client: CloudflareClient;
  wrangler: WranglerRunner;
  /** The one audit writer (`AuditLog` of @lego/core; `DeploymentAuditor` is one). */
  auditor: AuditLog;
  journal: RunJournal;
  hooks?: DeployHooks;
  http?: HttpClient;
  clock?: Clock;
  logger?: Logger;
  redactor?: Redactor;
  signal?: AbortSignal;
  /** Secret values the production tests may use (`{{secret:NAME}}`); never logged. */
  secret?: (service: string, name: string) => Promise<string | undefined>;
  onProgress?: (event: DeployProgress) => void;
}

/** Thrown inside a step to fail it with a message for the report. */
class StepFailed extends Error {}

/** The URL a hostname answers on for this target. */
export function urlForHostname(pattern: string, hostname: string): string {
  const url = pattern.replace("{host}", hostname);
  return url.endsWith("/") ? url : `${url}/`;
}

function hostnameOfTarget(target: string): string | undefined {
  // wrangler targets look like "staging-api.example.com (custom domain)", "example.com/api/*", "https://x.y.workers.dev".
  const first = target.split(" ")[0] ?? "";
  const host = first.replace(/^https?:\/\//, "").split("/")[0] ?? "";
  return host && !host.includes("*") ? host : undefined;
}

/**
 * Applies a plan: for each service in order, validate, check secrets, record the rollback point, run
 * migrations, deploy with wrangler, wait until the new version answers, run the production tests, and
 * roll back when it fails. Writes the journal, audit events and the run report as it goes. A failed
 * service stops the run (services after it are skipped: they may depend on it).
 *
 * Returns the report; `ok: false` when any service failed.
 */
export async function applyPlan(plan: DeploymentPlan, ctx: DeployContext): Promise<RunReport> {
  const clock = ctx.clock ?? systemClock;
  const started = clock.now();
  const logger = ctx.logger ?? createNullLogger();
  const who = await ctx.auditor.record({
    runId: ctx.journal.runId,
    action: "run.started",
    target: ctx.target.kind,
    details: {
      command: ctx.command,
      environment: plan.environment,
      services: plan.services.map((s) => s.service),
    },
  });
  await ctx.journal.append("run.started", {
    command: ctx.command,
    environment: plan.environment,
    services: plan.services.map((s) => s.service),
  });
  const reports: ServiceRunReport[] = [];
  let failed = false;
  for (const service of plan.services) {
    if (failed) {
      reports.push({
        service: service.service,
        environment: service.environment,
        scriptName: service.scriptName,
        ok: false,
        status: "skipped",
        skipReason: "an earlier service failed",
        steps: [],
        error: { code: "ERR_SKIPPED", message: "skipped: an earlier service failed" },
      });
      ctx.onProgress?.({ type: "service", service: service.service, status: "skipped" });
      continue;
    }
    const report = await deployOne(plan, service, ctx, logger, clock);
    reports.push(report);
    if (!report.ok) failed = true;
  }
  // Ctrl-C stops the run where it is; the journal, audit log and report still say how far it got.
  const interrupted = reports.find((r) => r.error?.exitCode === ExitCode.Interrupted);
  const finished = clock.now();
  const run: RunReport = {
    runId: ctx.journal.runId,
    command: ctx.command,
    target: { kind: ctx.target.kind, apiBaseUrl: ctx.target.apiBaseUrl },
    who: who.who,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    ok: !failed,
    services: reports,
  };
  await ctx.journal.append("run.finished", {
    ok: run.ok,
    durationMs: run.durationMs,
    ...(interrupted ? { interrupted: true } : {}),
  });
  await ctx.auditor.record({
    runId: run.runId,
    action: "run.finished",
    target: ctx.target.kind,
    result: interrupted ? "interrupted" : run.ok ? "ok" : "failed",
    durationMs: run.durationMs,
  });
  await writeRunReport(ctx.root, run, ctx.redactor);
  if (interrupted) {
    throw new InterruptedError(
      `Interrupted while deploying ${interrupted.service} (${interrupted.environment}); the run's report is in .lego/runs/${run.runId}/`,
    );
  }
  return run;
}

/**
 * One service's pipeline: validate, check secrets, record the rollback point, migrate, deploy with
 * wrangler (reconciled with the API when wrangler fails), wait until the new version answers, run the
 * production tests, and roll back when it fails. Never throws for the service's own failure: the
 * returned report says what happened (`ok`, `status`, `error`). The run around it (lock, journal,
 * audit of the run, report files) belongs to the caller: `@lego/orchestration`'s run engine.
 */
export function deployService(
  plan: DeploymentPlan,
  service: PlannedService,
  ctx: DeployContext,
): Promise<ServiceRunReport> {
  return deployOne(plan, service, ctx, ctx.logger ?? createNullLogger(), ctx.clock ?? systemClock);
}

async function deployOne(
  plan: DeploymentPlan,
  service: PlannedService,
  ctx: DeployContext,
  logger: Logger,
  clock: Clock,
): Promise<ServiceRunReport> {
  const serviceStarted = clock.now();
  const { steps, step } = createStepRecorder({
    service: service.service,
    journal: ctx.journal,
    clock,
    onProgress: ctx.onProgress,
  });
  const out: ServiceRunReport = {
    service: service.service,
    environment: service.environment,
    scriptName: service.scriptName,
    ok: false,
    steps,
  };
  const rollbacks = new RollbackManager({
    client: ctx.client,
    wrangler: ctx.wrangler,
    root: ctx.root,
    http: ctx.http,
    clock: ctx.clock,
    logger,
    signal: ctx.signal,
    verifyTimeoutMs: plan.options.liveTimeoutMs,
  });
  const audit = (action: string, extra: Record<string, unknown> = {}) =>
    ctx.auditor.record({
      runId: ctx.journal.runId,
      action,
      target: ctx.target.kind,
      service: service.service,
      environment: service.environment,
      ...extra,
    });

  await audit("deploy.started");
  let point: RollbackPoint | undefined;
  let migration: MigrationOutcome | undefined;
  let deployed = false;
  // The live deployment is read while validation and the secrets check run (all three only read);
  // the rollback-point step then takes the answer. Its outcome is kept, never thrown, until then.
  const pointRead = rollbacks.createRollbackPoint(service.scriptName).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  try {
    if (service.steps.includes("validate") && ctx.hooks?.validate) {
      await step("validate", async () => {
        await ctx.hooks?.validate?.(service, plan.options.validation);
        return { value: undefined, message: `${plan.options.validation} checks passed` };
      });
    }
    if (service.steps.includes("secrets") && ctx.hooks?.checkSecrets) {
      await step("secrets", async () => {
        const { missing } = (await ctx.hooks?.checkSecrets?.(service)) ?? { missing: [] };
        if (missing.length > 0) {
          throw new UsageError({
            code: "ERR_SECRETS_MISSING",
            message: `${service.service} (${service.environment}) is missing required secrets: ${missing.join(", ")}`,
            hint: `Set them with \`lego secrets push ${service.service} --env ${service.environment}\` (or \`lego secrets generate\` first).`,
            details: { missing },
          });
        }
        return { value: undefined, message: `${service.secretsRequired.length} required secrets present` };
      });
    }
    point = await step("rollback-point", async () => {
      const read = await pointRead;
      if (!read.ok) throw read.error;
      const p = read.value;
      return {
        value: p,
        message: p
          ? `live: ${p.versions.map((v) => `${v.versionId}@${v.percentage}%`).join(", ")}`
          : "first deploy: nothing to roll back to",
      };
    });
    out.versionBefore = point?.versions[0]?.versionId ?? null;
    if (service.steps.includes("build") && service.steps.includes("migrate") && ctx.hooks?.migrate) {
      await step("build", async () => {
        const built = await ctx.wrangler.build({
          cwd: service.path,
          env: service.wranglerEnv,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        return {
          value: built,
          message: `${(built.bytes / 1024).toFixed(1)} KiB in ${built.files.length} files`,
        };
      });
    }
    if (service.steps.includes("migrate") && ctx.hooks?.migrate) {
      migration = await step("migrate", async () => {
        const m = await ctx.hooks?.migrate?.(service);
        return {
          value: m,
          message: m && m.applied.length > 0 ? `applied ${m.applied.join(", ")}` : "no pending migrations",
        };
      });
    }
    const strategy = plan.options.strategy;
    if (strategy?.kind === "canary" && point && point.versions.length > 0 && service.primaryHostname) {
      // Tests before any traffic, then traffic step by step (canary.ts); it restores the old version itself.
      out.url = urlForHostname(ctx.target.workersUrlPattern, service.primaryHostname);
      await deployCanary({
        plan,
        service,
        ctx,
        options: strategy,
        clock,
        point,
        out,
        step,
        audit,
        url: out.url,
      });
      out.ok = true;
      out.status = "ok";
      ctx.onProgress?.({ type: "service", service: service.service, status: "ok", url: out.url });
      await audit("deploy.finished", {
        result: "ok",
        versionBefore: out.versionBefore,
        versionAfter: out.versionAfter,
        durationMs: clock.now() - serviceStarted,
        details: { url: out.url, strategy: out.canary?.strategy, liveVersion: out.liveVersion },
      });
      return out;
    }
    const before = new Set(point?.versions.map((v) => v.versionId) ?? []);
    // What the pipeline needs of a deploy: the version (as wrangler said, or as read back) and targets.
    type Deployed = { versionId: string | undefined; targets: string[] };
    // wrangler failed after the new version went live (its routes or domains not all applied).
    let failedAfterLive: LegoError | undefined;
    const result = await step<Deployed>("deploy", async () => {
      let r: Deployed;
      try {
        r = await ctx.wrangler.deploy({
          cwd: service.path,
          env: service.wranglerEnv,
          message: `lego run ${ctx.journal.runId}`,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
      } catch (error) {
        // The cloud is the record: wrangler may have failed after the new version went live (a
        // later call of its own failed: a route, a custom domain). Then the new version is deployed,
        // but not as configured: the service fails and is rolled back (below).
        if (isLegoError(error) && error.exitCode === ExitCode.Interrupted) throw error;
        const live = await readLiveVersion(rollbacks, service.scriptName);
        if (live && !before.has(live)) {
          const failure = toLegoError(error);
          failedAfterLive = new LegoError({
            code: failure.code,
            message: `The new version ${live} went live, but wrangler failed after: ${failure.message}`,
            ...(failure.hint ? { hint: failure.hint } : {}),
            kind: failure.kind,
            exitCode: failure.exitCode,
            ...(failure.details ? { details: failure.details } : {}),
          });
          return {
            value: { versionId: live, targets: [] },
            message: `wrangler failed (${toLegoError(error).message.split("\n")[0]}), but the API shows the new version ${live} live: rolling it back`,
          };
        }
        throw error;
      }
      if (!r.versionId) {
        // wrangler's output named no version: read it back rather than report one not seen.
        const live = await readLiveVersion(rollbacks, service.scriptName);
        if (live && !before.has(live)) r = { ...r, versionId: live };
      }
      return {
        value: r,
        message: `version ${r.versionId ?? "unknown"}${r.targets.length ? ` → ${r.targets.join(", ")}` : ""}`,
      };
    });
    deployed = true;
    out.versionAfter = result.versionId ?? null;
    // What the config asked for is not all applied: roll back to the previous version now.
    if (failedAfterLive) throw failedAfterLive;
    const host = service.primaryHostname ?? result.targets.map(hostnameOfTarget).find((h) => h !== undefined);
    const url = host ? urlForHostname(ctx.target.workersUrlPattern, host) : undefined;
    if (url) out.url = url;
    if (!url) throw new StepFailed("the deploy reported no hostname or workers.dev URL to test");
    await step("wait-live", async () => {
      const live = await waitUntilLive({
        baseUrl: url,
        health: service.tests.health,
        expectVersion: result.versionId,
        timeoutMs: plan.options.liveTimeoutMs,
        http: ctx.http,
        clock: ctx.clock,
        signal: ctx.signal,
        // A 5xx while the API deploys only the new version is the new version failing: fail fast.
        servesOnlyExpectedVersion: async () => {
          const point = await rollbacks.createRollbackPoint(service.scriptName);
          return point?.versions.length === 1 && point.versions[0]?.versionId === result.versionId;
        },
      });
      return {
        value: live,
        message: `answered after ${live.attempts} attempt${live.attempts === 1 ? "" : "s"} (${Math.round(live.elapsedMs)} ms)`,
      };
    });
    if (service.steps.includes("tests")) {
      const tester = new ProductionTester({
        http: ctx.http,
        clock: ctx.clock,
        signal: ctx.signal,
        secret: (name) => ctx.secret?.(service.service, name) ?? Promise.resolve(undefined),
      });
      out.tests = await step("tests", async () => {
        const report = await tester.runProductionTests(url, service.tests);
        if (!report.ok) {
          out.tests = report;
          const failedChecks = report.checks.filter((c) => !c.ok);
          throw new StepFailed(
            `${failedChecks.length} of ${report.checks.length} checks failed: ${failedChecks.map((c) => c.message).join("; ")}`,
          );
        }
        return { value: report, message: `${report.checks.length} checks passed` };
      });
    }
    out.ok = true;
    out.status = "ok";
    // wait-live saw this version answer with its own id: what the cloud serves.
    out.liveVersion = out.versionAfter ?? null;
    ctx.onProgress?.({ type: "service", service: service.service, status: "ok", url });
    await audit("deploy.finished", {
      result: "ok",
      versionBefore: out.versionBefore,
      versionAfter: out.versionAfter,
      durationMs: clock.now() - serviceStarted,
      details: { url },
    });
    return out;
  } catch (error) {
    if (isLegoError(error) && error.exitCode === ExitCode.Interrupted) {
      // No rollback or restore on Ctrl-C: the user stopped the run; the report says where it stood.
      const at = steps.at(-1)?.name;
      out.error = {
        code: error.code,
        message: `interrupted${at ? ` during ${at}` : ""}`,
        exitCode: ExitCode.Interrupted,
        hint: deployed
          ? `The new version ${out.versionAfter ?? ""} may be live untested: run lego test ${service.service} --env ${service.environment}, or lego rollback.`
          : "Nothing was deployed for this service.",
      };
      out.status = "interrupted";
      ctx.onProgress?.({ type: "service", service: service.service, status: "interrupted" });
      await audit("deploy.finished", {
        result: "interrupted",
        versionBefore: out.versionBefore ?? null,
        versionAfter: out.versionAfter ?? null,
        durationMs: clock.now() - serviceStarted,
      });
      return out;
    }
    const lego = error instanceof StepFailed ? undefined : toLegoError(error);
    out.error = lego
      ? {
          code: lego.code,
          message: lego.message,
          exitCode: lego.exitCode,
          ...(lego.hint ? { hint: lego.hint } : {}),
          ...(typeof lego.details?.stderrTail === "string" ? { stderrTail: lego.details.stderrTail } : {}),
        }
      : {
          code: "ERR_DEPLOY_FAILED",
          message: (error as Error).message,
          hint: "The new version did not pass its checks.",
        };
    // A canary that moved traffic put the old version back itself (out.rolledBack).
    let result: "failed" | "rolled-back" = out.rolledBack ? "rolled-back" : "failed";
    // What answers once this service is done: the new version, unless rolled back (or never deployed).
    let liveVersion = deployed ? (out.versionAfter ?? null) : (out.versionBefore ?? null);
    if (deployed && plan.options.rollback && point?.versions[0]) {
      const to = point.versions[0].versionId;
      try {
        await step("rollback", async () => {
          const r = await rollbacks.rollback(rollbackScopeOf(service, out.url), {
            to,
            message: `lego run ${ctx.journal.runId}: automatic rollback`,
          });
          return { value: r, message: `back to ${to}${r.verified ? ", answering again" : ""}` };
        });
        out.rolledBack = true;
        result = "rolled-back";
        liveVersion = to;
      } catch (rollbackError) {
        logger.error(`rollback of ${service.service} failed: ${(rollbackError as Error).message}`);
      }
    } else if (deployed && plan.options.rollback && !point) {
      out.error.hint =
        `${out.error.hint ?? ""} This was the first deploy of ${service.scriptName}: there was no earlier version to roll back to.`.trim();
    }
    // Whatever failed after the migrations applied (the wrangler deploy, the wait, the tests), the
    // database is put back only when asked: by default migrations are expected to be backward compatible.
    const restore = migration?.restore;
    if (plan.options.restoreDb && restore && migration && migration.applied.length > 0) {
      const applied = migration.applied.join(", ");
      try {
        await step("restore-db", async () => {
          await restore();
          return { value: undefined, message: `database back to its backup from before ${applied}` };
        });
        out.databaseRestored = true;
      } catch (restoreError) {
        logger.error(
          `restoring the database of ${service.service} failed: ${(restoreError as Error).message}`,
        );
      }
    }
    out.status = result;
    // The cloud is the record: what serves now is read back, not inferred from what lego did.
    if (deployed || point) {
      const read = await readLiveVersion(rollbacks, service.scriptName);
      if (read) liveVersion = read;
    }
    out.liveVersion = liveVersion;
    ctx.onProgress?.({
      type: "service",
      service: service.service,
      status: result,
      message: out.error.message.split("\n")[0] ?? "",
      ...(out.url ? { url: out.url } : {}),
    });
    await audit("deploy.finished", {
      result,
      versionBefore: out.versionBefore ?? null,
      versionAfter: out.versionAfter ?? null,
      durationMs: clock.now() - serviceStarted,
      details: {
        error: out.error.code,
        rolledBack: out.rolledBack === true,
        liveVersion,
        ...(out.databaseRestored ? { databaseRestored: true } : {}),
      },
    });
    return out;
  }
}

/**
 * Puts a service that this run deployed back on its rollback point because another service failed
 * (the run's `--on-failure` policy), then proves it: the old version answers (wait-live) and passes
 * the production tests. The steps are added to `report`; `status` becomes `reverted` (or `failed`
 * when it could not be done), and `versionAfter` is what the API says serves afterwards.
 */
export async function revertService(
  plan: DeploymentPlan,
  service: PlannedService,
  report: ServiceRunReport,
  ctx: DeployContext,
  reason: string,
): Promise<void> {
  const clock = ctx.clock ?? systemClock;
  const to = report.versionBefore;
  const { steps, step } = createStepRecorder({
    service: service.service,
    journal: ctx.journal,
    clock,
    onProgress: ctx.onProgress,
  });
  const rollbacks = new RollbackManager({
    client: ctx.client,
    wrangler: ctx.wrangler,
    root: ctx.root,
    http: ctx.http,
    clock: ctx.clock,
    logger: ctx.logger,
    signal: ctx.signal,
    verifyTimeoutMs: plan.options.liveTimeoutMs,
  });
  const started = clock.now();
  const from = report.versionAfter ?? null;
  let error: unknown;
  try {
    if (!to) {
      throw new LegoError({
        code: "ERR_ROLLBACK_NO_PREVIOUS",
        message: `${service.scriptName} had no version before this run: there is nothing to put back`,
        hint: "Delete the Worker by hand if it must not serve, or redeploy once the failure is fixed.",
        exitCode: ExitCode.Failure,
      });
    }
    await step("rollback", async () => {
      const r = await rollbacks.rollback(rollbackScopeOf(service, report.url), {
        to,
        message: `lego run ${ctx.journal.runId}: automatic rollback (${reason})`,
      });
      return { value: r, message: `back to ${to} (${reason})${r.verified ? ", answering again" : ""}` };
    });
    if (plan.options.tests && report.url) {
      const url = report.url;
      const tester = new ProductionTester({
        http: ctx.http,
        clock: ctx.clock,
        signal: ctx.signal,
        secret: (name) => ctx.secret?.(service.service, name) ?? Promise.resolve(undefined),
      });
      await step("tests", async () => {
        const tests = await tester.runProductionTests(url, service.tests);
        if (!tests.ok) {
          const bad = tests.checks.filter((c) => !c.ok);
          throw new StepFailed(
            `the version put back fails ${bad.length} of ${tests.checks.length} checks: ${bad.map((c) => c.message).join("; ")}`,
          );
        }
        return { value: tests, message: `${tests.checks.length} checks passed on ${to}` };
      });
    }
  } catch (e) {
    error = e;
  }
  report.steps.push(...steps);
  const live = await readLiveVersion(rollbacks, service.scriptName);
  report.liveVersion = live ?? null;
  report.ok = false;
  if (error === undefined) {
    report.status = "reverted";
    report.error = {
      code: "ERR_REVERTED",
      message: `put back on ${to}: ${reason}`,
    };
  } else {
    report.status = "failed";
    const e = error instanceof StepFailed ? undefined : toLegoError(error);
    report.error = {
      code: e?.code ?? "ERR_REVERT_FAILED",
      message: `could not put ${service.service} back on ${to ?? "an earlier version"} (${reason}): ${(error as Error).message}`,
      ...(e?.hint ? { hint: e.hint } : {}),
    };
  }
  ctx.onProgress?.({
    type: "service",
    service: service.service,
    status: error === undefined ? "rolled-back" : "failed",
    ...(report.url ? { url: report.url } : {}),
  });
  await ctx.auditor.record({
    runId: ctx.journal.runId,
    action: "rollback.finished",
    target: ctx.target.kind,
    service: service.service,
    environment: service.environment,
    versionBefore: from,
    versionAfter: report.liveVersion ?? null,
    result: error === undefined ? "ok" : "failed",
    durationMs: clock.now() - started,
    details: { reason, policy: true, liveVersion: report.liveVersion ?? null },
  });
}

/** Turns a failed run into the error the CLI exits with (1, or the first service's own code, e.g. 2 for missing secrets). */
export function runFailure(
  report: RunReport,
  reportDir: string,
  details: Record<string, unknown> = {},
): LegoError | undefined {
  if (report.ok) return undefined;
  const bad =
    report.services.find(
      (s) => !s.ok && s.error && s.error.code !== "ERR_SKIPPED" && s.error.code !== "ERR_REVERTED",
    ) ?? report.services.find((s) => !s.ok && s.error && s.error.code !== "ERR_SKIPPED");
  const what = bad
    ? `${bad.service} (${bad.environment}): ${bad.error?.message}${bad.rolledBack ? ` — rolled back to ${bad.versionBefore}, which answers again` : ""}`
    : "a service failed";
  const count = (st: string) => report.services.filter((x) => serviceStatus(x) === st).map((x) => x.service);
  const failedOthers = [...count("failed"), ...count("rolled-back")].filter((n) => n !== bad?.service);
  const tail = [
    failedOthers.length > 0 ? `also failed: ${failedOthers.join(", ")}` : "",
    count("skipped").length > 0 ? `skipped: ${count("skipped").join(", ")}` : "",
    count("reverted").length > 0 ? `put back: ${count("reverted").join(", ")}` : "",
    report.services.length > 1 && count("ok").length > 0 ? `live: ${count("ok").join(", ")}` : "",
  ].filter(Boolean);
  const exitCode =
    bad?.error?.exitCode === ExitCode.Usage ||
    bad?.error?.exitCode === ExitCode.Auth ||
    bad?.error?.exitCode === ExitCode.Conflict
      ? bad.error.exitCode
      : ExitCode.Failure;
  return new LegoError({
    code: "ERR_DEPLOY_FAILED",
    message: `Deploy failed: ${what}${tail.length > 0 ? ` (${tail.join("; ")})` : ""}`,
    hint: `${bad?.error?.hint ? `${bad.error.hint} ` : ""}Report: ${reportDir}/report.html`,
    exitCode,
    kind: exitCode === ExitCode.Failure ? "system" : "user",
    details: { runId: report.runId, failedService: bad?.service, cause: bad?.error?.code, ...details },
  });
}

/** Where a planned service lives, as a rollback needs it. */
function rollbackScopeOf(service: PlannedService, url: string | undefined): RollbackScope {
  return {
    service: service.service,
    environment: service.environment,
    scriptName: service.scriptName,
    path: service.path,
    wranglerEnv: service.wranglerEnv,
    url,
    health: service.tests.health,
  };
}

/** The version serving 100% (or the most) of a script's traffic, read from the API; undefined if unreadable. */
async function readLiveVersion(rollbacks: RollbackManager, scriptName: string): Promise<string | undefined> {
  try {
    const point = await rollbacks.createRollbackPoint(scriptName);
    return [...(point?.versions ?? [])].sort((a, b) => b.percentage - a.percentage)[0]?.versionId;
  } catch {
    return undefined;
  }
}
