import type { Cloud } from "@lego/cloudflare";
import { type Redactor, resolveLegoHome, UsageError } from "@lego/core";
import { type DeployOptions, defaultDeployOptions, type RunReport } from "@lego/deployment";
import type { Portfolio, ValidationReport } from "@lego/discovery";
import {
  deployServices,
  type FailurePolicy,
  type OrchestrationContext,
  planPortfolioDeploy,
} from "./deploy.ts";

/** What the seed's classes share: where the portfolio is and what they act on. */
export interface PortfolioTargetOptions {
  /** Portfolio root. Default: the current folder. */
  root?: string | undefined;
  /** The target's client and runner (`openCloud` of @lego/cloudflare). Default: resolved as the CLI does. */
  cloud?: Cloud | undefined;
  /** Anything else the run needs (logger, progress, signal, …). */
  context?: Omit<OrchestrationContext, "cloud"> | undefined;
}

/** Live state of one service, read from the API. */
export interface ServiceStatus {
  service: string;
  scriptName: string;
  /** The versions serving and their traffic share; empty when never deployed. */
  versions: Array<{ versionId: string; percentage: number }>;
}

class PortfolioTarget {
  readonly #options: PortfolioTargetOptions;
  #portfolio: Promise<Portfolio> | undefined;
  #cloud: Promise<{ cloud: Cloud; owned: boolean }> | undefined;

  constructor(options: PortfolioTargetOptions) {
    this.#options = options;
  }

  portfolio(): Promise<Portfolio> {
    this.#portfolio ??= import("@lego/discovery").then(({ scanPortfolio }) =>
      scanPortfolio({ root: this.#options.root ?? process.cwd() }),
    );
    return this.#portfolio;
  }

  cloud(): Promise<{ cloud: Cloud; owned: boolean }> {
    this.#cloud ??= (async () => {
      if (this.#options.cloud) return { cloud: this.#options.cloud, owned: false };
      const [{ openCloud, resolveTarget }, { readEnv }] = await Promise.all([
        import("@lego/cloudflare"),
        import("@lego/core"),
      ]);
      const env = readEnv(process.env);
      const legoHome = resolveLegoHome(env);
      const target = await resolveTarget({
        env,
        legoHome,
        ensureLocal: () => {
          throw new UsageError({
            code: "ERR_ORCHESTRATION_NO_TARGET",
            message: "No Cloudflare token is set and the local cloud is not running",
            hint: "Set CLOUDFLARE_API_TOKEN, or start the local cloud with `lego local up`.",
          });
        },
      });
      const cloud = openCloud({
        target,
        cwd: this.#options.root ?? process.cwd(),
        baseEnv: process.env,
        stateDir: `${legoHome}/wrangler`,
      });
      return { cloud, owned: true };
    })();
    return this.#cloud;
  }

  context(cloud: Cloud): OrchestrationContext {
    return { ...this.#options.context, cloud };
  }

  async dispose(): Promise<void> {
    if (!this.#cloud) return;
    const { cloud, owned } = await this.#cloud;
    if (owned) await cloud.dispose();
    this.#cloud = undefined;
  }

  async names(domains: readonly string[] | undefined): Promise<string[]> {
    const portfolio = await this.portfolio();
    if (!domains || domains.length === 0) return portfolio.services.map((s) => s.name);
    const { resolveService } = await import("@lego/discovery");
    return domains.map((d) => {
      try {
        return resolveService(portfolio, d).service.name;
      } catch (error) {
        throw new UsageError({
          code: "ERR_ORCHESTRATION_UNKNOWN_SERVICE",
          message: `"${d}" is not a service of ${portfolio.root}`,
          hint: `Services: ${portfolio.services.map((s) => s.name).join(", ")}.`,
          cause: error,
        });
      }
    });
  }

  async validate(names: string[], environment: string, level: DeployOptions["validation"]) {
    const [portfolio, { cloud }, { DeploymentValidator }] = await Promise.all([
      this.portfolio(),
      this.cloud(),
      import("@lego/discovery"),
    ]);
    const validator = new DeploymentValidator({ client: cloud.client, wrangler: cloud.wrangler });
    return validator.validateDeployment({ portfolio, services: names, environment, level });
  }

  async status(names: string[], environment: string): Promise<ServiceStatus[]> {
    const [portfolio, { cloud }] = await Promise.all([this.portfolio(), this.cloud()]);
    const { plan } = planPortfolioDeploy(portfolio, names, { ...defaultDeployOptions, environment });
    return Promise.all(
      plan.services.map(async (s) => {
        let versions: ServiceStatus["versions"] = [];
        try {
          const [live] = await cloud.client.listDeployments(s.scriptName);
          versions = (live?.versions ?? []).map((v) => ({
            versionId: v.version_id,
            percentage: v.percentage,
          }));
        } catch (error) {
          if ((error as { code?: string }).code !== "ERR_CF_NOT_FOUND") throw error;
        }
        return { service: s.service, scriptName: s.scriptName, versions };
      }),
    );
  }
}

/** Options of the seed's `MultiDomainOrchestrator`. */
export interface MultiDomainOrchestratorOptions extends PortfolioTargetOptions {
  /** Services (names, hostnames or script names). Default: the whole portfolio. */
  domains?: readonly string[] | undefined;
  /** Default `production`. */
  environment?: string | undefined;
  /** How many deploy at once (the run engine's concurrency). Default: chosen for the target. */
  parallelDeployments?: number | undefined;
  /** Anything else of `lego deploy` (tests, rollback, validation, live timeout). */
  deploy?: Partial<Omit<DeployOptions, "environment">> | undefined;
  redactor?: Redactor | undefined;
}

/**
 * The seed's `MultiDomainOrchestrator`: deploys several services of a portfolio in dependency order,
 * `parallelDeployments` at once, through the run engine (locks, journal, audit, report).
 *
 * @example
 * const orchestrator = new MultiDomainOrchestrator({ domains: ["api", "auth", "data"], environment: "staging", parallelDeployments: 3 });
 * const report = await orchestrator.deploy();      // the run's report: report.ok, report.services
 * await orchestrator.status();                     // what serves, read from the API
 */
export class MultiDomainOrchestrator {
  readonly domains: readonly string[];
  readonly environment: string;
  readonly parallelDeployments: number | undefined;
  readonly #options: MultiDomainOrchestratorOptions;
  readonly #target: PortfolioTarget;

  constructor(options: MultiDomainOrchestratorOptions = {}) {
    this.#options = options;
    this.domains = options.domains ?? [];
    this.environment = options.environment ?? "production";
    this.parallelDeployments = options.parallelDeployments;
    this.#target = new PortfolioTarget(options);
  }

  /** Deploys the services; resolves with the run's report (`ok: false` when any failed). */
  async deploy(options: { onFailure?: FailurePolicy; failFast?: boolean } = {}): Promise<RunReport> {
    const [portfolio, names, { cloud }] = await Promise.all([
      this.#target.portfolio(),
      this.#target.names(this.domains),
      this.#target.cloud(),
    ]);
    return deployServices(
      {
        portfolio,
        services: names,
        deploy: { ...defaultDeployOptions, ...this.#options.deploy, environment: this.environment },
        concurrency: this.parallelDeployments,
        onFailure: options.onFailure,
        failFast: options.failFast,
        command: `MultiDomainOrchestrator.deploy ${names.join(" ")} --env ${this.environment}`,
      },
      this.#target.context(cloud),
    );
  }

  /** Validates the services (the deploy's checks, nothing changed). */
  async validate(level: DeployOptions["validation"] = "standard"): Promise<ValidationReport> {
    return this.#target.validate(await this.#target.names(this.domains), this.environment, level);
  }

  /** What serves for each service, read from the API. */
  async status(): Promise<ServiceStatus[]> {
    return this.#target.status(await this.#target.names(this.domains), this.environment);
  }

  /** The waves the services deploy in: each depends only on earlier ones. */
  async plan(): Promise<string[][]> {
    const portfolio = await this.#target.portfolio();
    const names = await this.#target.names(this.domains);
    return planPortfolioDeploy(portfolio, names, { ...defaultDeployOptions, environment: this.environment })
      .waves;
  }

  /** Stops the wrangler runner it made (not one it was given). */
  dispose(): Promise<void> {
    return this.#target.dispose();
  }
}

/** Options of the seed's `CrossDomainCoordinator`. */
export interface CrossDomainCoordinatorOptions extends PortfolioTargetOptions {
  portfolioName?: string | undefined;
  /** How many deploy at once. Default: chosen for the target. */
  maxConcurrentDeployments?: number | undefined;
  /** Deploy in dependency order (default true); false treats every service as independent. */
  enableDependencyResolution?: boolean | undefined;
  /** What happens to the others when one fails. Default `isolate`. */
  onFailure?: FailurePolicy | undefined;
}

/**
 * The seed's `CrossDomainCoordinator`: a whole portfolio's release, with a coordination policy for
 * failures (`isolate`, `rollback-dependencies`, `rollback-all`).
 *
 * @example
 * const coordinator = new CrossDomainCoordinator({ portfolioName: "enterprise-suite", maxConcurrentDeployments: 5, enableDependencyResolution: true });
 * const report = await coordinator.deployPortfolio({ environment: "staging", onFailure: "rollback-all" });
 */
export class CrossDomainCoordinator {
  readonly portfolioName: string | undefined;
  readonly maxConcurrentDeployments: number | undefined;
  readonly enableDependencyResolution: boolean;
  readonly #options: CrossDomainCoordinatorOptions;
  readonly #target: PortfolioTarget;

  constructor(options: CrossDomainCoordinatorOptions = {}) {
    this.#options = options;
    this.portfolioName = options.portfolioName;
    this.maxConcurrentDeployments = options.maxConcurrentDeployments;
    this.enableDependencyResolution = options.enableDependencyResolution ?? true;
    this.#target = new PortfolioTarget(options);
  }

  /** Deploys the portfolio (or `services`) to `environment`; resolves with the run's report. */
  async deployPortfolio(
    options: {
      environment?: string;
      services?: readonly string[];
      onFailure?: FailurePolicy;
      deploy?: Partial<Omit<DeployOptions, "environment">>;
    } = {},
  ): Promise<RunReport> {
    const environment = options.environment ?? "production";
    const [portfolio, names, { cloud }] = await Promise.all([
      this.#target.portfolio(),
      this.#target.names(options.services),
      this.#target.cloud(),
    ]);
    return deployServices(
      {
        portfolio,
        services: names,
        deploy: { ...defaultDeployOptions, ...options.deploy, environment },
        concurrency: this.maxConcurrentDeployments,
        onFailure: options.onFailure ?? this.#options.onFailure,
        ignoreDependencies: !this.enableDependencyResolution,
        command: `CrossDomainCoordinator.deployPortfolio${this.portfolioName ? ` ${this.portfolioName}` : ""} --env ${environment}`,
      },
      this.#target.context(cloud),
    );
  }

  /** Validates every service (or `services`) for `environment`. */
  async validate(environment = "production", services?: readonly string[]): Promise<ValidationReport> {
    return this.#target.validate(await this.#target.names(services), environment, "standard");
  }

  /** What serves for each service, read from the API. */
  async status(environment = "production", services?: readonly string[]): Promise<ServiceStatus[]> {
    return this.#target.status(await this.#target.names(services), environment);
  }

  dispose(): Promise<void> {
    return this.#target.dispose();
  }
}
