import { isLegoError, LegoError } from "@lego/core";
import type { Portfolio, PortfolioService } from "@lego/discovery";
import { type DatabaseContext, type ResolvedContext, resolveContext } from "./context.ts";
import {
  assertNoDrift,
  confirmChange,
  type MigrateOptions,
  migrateService,
  type ServiceMigrateResult,
} from "./migrate.ts";
import type { D1Target } from "./ports.ts";
import { type DatabaseStatus, readDatabaseStatus } from "./status.ts";
import { d1TargetsOf, environmentsWithDatabases } from "./targets.ts";

/** The services to act on, in dependency order (dependencies first). */
export function inDependencyOrder(
  portfolio: Pick<Portfolio, "graph" | "services">,
  services?: readonly PortfolioService[],
) {
  const chosen = services ?? portfolio.services;
  const rank = new Map(portfolio.graph.order.map((name, i) => [name, i]));
  return [...chosen].sort(
    (a, b) =>
      (rank.get(a.name) ?? Number.MAX_SAFE_INTEGER) - (rank.get(b.name) ?? Number.MAX_SAFE_INTEGER) ||
      a.name.localeCompare(b.name),
  );
}

/** Status of many databases, with totals. */
export interface PortfolioStatus {
  /** One entry per service, environment and database, services in dependency order. */
  databases: DatabaseStatus[];
  summary: {
    databases: number;
    /** Pending migrations, all databases together. */
    pending: number;
    /** Databases with drift. */
    drifted: number;
    /** Databases that do not exist in the target yet. */
    missing: number;
  };
}

/**
 * Reads the migration status of every D1 database of the given services (default: all), in every
 * environment (or just `env`). Read-only: takes no lock and changes nothing.
 */
export async function portfolioStatus(
  portfolio: Pick<Portfolio, "root" | "graph" | "services">,
  context: DatabaseContext | ResolvedContext,
  options: { services?: readonly PortfolioService[] | undefined; env?: string | undefined } = {},
): Promise<PortfolioStatus> {
  const ctx = resolveContext(context);
  const databases: DatabaseStatus[] = [];
  for (const service of inDependencyOrder(portfolio, options.services)) {
    const envs = options.env !== undefined ? [options.env] : environmentsWithDatabases(service);
    for (const env of envs) {
      // With every service and one environment, a service without that environment is not an error.
      if (!service.environments[env] && options.services === undefined) continue;
      for (const target of d1TargetsOf(portfolio, service, env))
        databases.push(await readDatabaseStatus(ctx, target));
    }
  }
  return {
    databases,
    summary: {
      databases: databases.length,
      pending: databases.reduce((n, d) => n + d.pending.length, 0),
      drifted: databases.filter((d) => d.drift.length > 0).length,
      missing: databases.filter((d) => !d.exists).length,
    },
  };
}

/** What a portfolio sync did. */
export interface SyncResult {
  env: string;
  outcome: "applied" | "up-to-date" | "planned";
  /** One entry per service with a database in `env`, in dependency order. */
  services: ServiceMigrateResult[];
}

/**
 * Applies every service's pending migrations in one environment, in dependency order (the seed's
 * `lego-db sync --portfolio`). Reads every status first: drift anywhere stops the sync before any
 * change (exit 4). Asks once for a protected environment. Stops at the first failure, with the failed
 * service's databases restored (see {@link migrateService}); services migrated before it keep their
 * migrations. The error carries `details.completed` and `details.notStarted`.
 */
export async function syncPortfolio(
  portfolio: Pick<Portfolio, "root" | "graph" | "services">,
  env: string,
  context: DatabaseContext | ResolvedContext,
  options: MigrateOptions & { services?: readonly PortfolioService[] | undefined } = {},
): Promise<SyncResult> {
  const ctx = resolveContext(context);
  const plan: Array<{ service: PortfolioService; targets: D1Target[]; statuses: DatabaseStatus[] }> = [];
  for (const service of inDependencyOrder(portfolio, options.services)) {
    if (!service.environments[env]) continue;
    const targets = d1TargetsOf(portfolio, service, env);
    if (targets.length === 0) continue;
    const statuses: DatabaseStatus[] = [];
    for (const t of targets) statuses.push(await readDatabaseStatus(ctx, t));
    plan.push({ service, targets, statuses });
  }
  const all = plan.flatMap((p) => p.statuses);
  if (!options.acceptDrift) assertNoDrift(all);
  const pending = all.reduce((n, s) => n + s.pending.length, 0);
  const changing = plan.filter((p) =>
    p.statuses.some((s) => s.pending.length > 0 || (options.acceptDrift && s.drift.length > 0)),
  );
  if (changing.length > 0 && !options.dryRun)
    await confirmChange(
      ctx,
      env,
      `Apply ${pending} migration${pending === 1 ? "" : "s"} to ${changing.length} service${changing.length === 1 ? "" : "s"} in ${env} (${changing.map((p) => p.service.name).join(", ")})?`,
      options.yes,
    );
  if (changing.length > 0 && !options.dryRun)
    await ctx.emit("db.sync.started", { env, services: changing.map((p) => p.service.name), pending });
  const results: ServiceMigrateResult[] = [];
  for (const [i, p] of plan.entries()) {
    try {
      results.push(await migrateService(p.targets, ctx, { ...options, yes: true, statuses: p.statuses }));
    } catch (error) {
      const notStarted = plan.slice(i + 1).map((q) => q.service.name);
      const completed = results.map((r) => r.service);
      await ctx.emit("db.sync.failed", { env, failed: p.service.name, completed, notStarted });
      // One service asked for (`lego db migrate <service>`): its own error says it all.
      if (!isLegoError(error) || plan.length === 1) throw error;
      throw new LegoError({
        code: error.code,
        exitCode: error.exitCode,
        message: `Sync of ${env} stopped at ${p.service.name}: ${error.message}${notStarted.length ? ` Not started: ${notStarted.join(", ")}.` : ""}`,
        ...(error.hint ? { hint: error.hint } : {}),
        kind: error.kind,
        cause: error,
        details: { ...error.details, completed, notStarted, results },
      });
    }
  }
  const outcome =
    options.dryRun && changing.length > 0
      ? "planned"
      : results.some((r) => r.outcome === "applied")
        ? "applied"
        : "up-to-date";
  if (outcome === "applied")
    await ctx.emit("db.sync.completed", {
      env,
      services: results.filter((r) => r.outcome === "applied").map((r) => r.service),
    });
  return { env, outcome, services: results };
}
