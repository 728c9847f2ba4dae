import { resolve } from "node:path";
import type { Target } from "@lego/cloudflare";
import {
  type Clock,
  type Logger,
  type Prompter,
  type RunJournal,
  readEnv,
  resolveLegoHome,
  UsageError,
} from "@lego/core";
import type { Portfolio, PortfolioService } from "@lego/discovery";
import type { AuditSink } from "./audit.ts";
import {
  type BackupEntry,
  backupTimestamp,
  createBackup,
  findBackup,
  listBackups,
  pruneBackups,
} from "./backup.ts";
import { fromCloudflare } from "./cloudflare-adapter.ts";
import { type DatabaseContext, resolveContext } from "./context.ts";
import { confirmChange } from "./migrate.ts";
import {
  inDependencyOrder,
  type PortfolioStatus,
  portfolioStatus,
  type SyncResult,
  syncPortfolio,
} from "./portfolio.ts";
import type { D1ApiPort, D1WranglerPort } from "./ports.ts";
import { type RestoreResult, restoreBackup } from "./restore.ts";
import { type DatabaseRunOptions, withDatabaseRun } from "./run.ts";
import { d1TargetsOf, environmentsWithDatabases } from "./targets.ts";

/** Options of {@link DatabaseOrchestrator}: the seed's two, plus the ports Lego passes explicitly. */
export interface DatabaseOrchestratorOptions {
  /** The portfolio root (the seed's `projectRoot`). Default `.`. */
  projectRoot?: string | undefined;
  /** Plan only: report what would be applied, take no backup, change nothing. */
  dryRun?: boolean | undefined;
  /** Confirm protected environments in advance (`--yes`); otherwise the prompter asks. */
  yes?: boolean | undefined;
  /** Record drifted files as applied instead of stopping with exit 4. */
  acceptDrift?: boolean | undefined;
  /** Retention: keep the newest N backups per database after each backup. */
  keep?: number | undefined;
  /** The scanned portfolio; default: `scanPortfolio({ root: projectRoot })` from @lego/discovery. */
  portfolio?: Portfolio | undefined;
  /** The D1 ports; default: built from @lego/cloudflare for the resolved target. */
  api?: D1ApiPort | undefined;
  wrangler?: D1WranglerPort | undefined;
  /** The target to build the default ports for; default: `resolveTarget` from `environment`. */
  target?: Target | undefined;
  /** Where the default target's settings come from (read once, here). Default `process.env`. */
  environment?: Record<string, string | undefined> | undefined;
  logger?: Logger | undefined;
  prompter?: Prompter | undefined;
  clock?: Clock | undefined;
  audit?: AuditSink | undefined;
  signal?: AbortSignal | undefined;
  /** Lock handling for changing operations. */
  run?: DatabaseRunOptions | undefined;
  /**
   * The journal and id of a run the caller owns (`executeRun` of @lego/orchestration, which holds the
   * locks): changing operations write into it instead of starting runs of their own.
   */
  journal?: RunJournal | undefined;
  runId?: string | undefined;
}

/**
 * The seed's database manager, done properly: migrations per environment with a backup first and a
 * verified restore on failure, backups with checksums, restores, and status, for a whole portfolio.
 *
 * @example
 * const dbOrchestrator = new DatabaseOrchestrator({ projectRoot: "./", dryRun: false });
 * await dbOrchestrator.runMigrations("production"); // needs `yes: true` without a terminal
 * await dbOrchestrator.createBackup("production");
 */
export class DatabaseOrchestrator {
  readonly projectRoot: string;
  readonly dryRun: boolean;
  private readonly options: DatabaseOrchestratorOptions;
  private portfolioPromise: Promise<Portfolio> | undefined;
  private portsPromise:
    | Promise<{ api: D1ApiPort; wrangler: D1WranglerPort; target?: string; dispose?: () => Promise<void> }>
    | undefined;

  constructor(options: DatabaseOrchestratorOptions = {}) {
    this.options = options;
    this.projectRoot = resolve(options.projectRoot ?? ".");
    this.dryRun = options.dryRun ?? false;
    if (options.portfolio) this.portfolioPromise = Promise.resolve(options.portfolio);
  }

  /** The portfolio (scanned once). */
  portfolio(): Promise<Portfolio> {
    this.portfolioPromise ??= import("@lego/discovery").then(({ scanPortfolio }) =>
      scanPortfolio({ root: this.projectRoot, logger: this.options.logger, clock: this.options.clock }),
    );
    return this.portfolioPromise;
  }

  private ports() {
    this.portsPromise ??= (async () => {
      const { api, wrangler } = this.options;
      if (api && wrangler) return { api, wrangler, target: this.options.target?.kind };
      const cf = await import("@lego/cloudflare");
      let target = this.options.target;
      if (!target) {
        const env = readEnv(this.options.environment ?? process.env);
        target = await cf.resolveTarget({ env, legoHome: resolveLegoHome(env) });
      }
      // The one factory of a target's client and wrangler runner.
      const cloud = cf.openCloud({
        target,
        cwd: this.projectRoot,
        logger: this.options.logger,
        clock: this.options.clock,
        signal: this.options.signal,
        baseEnv: this.options.environment ?? process.env,
      });
      const { client, wrangler: runner } = cloud;
      const ports = fromCloudflare({ client, wrangler: runner });
      return {
        api: api ?? ports.api,
        wrangler: wrangler ?? ports.wrangler,
        target: target.kind,
        dispose: () => runner.dispose(),
      };
    })();
    return this.portsPromise;
  }

  private async context(): Promise<DatabaseContext> {
    const ports = await this.ports();
    return {
      root: (await this.portfolio()).root,
      api: ports.api,
      wrangler: ports.wrangler,
      target: ports.target,
      logger: this.options.logger,
      prompter: this.options.prompter,
      clock: this.options.clock,
      audit: this.options.audit,
      signal: this.options.signal,
      ...(this.options.journal ? { journal: this.options.journal } : {}),
      ...(this.options.runId ? { runId: this.options.runId } : {}),
    };
  }

  private async services(names?: string | readonly string[]): Promise<PortfolioService[] | undefined> {
    if (names === undefined) return undefined;
    const list = typeof names === "string" ? [names] : names;
    const portfolio = await this.portfolio();
    const { resolveService } = await import("@lego/discovery");
    return list.map((n) => resolveService(portfolio, n).service);
  }

  /** Pending and applied migrations of every database (or of some services, or one environment). */
  async status(
    options: { env?: string | undefined; service?: string | readonly string[] | undefined } = {},
  ): Promise<PortfolioStatus> {
    return portfolioStatus(await this.portfolio(), await this.context(), {
      services: await this.services(options.service),
      env: options.env,
    });
  }

  /**
   * Applies pending migrations in `env`, for every service (dependency order) or the ones named. Each
   * database is backed up first and restored if a migration fails (exit 1); drift stops it (exit 4).
   */
  async runMigrations(
    env: string,
    options: { service?: string | readonly string[] | undefined } = {},
  ): Promise<SyncResult> {
    const portfolio = await this.portfolio();
    const services = await this.services(options.service);
    const migrate = (ctx: DatabaseContext) =>
      syncPortfolio(portfolio, env, ctx, {
        services,
        yes: this.options.yes,
        dryRun: this.dryRun,
        acceptDrift: this.options.acceptDrift,
        keep: this.options.keep,
      });
    if (this.dryRun) return migrate(await this.context());
    return withDatabaseRun(await this.context(), `db migrate --env ${env}`, migrate, this.options.run);
  }

  /** Backs up every database in `env` (of every service, or the ones named). */
  async createBackup(
    env: string,
    options: { service?: string | readonly string[] | undefined; keep?: number | undefined } = {},
  ): Promise<BackupEntry[]> {
    const portfolio = await this.portfolio();
    const services = inDependencyOrder(
      portfolio,
      (await this.services(options.service)) ??
        portfolio.services.filter((s) => environmentsWithDatabases(s).includes(env)),
    );
    const targets = services.flatMap((s) => d1TargetsOf(portfolio, s, env));
    if (targets.length === 0)
      throw new UsageError({
        code: "ERR_DATABASE_NOT_CONFIGURED",
        message: `No D1 database to back up in ${env}${options.service ? ` for ${[options.service].flat().join(", ")}` : ""}`,
        hint: "Check the environment name and the services' d1_databases.",
      });
    if (this.dryRun) return [];
    return withDatabaseRun(
      await this.context(),
      `db backup --env ${env}`,
      async (ctx) => {
        const out: BackupEntry[] = [];
        const multi = new Set(
          services.filter((s) => d1TargetsOf(portfolio, s, env).length > 1).map((s) => s.name),
        );
        const stamp = backupTimestamp(ctx.clock.now());
        for (const t of targets)
          out.push(
            await createBackup(t, ctx, {
              reason: "manual",
              stem: multi.has(t.service) ? `${stamp}-${t.binding}` : stamp,
              keep: options.keep ?? this.options.keep,
            }),
          );
        return out;
      },
      this.options.run,
    );
  }

  /** Lists backups, newest first. */
  async listBackups(
    options: { service?: string | undefined; env?: string | undefined } = {},
  ): Promise<BackupEntry[]> {
    const service = options.service ? (await this.services(options.service))?.[0]?.name : undefined;
    return listBackups((await this.portfolio()).root, { service, env: options.env });
  }

  /** Deletes all but the newest `keep` backups of a service in an environment. */
  async pruneBackups(options: { service: string; env: string; keep: number }): Promise<BackupEntry[]> {
    const service = (await this.services(options.service))![0]!.name;
    return withDatabaseRun(
      await this.context(),
      `db prune ${service} --env ${options.env}`,
      (ctx) => pruneBackups(ctx, { service, env: options.env, keep: options.keep }),
      this.options.run,
    );
  }

  /**
   * Restores a service's databases in `env` from a backup (`from`: an id, a file name, a path or
   * `latest`), after a safety backup; every table's row count is verified. Asks first in production.
   */
  async restore(options: {
    service: string;
    env: string;
    from: string;
    binding?: string | undefined;
  }): Promise<RestoreResult[]> {
    const portfolio = await this.portfolio();
    const service = (await this.services(options.service))![0]!;
    const targets = d1TargetsOf(portfolio, service, options.env).filter(
      (t) => options.binding === undefined || t.binding === options.binding,
    );
    if (targets.length === 0)
      throw new UsageError({
        code: "ERR_DATABASE_NOT_CONFIGURED",
        message: `${service.name} has no D1 database${options.binding ? ` bound as ${options.binding}` : ""} in ${options.env}`,
        hint: "Check the service, the environment and --binding.",
      });
    const picks: Array<{ target: (typeof targets)[number]; backup: BackupEntry }> = [];
    for (const target of targets) {
      const backup = await findBackup(portfolio.root, {
        service: service.name,
        env: options.env,
        binding: target.binding,
        from: options.from,
      });
      picks.push({ target, backup });
    }
    if (this.dryRun) return [];
    return withDatabaseRun(
      await this.context(),
      `db restore ${service.name} --env ${options.env}`,
      async (ctx) => {
        const r = resolveContext(ctx);
        await confirmChange(
          r,
          options.env,
          `Replace the data of ${picks.map((p) => p.target.databaseName).join(", ")} (${service.name}, ${options.env}) with backup ${picks.map((p) => p.backup.id).join(", ")}?`,
          this.options.yes,
        );
        const out: RestoreResult[] = [];
        for (const p of picks) out.push(await restoreBackup(p.target, p.backup, r, { reason: "manual" }));
        return out;
      },
      this.options.run,
    );
  }

  /** Releases what the orchestrator created (the wrangler runner's temp folder). */
  async close(): Promise<void> {
    const ports = await this.portsPromise?.catch(() => undefined);
    await ports?.dispose?.();
  }
}
