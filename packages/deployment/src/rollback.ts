import type { CloudflareClient, WranglerRunner } from "@lego/cloudflare";
import {
  type Clock,
  createNullLogger,
  isLegoError,
  type Logger,
  OperationError,
  systemClock,
  UsageError,
} from "@lego/core";
import type { ProductionTests } from "@lego/runtime";
import type { HttpClient } from "./http.ts";
import { readRunReport } from "./report.ts";
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
  readonly #o: RollbackManagerOptions;
  readonly #logger: Logger;

  constructor(options: RollbackManagerOptions) {
    this.#o = options;
    this.#logger = options.logger ?? createNullLogger();
  }

  /** Reads the live deployment of a script; `undefined` when the Worker has never been deployed. */
  async createRollbackPoint(scriptName: string): Promise<RollbackPoint | undefined> {
    const signal = this.#o.signal;
    let deployments: Awaited<ReturnType<CloudflareClient["listDeployments"]>>;
    try {
      deployments = await this.#o.client.listDeployments(scriptName, signal ? { signal } : undefined);
    } catch (error) {
      if (isLegoError(error) && error.code === "ERR_CF_NOT_FOUND") return undefined;
      throw error;
    }
    const live = deployments[0];
    if (!live) return undefined;
    return {
      scriptName,
      capturedAt: new Date((this.#o.clock ?? systemClock).now()).toISOString(),
      deploymentId: live.id,
      versions: (live.versions ?? []).map((v) => ({ versionId: v.version_id, percentage: v.percentage })),
    };
  }

  /**
   * The version to return to: `to` as a version id, or as a run id (the version that run replaced),
   * or by default the deployment before the live one.
   */
  async resolveTarget(scope: RollbackScope, to?: string): Promise<{ from: string | undefined; to: string }> {
    const deployments = await this.#o.client.listDeployments(scope.scriptName);
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
        });
      }
      if (!entry.versionBefore) {
        throw new UsageError({
          code: "ERR_ROLLBACK_TARGET",
          message: `Run ${to} was the first deploy of ${scope.service} (${scope.environment}): there is nothing before it`,
          hint: "Pick another run or a version id.",
        });
      }
      return { from, to: entry.versionBefore };
    }
    const previous = deployments
      .slice(1)
      .find((d) => d.versions?.[0]?.version_id && d.versions[0].version_id !== from);
    const target = previous?.versions?.[0]?.version_id;
    if (!target) {
      throw new UsageError({
        code: "ERR_ROLLBACK_NO_PREVIOUS",
        message: `${scope.scriptName} has no earlier deployment to roll back to`,
        hint: "Deploy a second version first, or pass --to <version-id>.",
      });
    }
    return { from, to: target };
  }

  /** Rolls back to `to` (see {@link resolveTarget}) and verifies the old version answers. */
  async rollback(
    scope: RollbackScope,
    options: { to?: string | undefined; message?: string | undefined } = {},
  ): Promise<RollbackResult> {
    const { from, to } = await this.resolveTarget(scope, options.to);
    this.#logger.info(`rolling back ${scope.scriptName} from ${from ?? "none"} to ${to}`);
    await this.#o.wrangler.rollback({
      cwd: scope.path,
      env: scope.wranglerEnv,
      versionId: to,
      message: options.message ?? `lego rollback to ${to}`,
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
    });
    let verified = false;
    if (scope.url) {
      try {
        await waitUntilLive({
          baseUrl: scope.url,
          health: scope.health,
          expectVersion: to,
          timeoutMs: this.#o.verifyTimeoutMs ?? 30_000,
          http: this.#o.http,
          clock: this.#o.clock,
          signal: this.#o.signal,
        });
        verified = true;
      } catch (error) {
        throw new OperationError({
          code: "ERR_ROLLBACK_UNVERIFIED",
          message: `Rolled ${scope.scriptName} back to ${to}, but it does not answer as that version: ${(error as Error).message}`,
          hint: "Check the Worker in the dashboard (or `lego local status`); the rollback itself was accepted.",
          cause: error,
        });
      }
    }
    return {
      service: scope.service,
      environment: scope.environment,
      scriptName: scope.scriptName,
      from,
      to,
      verified,
    };
  }
}
