import type { CloudflareClient, Deployment, WranglerRunner } from "@lego/cloudflare";
import {
  type AuditLog,
  type Clock,
  createNullLogger,
  isLegoError,
  type Logger,
  OperationError,
  type Redactor,
  type RunJournal,
  readEnv,
  resolveLegoHome,
  systemClock,
  toLegoError,
  UsageError,
} from "@lego/core";
import type { ProductionTests } from "@lego/runtime";
import type { DeployProgress } from "./apply.ts";
import type { HttpClient } from "./http.ts";
import { listRuns, type RunReport, readRunReport, type ServiceRunReport, writeRunReport } from "./report.ts";
import { createStepRecorder } from "./steps.ts";
import { waitUntilLive } from "./tester.ts";

/** The deployment that was live before a run: what a rollback returns to. */
export interface RollbackPoint {
  scriptName: string;
  capturedAt: string;
  deploymentId?: string | undefined;
  /** The live versions and their traffic share (one at 100% for a plain deploy). */
  versions: Array<{ versionId: string; percentage: number }>;
}

/** Where a service lives, as rollback needs it. */
export interface RollbackScope {
  service: string;
  environment: string;
  scriptName: string;
  /** Service folder (wrangler's cwd) and `--env` value. */
  path: string;
  wranglerEnv: string;
  /** Base URL to verify the rolled-back version on; skipped when absent. */
  url?: string | undefined;
  health?: ProductionTests["health"] | undefined;
}

export interface RollbackManagerOptions {
  client: CloudflareClient;
  wrangler: WranglerRunner;
  /** Portfolio root, to resolve `--to <run-id>` from run reports. */
  root: string;
  http?: HttpClient | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
  /** How long to wait for the old version to answer again. Default 30 s. */
  verifyTimeoutMs?: number | undefined;
}

export interface RollbackResult {
  service: string;
  environment: string;
  scriptName: string;
  from: string | undefined;
  to: string;
  verified: boolean;
}

const VERSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Records what is live before a deploy and returns to it: through `wrangler rollback`, then proves
 * the old version answers.
 *
 * @example
 * const rollbacks = new RollbackManager({ client, wrangler, root });
 * const point = await rollbacks.createRollbackPoint("api-staging");
 * await rollbacks.rollback(scope, { to: point?.versions[0]?.versionId });
 */
export class RollbackManager {
  readonly #o: Omit<RollbackManagerOptions, "client" | "wrangler"> & Partial<RollbackManagerOptions>;
  readonly #logger: Logger;
  #cloud: Promise<{ client: CloudflareClient; wrangler: WranglerRunner }> | undefined;

  /**
   * With no options (the seed's `new RollbackManager()`): the portfolio is the current folder and the
   * client and wrangler are built on first use for the target `process.env` selects (as lego does:
   * CLOUDFLARE_API_TOKEN, the vault, else the local cloud).
   */
  constructor(options: Partial<RollbackManagerOptions> = {}) {
    this.#o = { ...options, root: options.root ?? process.cwd() };
    this.#logger = options.logger ?? createNullLogger();
  }

  /** The client and wrangler given, or the default target's (built once). */
  async #ports(): Promise<{ client: CloudflareClient; wrangler: WranglerRunner }> {
    const { client, wrangler } = this.#o;
    if (client && wrangler) return { client, wrangler };
    this.#cloud ??= (async () => {
      const cf = await import("@lego/cloudflare");
      const env = readEnv(process.env);
      const target = await cf.resolveTarget({ env, legoHome: resolveLegoHome(env) });
      const cloud = cf.openCloud({ target, cwd: this.#o.root, logger: this.#logger, baseEnv: process.env });
      return { client: client ?? cloud.client, wrangler: wrangler ?? cloud.wrangler };
    })();
    return this.#cloud;
  }

  /** Reads the live deployment of a script; `undefined` when the Worker has never been deployed. */
  async createRollbackPoint(scriptName: string): Promise<RollbackPoint | undefined> {
    const signal = this.#o.signal;
    let deployments: Awaited<ReturnType<CloudflareClient["listDeployments"]>>;
    try {
      deployments = await (await this.#ports()).client.listDeployments(
        scriptName,
        signal ? { signal } : undefined,
      );
    } catch (error) {
      if (isLegoError(error) && error.code === "ERR_CF_NOT_FOUND") return undefined;
      throw error;
    }
    const live = deployments[0];
    if (!live) return undefined;
    if (await this.#onlyPlaceholders(scriptName, live.versions ?? [])) {
      this.#logger.info(
        `${scriptName}: only wrangler's secrets placeholder is live (never served): nothing to roll back to`,
      );
      return undefined;
    }
    return {
      scriptName,
      capturedAt: new Date((this.#o.clock ?? systemClock).now()).toISOString(),
      deploymentId: live.id,
      versions: (live.versions ?? []).map((v) => ({ versionId: v.version_id, percentage: v.percentage })),
    };
  }

  /**
   * Whether every version of a deployment is the placeholder `wrangler secret put|bulk` uploads for a
   * Worker that does not exist yet (`export default { fetch() {} }`, 500 on every request). wrangler
   * uploads it without a compatibility date, which no real deploy lacks (wrangler refuses to deploy
   * without one): such a version never served and is no rollback point. A version that cannot be read
   * counts as real.
   */
  async #onlyPlaceholders(
    scriptName: string,
    versions: ReadonlyArray<{ version_id: string }>,
  ): Promise<boolean> {
    if (versions.length === 0) return false;
    const signal = this.#o.signal;
    const checks = await Promise.all(
      versions.map(async (v) => {
        try {
          const version = await (await this.#ports()).client.getVersion(
            scriptName,
            v.version_id,
            signal ? { signal } : undefined,
          );
          return isPlaceholderVersion(version);
        } catch {
          return false;
        }
      }),
    );
    return checks.every(Boolean);
  }

  /**
   * The version to return to: `to` as a version id, or as a run id (the version that run replaced),
   * or by default the newest earlier deployment whose version was never rolled back from (see
   * {@link rejectedVersions}): after an automatic rollback, the broken version is not "previous".
   * Its errors carry `details.from`, the live version.
   */
  async resolveTarget(scope: RollbackScope, to?: string): Promise<{ from: string | undefined; to: string }> {
    const signal = this.#o.signal;
    const deployments = await (await this.#ports()).client.listDeployments(
      scope.scriptName,
      signal ? { signal } : undefined,
    );
    const from = deployments[0]?.versions?.[0]?.version_id;
    if (to && VERSION_ID.test(to)) return { from, to };
    if (to) {
      const report = await readRunReport(this.#o.root, to);
      const entry = report?.services.find(
        (s) => s.service === scope.service && s.environment === scope.environment,
      );
      if (!report || !entry) {
        throw new UsageError({
          code: "ERR_ROLLBACK_TARGET",
          message: `"${to}" is neither a version id nor a run that deployed ${scope.service} (${scope.environment})`,
          hint: "Pass a version id (`wrangler versions list`) or a run id (`lego runs list`).",
          details: { from },
        });
      }
      if (!entry.versionBefore) {
        throw new UsageError({
          code: "ERR_ROLLBACK_TARGET",
          message: `Run ${to} was the first deploy of ${scope.service} (${scope.environment}): there is nothing before it`,
          hint: "Pick another run or a version id.",
          details: { from },
        });
      }
      return { from, to: entry.versionBefore };
    }
    const live = new Set((deployments[0]?.versions ?? []).map((v) => v.version_id));
    const rejected = rejectedVersions(deployments, await listRuns(this.#o.root), scope);
    const candidates = deployments
      .slice(1)
      .map((d) => d.versions?.[0]?.version_id)
      .filter((id): id is string => id !== undefined && !live.has(id) && !rejected.has(id));
    let previous: string | undefined;
    // wrangler's secrets placeholder (never served) is no version to go back to.
    for (const id of new Set(candidates))
      if (!(await this.#onlyPlaceholders(scope.scriptName, [{ version_id: id }]))) {
        previous = id;
        break;
      }
    if (!previous) {
      const skipped = [...rejected].filter((id) => !live.has(id));
      throw new UsageError({
        code: "ERR_ROLLBACK_NO_PREVIOUS",
        message:
          skipped.length > 0
            ? `${scope.scriptName} has no earlier good deployment to roll back to (${skipped.join(", ")} ${skipped.length === 1 ? "was" : "were"} rolled back from; ${from ?? "nothing"} is live)`
            : `${scope.scriptName} has no earlier deployment to roll back to`,
        hint:
          skipped.length > 0
            ? "Nothing was changed. To go back to one of them anyway, pass --to <version-id>."
            : "Deploy a second version first, or pass --to <version-id>.",
        details: { from, rejected: skipped },
      });
    }
    return { from, to: previous };
  }

  /** Rolls back to `to` (see {@link resolveTarget}) and verifies the old version answers. */
  async rollback(
    scope: RollbackScope,
    options: { to?: string | undefined; message?: string | undefined } = {},
  ): Promise<RollbackResult> {
    const { from, to } = await this.resolveTarget(scope, options.to);
    await this.activate(scope, to, options.message ?? `lego rollback to ${to}`);
    const verified = await this.verify(scope, to);
    return {
      service: scope.service,
      environment: scope.environment,
      scriptName: scope.scriptName,
      from,
      to,
      verified,
    };
  }

  /** `wrangler rollback <versionId>`: makes one version take all the traffic. */
  async activate(scope: RollbackScope, versionId: string, message: string): Promise<void> {
    this.#logger.info(`rolling back ${scope.scriptName} to ${versionId}`);
    await (await this.#ports()).wrangler.rollback({
      cwd: scope.path,
      env: scope.wranglerEnv,
      versionId,
      message,
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
    });
  }

  /**
   * Waits until the scope's URL answers as `versionId`; `false` when the scope has no URL to check.
   * Throws `ERR_ROLLBACK_UNVERIFIED` when it does not answer in time.
   */
  async verify(scope: RollbackScope, versionId: string): Promise<boolean> {
    if (!scope.url) return false;
    try {
      await waitUntilLive({
        baseUrl: scope.url,
        health: scope.health,
        expectVersion: versionId,
        timeoutMs: this.#o.verifyTimeoutMs ?? 30_000,
        http: this.#o.http,
        clock: this.#o.clock,
        signal: this.#o.signal,
      });
      return true;
    } catch (error) {
      throw new OperationError({
        code: "ERR_ROLLBACK_UNVERIFIED",
        message: `Rolled ${scope.scriptName} back to ${versionId}, but it does not answer as that version: ${(error as Error).message}`,
        hint: "Check the Worker in the dashboard (or `lego local status`); the rollback itself was accepted.",
        cause: error,
      });
    }
  }
}

/** Messages lego puts on the deployments its rollbacks create (`wrangler rollback --message`). */
const LEGO_ROLLBACK_MESSAGE = /^lego (rollback\b|run \S+: automatic rollback)/;

/** Whether a deployment was a rollback: Cloudflare (and the local cloud) annotate it, lego names it. */
export function isRollbackDeployment(deployment: Deployment): boolean {
  const annotations = deployment.annotations;
  return (
    annotations?.["workers/triggered_by"] === "rollback" ||
    LEGO_ROLLBACK_MESSAGE.test(annotations?.["workers/message"] ?? "")
  );
}

/**
 * The versions someone rolled back from: bad, so never a default rollback target. Read from the
 * deployments (newest first: a rollback deployment rejects the versions of the one it replaced) and
 * from the run reports (a deploy that was rolled back rejects the version it deployed; a rollback run
 * rejects the version it replaced), so either source alone is enough.
 *
 * @example
 * rejectedVersions(await client.listDeployments("api-staging"), await listRuns(root), scope);
 */
export function rejectedVersions(
  deployments: readonly Deployment[],
  reports: readonly RunReport[],
  scope: Pick<RollbackScope, "service" | "environment">,
): Set<string> {
  const rejected = new Set<string>();
  deployments.forEach((deployment, i) => {
    const replaced = deployments[i + 1];
    if (!replaced || !isRollbackDeployment(deployment)) return;
    const kept = new Set((deployment.versions ?? []).map((v) => v.version_id));
    for (const v of replaced.versions ?? []) if (!kept.has(v.version_id)) rejected.add(v.version_id);
  });
  for (const report of reports) {
    for (const s of report.services) {
      if (s.service !== scope.service || s.environment !== scope.environment) continue;
      if (report.kind === "rollback") {
        if (s.ok && s.versionBefore && s.versionBefore !== s.versionAfter) rejected.add(s.versionBefore);
      } else if (s.rolledBack && s.versionAfter && s.versionAfter !== s.versionBefore) {
        rejected.add(s.versionAfter);
      }
    }
  }
  return rejected;
}

/** Everything {@link runRollback} acts through. Apps assemble the real ones. */
export interface RollbackRunContext {
  /** Portfolio root: `.lego/` state goes under it. */
  root: string;
  /** How the run is listed, e.g. `rollback api --env staging`. */
  command: string;
  target: { kind: string; apiBaseUrl?: string | undefined };
  client: CloudflareClient;
  wrangler: WranglerRunner;
  /** The one audit writer (`AuditLog` of @lego/core; `DeploymentAuditor` is one). */
  auditor: AuditLog;
  journal: RunJournal;
  http?: HttpClient | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  redactor?: Redactor | undefined;
  signal?: AbortSignal | undefined;
  verifyTimeoutMs?: number | undefined;
  onProgress?: ((event: DeployProgress) => void) | undefined;
}

/** What {@link runRollback} returns: the rollback, and where its report went. */
export interface RollbackRun extends RollbackResult {
  runId: string;
  url: string | undefined;
  report: RunReport;
  reportDir: string;
}

/** What {@link rollbackScope} did: the service's report entry, and the failure if it failed (not thrown). */
export interface ScopedRollback {
  service: ServiceRunReport;
  failure?: unknown;
  from: string | undefined;
  to: string | undefined;
  verified: boolean;
  startedAt: number;
  finishedAt: number;
}

/**
 * One service's rollback inside a run: resolves the target, rolls back, verifies; records the steps in
 * the journal and `rollback.finished` in the audit log (versions before and after, also on failure).
 * The run around it (lock, report files) is the caller's: `@lego/orchestration`'s `rollbackServices`.
 */
export async function rollbackScope(
  scope: RollbackScope,
  options: { to?: string | undefined },
  ctx: RollbackRunContext,
): Promise<ScopedRollback> {
  const clock = ctx.clock ?? systemClock;
  const runId = ctx.journal.runId;
  const started = clock.now();
  const manager = new RollbackManager({
    client: ctx.client,
    wrangler: ctx.wrangler,
    root: ctx.root,
    http: ctx.http,
    clock,
    logger: ctx.logger,
    signal: ctx.signal,
    verifyTimeoutMs: ctx.verifyTimeoutMs,
  });
  const { steps, step } = createStepRecorder({
    service: scope.service,
    journal: ctx.journal,
    clock,
    onProgress: ctx.onProgress,
  });

  await ctx.journal.append("rollback.started", {
    service: scope.service,
    environment: scope.environment,
    to: options.to,
  });
  let from: string | undefined;
  let to: string | undefined;
  let activated = false;
  let verified = false;
  let failure: unknown;
  try {
    ({ from, to } = await step("rollback-point", async () => {
      try {
        const target = await manager.resolveTarget(scope, options.to);
        return { value: target, message: `live: ${target.from ?? "none"}; back to ${target.to}` };
      } catch (error) {
        const live = isLegoError(error) ? error.details?.from : undefined;
        if (typeof live === "string") from = live;
        throw error;
      }
    }));
    const target = to;
    await step("rollback", async () => {
      await manager.activate(scope, target, `lego rollback (run ${runId})`);
      activated = true;
      return { value: undefined, message: `${from ?? "none"} → ${target}` };
    });
    if (scope.url) {
      verified = await step("wait-live", async () => ({
        value: await manager.verify(scope, target),
        message: `${target} answers on ${scope.url}`,
      }));
    }
  } catch (error) {
    failure = error;
  }

  const ok = failure === undefined;
  // What is live afterwards, as far as lego knows: the target once wrangler accepted it.
  const versionAfter = activated ? to : from;
  const finished = clock.now();
  const error = failure === undefined ? undefined : toLegoError(failure);
  const service: ServiceRunReport = {
    service: scope.service,
    environment: scope.environment,
    scriptName: scope.scriptName,
    ok,
    versionBefore: from ?? null,
    versionAfter: versionAfter ?? null,
    ...(scope.url ? { url: scope.url } : {}),
    steps,
    ...(error
      ? {
          error: {
            code: error.code,
            message: error.message,
            exitCode: error.exitCode,
            ...(error.hint ? { hint: error.hint } : {}),
          },
        }
      : {}),
  };
  await ctx.journal.append("rollback.finished", {
    ok,
    from,
    to,
    ...(error ? { error: error.message, code: error.code } : {}),
  });
  await ctx.auditor.record({
    runId,
    action: "rollback.finished",
    target: ctx.target.kind,
    service: scope.service,
    environment: scope.environment,
    versionBefore: from ?? null,
    versionAfter: versionAfter ?? null,
    result: ok ? "ok" : "failed",
    durationMs: finished - started,
    details: {
      ...(to ? { to } : {}),
      ...(ok ? { verified } : { error: error?.code }),
    },
  });
  ctx.onProgress?.({ type: "service", service: scope.service, status: ok ? "ok" : "failed" });
  return {
    service,
    ...(failure !== undefined ? { failure } : {}),
    from,
    to,
    verified,
    startedAt: started,
    finishedAt: finished,
  };
}

/**
 * `lego rollback` as a standalone run (for library users without @lego/orchestration): {@link
 * rollbackScope}, then `.lego/runs/<run-id>/report.{json,md,html}`. A failure is recorded, then
 * rethrown unchanged.
 *
 * @example
 * const run = await runRollback(scope, { to: args.to }, { root, command, target, client, wrangler, auditor, journal });
 */
export async function runRollback(
  scope: RollbackScope,
  options: { to?: string | undefined },
  ctx: RollbackRunContext,
): Promise<RollbackRun> {
  const runId = ctx.journal.runId;
  const done = await rollbackScope(scope, options, ctx);
  const report: RunReport = {
    runId,
    kind: "rollback",
    command: ctx.command,
    target: {
      kind: ctx.target.kind,
      ...(ctx.target.apiBaseUrl ? { apiBaseUrl: ctx.target.apiBaseUrl } : {}),
    },
    who: await ctx.auditor.who(),
    startedAt: new Date(done.startedAt).toISOString(),
    finishedAt: new Date(done.finishedAt).toISOString(),
    durationMs: done.finishedAt - done.startedAt,
    ok: done.failure === undefined,
    services: [done.service],
  };
  const reportDir = await writeRunReport(ctx.root, report, ctx.redactor);
  if (done.failure !== undefined) throw done.failure;
  return {
    service: scope.service,
    environment: scope.environment,
    scriptName: scope.scriptName,
    from: done.from,
    to: done.to as string,
    verified: done.verified,
    runId,
    url: scope.url,
    report,
    reportDir,
  };
}

/**
 * A version `wrangler secret put|bulk` made as a placeholder for a Worker that did not exist: no
 * compatibility date (see {@link RollbackManager.createRollbackPoint}).
 */
export function isPlaceholderVersion(version: object): boolean {
  const runtime = (version as { resources?: { script_runtime?: { compatibility_date?: unknown } } }).resources
    ?.script_runtime;
  if (!runtime) return false;
  return typeof runtime.compatibility_date !== "string" || runtime.compatibility_date === "";
}
