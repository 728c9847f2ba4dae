import { UsageError } from "@lego/core";
import type { Portfolio, PortfolioService } from "@lego/discovery";
import { topologicalOrder } from "@lego/discovery";
import type { ProductionTests } from "@lego/runtime";
import type { DeployStrategy } from "./canary.ts";
import { defaultProductionTests } from "./tester.ts";

/** The validation levels of `DeploymentValidator`. */
export type ValidationLevel = "basic" | "standard" | "comprehensive";

/** A step of a service's pipeline, in the order they run. */
export type StepName =
  | "validate"
  | "secrets"
  | "rollback-point"
  | "build"
  | "migrate"
  | "deploy"
  | "wait-live"
  | "tests"
  | "rollback"
  | "restore-db"
  // The canary strategy's own steps (see canary.ts).
  | "upload"
  | "stage"
  | `traffic ${number}%`
  | `bake ${number}%`;

/** What the user asked for. */
export interface DeployOptions {
  environment: string;
  validation: ValidationLevel;
  /** Run production tests after the deploy (`--no-tests` turns off). */
  tests: boolean;
  /** Roll back when the new version does not answer or its tests fail (`--no-rollback` turns off). */
  rollback: boolean;
  /** Also restore the database when the Worker is rolled back after a migration (`--restore-db`). */
  restoreDb: boolean;
  /** How long to wait for the new version to answer. */
  liveTimeoutMs: number;
  /**
   * How the new version reaches its traffic: `immediate` (default: `wrangler deploy`, then tests) or
   * `canary` (tests before any traffic, then traffic step by step; see `deployCanary`).
   */
  strategy?: DeployStrategy | undefined;
  /** Apply pending migrations that drop or rename during a canary (refused otherwise: exit 2). */
  force?: boolean | undefined;
}

/** Defaults for {@link DeployOptions}. */
export const defaultDeployOptions: Omit<DeployOptions, "environment"> = {
  validation: "standard",
  tests: true,
  rollback: true,
  restoreDb: false,
  liveTimeoutMs: 30_000,
};

/** One service of a plan: everything the apply step needs, resolved from the portfolio. */
export interface PlannedService {
  service: string;
  environment: string;
  /** The value of wrangler's `--env` (`""` is the top level). */
  wranglerEnv: string;
  scriptName: string;
  /** Absolute path of the service folder (wrangler's cwd). */
  path: string;
  hostnames: string[];
  /** The wrangler routes and custom domains this environment deploys (what `--dry-run` compares). */
  routes: Array<{ pattern: string; customDomain: boolean; zoneName?: string; zoneId?: string }>;
  /** Its D1 and service bindings, by binding name (vars and secrets are compared elsewhere). */
  bindings: Array<{ name: string; type: "d1" | "service"; target: string; databaseId?: string }>;
  /** The hostname tests and the live check use; absent when the service is only on workers.dev. */
  primaryHostname?: string;
  workersDev: boolean;
  /** D1 database names bound in this environment (the migrate step applies what is pending, if anything). */
  databases: string[];
  secretsRequired: string[];
  tests: ProductionTests;
  steps: StepName[];
}

/** A whole deploy: services in dependency order. Data only: printed by `--dry-run`, applied by `applyPlan`. */
export interface DeploymentPlan {
  environment: string;
  options: DeployOptions;
  services: PlannedService[];
}

/**
 * Plans a deploy of `names` (all services when empty) to one environment: resolves each service's
 * environment, orders them so dependencies go first, and lists each one's steps. Pure: no I/O.
 *
 * @example
 * const plan = planDeployment(portfolio, ["api"], { ...defaultDeployOptions, environment: "staging" });
 */
export function planDeployment(
  portfolio: Portfolio,
  names: readonly string[],
  options: DeployOptions,
): DeploymentPlan {
  const byName = new Map(portfolio.services.map((s) => [s.name, s]));
  const selected = names.length === 0 ? portfolio.services.map((s) => s.name) : [...new Set(names)];
  for (const name of selected) {
    if (!byName.has(name)) {
      throw new UsageError({
        code: "ERR_DEPLOY_UNKNOWN_SERVICE",
        message: `No service named "${name}" in ${portfolio.root}`,
        hint: `Services: ${portfolio.services.map((s) => s.name).join(", ") || "none"}. Run \`lego list\`.`,
      });
    }
  }
  const order = topologicalOrder(portfolio.graph, selected);
  return {
    environment: options.environment,
    options,
    services: order.map((name) => planService(byName.get(name) as PortfolioService, options)),
  };
}

function planService(service: PortfolioService, options: DeployOptions): PlannedService {
  const env = service.environments[options.environment];
  if (!env) {
    throw new UsageError({
      code: "ERR_DEPLOY_UNKNOWN_ENVIRONMENT",
      message: `Service ${service.name} has no environment "${options.environment}": ${service.domainConfigFile ? `${service.domainConfigFile} has no ${service.name}.domains.${options.environment}` : `${service.wranglerConfigFile} has no env.${options.environment}`}`,
      hint: `Its environments: ${service.environmentNames.join(", ") || "none"}. Declare it in ${service.domainConfigFile ?? service.wranglerConfigFile}, or pass --env ${service.environmentNames[0] ?? "<environment>"}.`,
      details: {
        service: service.name,
        environment: options.environment,
        file: service.domainConfigFile ?? service.wranglerConfigFile,
        key: service.domainConfigFile
          ? `${service.name}.domains.${options.environment}`
          : `env.${options.environment}`,
      },
    });
  }
  if (env.wranglerEnv === undefined) {
    throw new UsageError({
      code: "ERR_DEPLOY_NO_WRANGLER_ENV",
      message: `${service.wranglerConfigFile} has no env.${options.environment} section for service ${service.name}`,
      hint: `Add "env": { "${options.environment}": { ... } } to ${service.wranglerConfigFile}, or run \`lego init\`.`,
    });
  }
  const databases = env.d1Databases.map((d) => d.databaseName);
  const steps: StepName[] = ["validate"];
  if (env.secretsRequired.length > 0) steps.push("secrets");
  steps.push("rollback-point");
  // The Worker is built before any migration applies: a build failure never leaves one applied.
  if (databases.length > 0) steps.push("build", "migrate");
  const strategy = options.strategy;
  if (strategy?.kind === "canary") {
    // What a canary runs once a version is live (a first deploy runs the plain steps instead).
    steps.push("upload", "stage", "wait-live");
    if (options.tests) steps.push("tests");
    for (const p of strategy.steps) steps.push(`traffic ${p}%`, ...(p < 100 ? [`bake ${p}%` as const] : []));
  } else {
    steps.push("deploy", "wait-live");
    if (options.tests) steps.push("tests");
  }
  const primaryHostname = env.hostname ?? env.hostnames[0];
  return {
    service: service.name,
    environment: options.environment,
    wranglerEnv: env.wranglerEnv,
    scriptName: env.scriptName,
    path: service.path,
    hostnames: env.hostnames,
    routes: env.routes.map((r) => ({
      pattern: r.pattern,
      customDomain: r.customDomain,
      ...(r.zoneName ? { zoneName: r.zoneName } : {}),
      ...(r.zoneId ? { zoneId: r.zoneId } : {}),
    })),
    bindings: [
      ...env.d1Databases.map((d) => ({
        name: d.binding,
        type: "d1" as const,
        target: d.databaseName,
        ...(d.databaseId ? { databaseId: d.databaseId } : {}),
      })),
      ...env.serviceBindings.map((b) => ({ name: b.binding, type: "service" as const, target: b.service })),
    ],
    ...(primaryHostname ? { primaryHostname } : {}),
    workersDev: env.workersDev,
    databases,
    secretsRequired: env.secretsRequired,
    tests: service.tests ?? defaultProductionTests,
    steps,
  };
}
