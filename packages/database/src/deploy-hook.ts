import type { Portfolio, PortfolioService } from "@lego/discovery";
import type { BackupEntry } from "./backup.ts";
import { findBackup } from "./backup.ts";
import { type DatabaseContext, type ResolvedContext, resolveContext } from "./context.ts";
import { migrateService } from "./migrate.ts";
import { restoreBackup } from "./restore.ts";
import { d1TargetsOf } from "./targets.ts";

/**
 * What the deploy pipeline gets back (the shape `@lego/deployment` calls `MigrationOutcome`): the
 * migrations applied, the backups taken, and how to put the databases back.
 */
export interface DeployMigrationOutcome {
  applied: string[];
  /** Ids of the `pre-deploy` backups, one per migrated database. */
  backups: string[];
  /**
   * Restores every migrated database from its pre-deploy backup (after a safety backup of what the new
   * Worker wrote). The pipeline calls it only when the Worker fails after the migration *and* the user
   * asked for `--restore-db`; by default the migrated database is kept.
   */
  restore?: () => Promise<void>;
}

/** Options of {@link migrateBeforeDeploy}. */
export interface MigrateBeforeDeployOptions {
  /** The deploy's own confirmation covers the migration. Default true. */
  yes?: boolean | undefined;
  acceptDrift?: boolean | undefined;
  keep?: number | undefined;
  /** Refuse pending migrations that drop or rename (see `MigrateOptions.refuseBreaking`): set during a canary deploy without `--force`. */
  refuseBreaking?: string | undefined;
}

/**
 * The deploy pipeline's migrate step, run before the Worker deploy: applies the service's pending
 * migrations with a `pre-deploy` backup first. A migration failure throws (`ERR_MIGRATION_FAILED`,
 * exit 1) after the database was restored, so the Worker is not deployed. Takes no lock: the deploy
 * run (the run engine of @lego/orchestration) holds the service's lock.
 *
 * Policy: a Worker that fails after a successful migration is rolled back and the migrated database is
 * kept (migrations are expected to be backward compatible), unless `--restore-db`, in which case the
 * pipeline calls `restore()`.
 */
export async function migrateBeforeDeploy(
  portfolio: Pick<Portfolio, "root" | "services">,
  service: PortfolioService | string,
  env: string,
  context: DatabaseContext | ResolvedContext,
  options: MigrateBeforeDeployOptions = {},
): Promise<DeployMigrationOutcome> {
  const ctx = resolveContext(context);
  const svc = typeof service === "string" ? portfolio.services.find((s) => s.name === service) : service;
  if (!svc) return { applied: [], backups: [] };
  const targets = d1TargetsOf(portfolio, svc, env);
  if (targets.length === 0) return { applied: [], backups: [] };
  const result = await migrateService(targets, ctx, {
    yes: options.yes ?? true,
    acceptDrift: options.acceptDrift,
    keep: options.keep,
    backupReason: "pre-deploy",
    refuseBreaking: options.refuseBreaking,
  });
  const migrated = result.databases.filter((d) => d.outcome === "applied" && d.backup);
  const applied = migrated.flatMap((d) => d.pending);
  const backups = migrated.map((d) => d.backup as string);
  if (migrated.length === 0) return { applied, backups };
  return {
    applied,
    backups,
    async restore() {
      for (const d of [...migrated].reverse()) {
        const target = targets.find((t) => t.binding === d.binding)!;
        const backup: BackupEntry = await findBackup(ctx.root, {
          service: target.service,
          env: target.env,
          binding: target.binding,
          from: d.backup as string,
        });
        await restoreBackup(target, backup, ctx, { safetyBackup: true, reason: "worker-failed" });
      }
    },
  };
}

/**
 * A ready-made `migrate` hook for `@lego/deployment`'s `applyPlan`: `hooks.migrate = createDeployMigrationHook(...)`.
 *
 * @example
 * const migrate = createDeployMigrationHook(portfolio, { root, api, wrangler, journal });
 * await applyPlan(plan, { ...deployContext, hooks: { migrate } });
 */
export function createDeployMigrationHook(
  portfolio: Pick<Portfolio, "root" | "services">,
  context: DatabaseContext | ResolvedContext,
  options: MigrateBeforeDeployOptions = {},
): (planned: { service: string; environment: string }) => Promise<DeployMigrationOutcome> {
  const ctx = resolveContext(context);
  return (planned) => migrateBeforeDeploy(portfolio, planned.service, planned.environment, ctx, options);
}
