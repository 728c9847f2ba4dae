import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  createNullLogger,
  ExitCode,
  isLegoError,
  LegoError,
  type Logger,
  toLegoError,
  UsageError,
} from "@lego/core";
import { type AccountClient, type AccountDiscovery, DomainDiscovery, zoneCandidates } from "./account.ts";
import { cycleSources, formatCycle } from "./graph.ts";
import { formatKeyPath } from "./key-path.ts";
import type { Portfolio, PortfolioService, ServiceEnvironment } from "./model.ts";

/** How far validation goes: each level includes the one before. */
export type ValidationLevel = "basic" | "standard" | "comprehensive";

/** The levels, in order. */
export const VALIDATION_LEVELS: readonly ValidationLevel[] = ["basic", "standard", "comprehensive"];

/** One check's outcome. `ok: false` with severity `error` fails the validation; a warning does not. */
export interface ValidationCheck {
  /** Stable id of the kind of check, e.g. `binding.target-exists`. */
  id: string;
  level: ValidationLevel;
  ok: boolean;
  severity: "error" | "warning" | "info";
  message: string;
  hint?: string | undefined;
  service?: string | undefined;
  environment?: string | undefined;
}

/** The report of {@link validateDeployment}. */
export interface ValidationReport {
  /** True when no check failed with severity `error`. */
  ok: boolean;
  level: ValidationLevel;
  /** What was validated: service and environment pairs. */
  targets: Array<{ service: string; environment: string }>;
  checks: ValidationCheck[];
  errors: number;
  warnings: number;
  /** What account discovery found (standard and comprehensive), for display. */
  account?: Pick<AccountDiscovery, "accountId" | "steps" | "warnings"> | undefined;
}

/** The wrangler runner calls validation makes; `@lego/cloudflare`'s `WranglerRunner` satisfies it. */
export interface ValidatorWrangler {
  version(options?: { signal?: AbortSignal | undefined }): Promise<string>;
  deploy(options?: {
    cwd?: string | undefined;
    env?: string | undefined;
    config?: string | undefined;
    dryRun?: boolean | undefined;
    outdir?: string | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<unknown>;
}

/** The client calls validation makes: account discovery's plus the secret names of a script. */
export interface ValidatorClient extends AccountClient {
  listSecrets(
    script: string,
    options?: { accountId?: string | undefined; signal?: AbortSignal | undefined },
  ): Promise<Array<{ name: string; type: string }>>;
}

/** Options of {@link validateDeployment} and {@link DeploymentValidator.validateDeployment}. */
export interface ValidateDeploymentOptions {
  portfolio: Portfolio;
  /** Services to validate (names); default every service of the portfolio. */
  services?: readonly string[] | undefined;
  /** Environment to validate; default every environment of each service. */
  environment?: string | undefined;
  /** Default `standard` when a client is given, else `basic`. */
  level?: ValidationLevel | undefined;
  /**
   * Services deployed before these ones in the same run (names, in order). A binding to one of
   * them is satisfied even if its Worker does not exist yet. The validated services count too,
   * in `topologicalOrder` order.
   */
  plan?: readonly string[] | undefined;
  /** Precomputed account discovery (skips the API calls of the standard level). */
  discovery?: AccountDiscovery | undefined;
  signal?: AbortSignal | undefined;
}

/** Options of {@link DeploymentValidator}. */
export interface DeploymentValidatorOptions {
  /** `@lego/cloudflare` client for the target: needed from `standard` up. */
  client?: ValidatorClient | AccountClient | undefined;
  /** `@lego/cloudflare` wrangler runner: needed for `comprehensive`. */
  wrangler?: ValidatorWrangler | undefined;
  logger?: Logger | undefined;
  /** Where dry-run bundles go (removed afterwards). Default the OS temp folder. */
  tmpDir?: string | undefined;
}

type CheckInput = Omit<ValidationCheck, "level">;

const check =
  (level: ValidationLevel) =>
  (input: CheckInput): ValidationCheck => ({ level, ...input });
const basic = check("basic");
const standard = check("standard");
const comprehensive = check("comprehensive");

/** True when a route hostname (maybe `*.example.com` or `*example.com`) covers `hostname`. */
export function routeCovers(routeHost: string, hostname: string): boolean {
  if (!routeHost.includes("*")) return routeHost === hostname;
  const re = new RegExp(
    `^${routeHost
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(hostname);
}

/** The environments of `service` to validate: the one asked for, or all of them. */
export function targetEnvironments(service: PortfolioService, environment?: string): string[] {
  return environment === undefined ? service.environmentNames : [environment];
}

/**
 * Checks that concern the portfolio as a whole: dependency cycles, unknown `dependsOn`, and script
 * names or hostnames claimed twice. Pure.
 */
export function portfolioChecks(portfolio: Portfolio, services?: readonly string[]): ValidationCheck[] {
  const out: ValidationCheck[] = [];
  const scope = new Set(services ?? portfolio.services.map((s) => s.name));
  const names = new Set(portfolio.services.map((s) => s.name));
  for (const cycle of portfolio.graph.cycles) {
    if (!cycle.some((n) => scope.has(n))) continue;
    out.push(
      basic({
        id: "graph.acyclic",
        ok: false,
        severity: "error",
        message: `Dependency cycle: ${formatCycle(cycle)}${sourcesNote(cycleSources(portfolio.graph, cycle))}`,
        hint: "Remove one service binding or dependsOn entry on that path so one service can be deployed first.",
        service: cycle[0],
      }),
    );
  }
  for (const s of portfolio.services) {
    if (!scope.has(s.name)) continue;
    for (const dep of s.dependsOn) {
      if (!names.has(dep)) {
        out.push(
          basic({
            id: "config.depends-on",
            ok: false,
            severity: "error",
            message: `${s.name} dependsOn "${dep}", which is not a service of this portfolio`,
            hint: `Fix dependsOn in ${s.domainConfigFile ?? "the domain config"}; \`lego list\` shows the service names.`,
            service: s.name,
          }),
        );
      }
    }
  }
  const scripts = new Map<string, string>();
  const hosts = new Map<string, string>();
  for (const s of portfolio.services) {
    for (const env of Object.values(s.environments)) {
      if (env.wranglerEnv === undefined) continue;
      const owner = `${s.name} (${env.name})`;
      const hostFile = (host: string) =>
        env.hostname === host && s.domainConfigFile ? s.domainConfigFile : s.wranglerConfigFile;
      const otherScript = scripts.get(env.scriptName);
      if (otherScript && (scope.has(s.name) || scope.has(otherScript.split(" ")[0]!))) {
        out.push(
          basic({
            id: "config.script-unique",
            ok: false,
            severity: "error",
            message: `Worker script "${env.scriptName}" is deployed by both ${otherScript} and ${owner}`,
            hint: "Each deploy would overwrite the other; give one of them another name in its wrangler config.",
            service: s.name,
            environment: env.name,
          }),
        );
      } else scripts.set(env.scriptName, owner);
      for (const host of env.hostnames) {
        const other = hosts.get(host);
        if (other && (scope.has(s.name) || scope.has(other.split(" ")[0]!))) {
          out.push(
            basic({
              id: "config.hostname-unique",
              ok: false,
              severity: "error",
              message: `Hostname ${host} is claimed by both ${other} and ${owner} in ${hostFile(host)}`,
              hint: "A hostname serves one Worker; remove it from one of the two configs.",
              service: s.name,
              environment: env.name,
            }),
          );
        } else hosts.set(host, `${owner} in ${hostFile(host)}`);
      }
    }
  }
  return out;
}

/**
 * The `basic` checks of one service environment: the two configs parse (a scan already proved it)
 * and agree on environments, hostnames and bindings. Pure: no I/O.
 */
export function basicChecks(
  portfolio: Portfolio,
  service: PortfolioService,
  environment: string,
): ValidationCheck[] {
  const out: ValidationCheck[] = [];
  const at = { service: service.name, environment };
  for (const problem of service.problems ?? []) {
    out.push(
      basic({
        id: "config.files",
        ok: false,
        severity: "error",
        message: `${problem.file}: ${problem.keyPath}: ${problem.message}`,
        hint: `Fix ${problem.keyPath} in ${problem.file}; wrangler would fail on it.`,
        ...at,
      }),
    );
  }
  const env = service.environments[environment];
  if (!env) {
    out.push(
      basic({
        id: "config.environment",
        ok: false,
        severity: "error",
        message: `${service.name} has no environment "${environment}" (it has ${service.environmentNames.join(", ") || "none"})`,
        hint: `Pick one of those with --env, or declare "${environment}" in ${service.domainConfigFile ?? service.wranglerConfigFile}.`,
        ...at,
      }),
    );
    return out;
  }
  if (env.wranglerEnv === undefined) {
    out.push(
      basic({
        id: "config.wrangler-env",
        ok: false,
        severity: "error",
        message: `${service.domainConfigFile} declares environment "${environment}" but ${service.wranglerConfigFile} has no env.${environment} section`,
        hint:
          environment === "production"
            ? `Add env.production to ${service.wranglerConfigFile}, or let the top level serve production by removing the other env sections' claim to it.`
            : `Add an env.${environment} section to ${service.wranglerConfigFile} (routes, bindings), or remove "${environment}" from the domain config.`,
        ...at,
      }),
    );
  } else {
    out.push(
      basic({
        id: "config.wrangler-env",
        ok: true,
        severity: "info",
        message: `${environment} deploys Worker ${env.scriptName} (wrangler --env ${env.wranglerEnv === "" ? '""' : env.wranglerEnv})`,
        ...at,
      }),
    );
  }
  if (service.domainConfig && !env.declaredBy.domainConfig) {
    out.push(
      basic({
        id: "config.domain-env",
        ok: false,
        severity: "warning",
        message: `${service.wranglerConfigFile} has env.${environment}, which ${service.domainConfigFile} does not declare`,
        hint: `Add ${environment}: "<hostname>" to domains in ${service.domainConfigFile}, or remove the section.`,
        ...at,
      }),
    );
  }
  if (service.domainConfig && service.domainConfig.name !== service.wranglerName) {
    out.push(
      basic({
        id: "config.name",
        ok: false,
        severity: "warning",
        message: `${service.domainConfigFile} names the service "${service.domainConfig.name}" but ${service.wranglerConfigFile} names the Worker "${service.wranglerName}"`,
        hint: "Use the same name in both files: the domain config name is the Worker name.",
        ...at,
      }),
    );
  }
  if (env.hostname && env.wranglerEnv !== undefined) {
    const covered = env.routes.some((r) => routeCovers(r.hostname, env.hostname!));
    out.push(
      basic({
        id: "config.hostname-routed",
        ok: covered,
        severity: covered ? "info" : "error",
        message: covered
          ? `${env.hostname} is routed to ${env.scriptName}`
          : `${env.hostname} (domain config, ${environment}) is not a route or custom domain of ${env.scriptName} in ${service.wranglerConfigFile}`,
        ...(covered
          ? {}
          : {
              hint: `Add { pattern = "${env.hostname}", custom_domain = true } to the routes of ${env.wranglerEnv === "" ? "the top level" : `env.${env.wranglerEnv}`}.`,
            }),
        ...at,
      }),
    );
  }
  // An environment the domain config does not declare already has its warning (config.domain-env).
  if (service.domainConfig && env.declaredBy.domainConfig) {
    for (const route of env.routes) {
      if (route.hostname.includes("*") || route.hostname === env.hostname) continue;
      out.push(
        basic({
          id: "config.route-declared",
          ok: false,
          severity: "warning",
          message: `${service.wranglerConfigFile} routes ${route.pattern} to ${env.scriptName}, but the domain config's ${environment} hostname is ${env.hostname ?? "unset"}`,
          hint: "Lego tests and resolves the domain config's hostname; keep the two files in agreement.",
          ...at,
        }),
      );
    }
  }

  const byScript = new Map<string, { service: PortfolioService; env: ServiceEnvironment }>();
  for (const s of portfolio.services)
    for (const e of Object.values(s.environments)) byScript.set(e.scriptName, { service: s, env: e });
  for (const binding of env.serviceBindings) {
    const target = byScript.get(binding.service);
    if (!target) {
      out.push(
        basic({
          id: "binding.target-known",
          ok: false,
          severity: "warning",
          message: `${service.name} (${environment}) binds ${binding.binding} to Worker "${binding.service}", which no service of this portfolio deploys`,
          hint: "Fine if that Worker is deployed from elsewhere; the standard level checks that it exists in the account.",
          ...at,
        }),
      );
      continue;
    }
    if (target.env.name !== environment && target.service.environments[environment]) {
      const expected = target.service.environments[environment]!.scriptName;
      out.push(
        basic({
          id: "binding.environment",
          ok: false,
          severity: "warning",
          message: `${service.name} (${environment}) binds ${binding.binding} to ${binding.service}, the ${target.env.name} Worker of ${target.service.name}`,
          hint: `In ${environment}, bind "${expected}" instead (env.${env.wranglerEnv || environment}.services in ${service.wranglerConfigFile}).`,
          ...at,
        }),
      );
    }
  }
  for (const db of env.d1Databases) {
    if (!db.databaseId) {
      out.push(
        basic({
          id: "d1.database-id",
          ok: true,
          severity: "info",
          message: `D1 ${db.binding} (${db.databaseName}) has no database_id: wrangler creates the database on first deploy`,
          ...at,
        }),
      );
    }
  }
  return out;
}

function bindingTargetsInPlan(
  portfolio: Portfolio,
  plan: readonly string[],
  environment: string,
): Set<string> {
  const scripts = new Set<string>();
  for (const name of plan) {
    const s = portfolio.services.find((x) => x.name === name);
    const env = s?.environments[environment];
    if (env) scripts.add(env.scriptName);
  }
  return scripts;
}

/** Where a hostname of an environment is written: the wrangler route (file and key) or the domain config. */
function whereHostIs(
  service: PortfolioService,
  env: PortfolioService["environments"][string],
  host: string,
): string {
  const i = env.routes.findIndex((r) => r.hostname === host);
  if (i >= 0)
    return `${service.wranglerConfigFile}: ${env.wranglerEnv ? `env.${env.wranglerEnv}.routes[${i}]` : `routes[${i}]`}`;
  return service.domainConfigFile
    ? `${service.domainConfigFile}: ${service.name}.domains`
    : service.wranglerConfigFile;
}

/**
 * The `standard` checks of one service environment against what account discovery found: token,
 * account, zones, D1 databases and bound Workers. Pure over its inputs: discovery is done by the caller.
 */
export function standardChecks(
  portfolio: Portfolio,
  service: PortfolioService,
  environment: string,
  account: AccountDiscovery,
  plan: readonly string[] = [],
): ValidationCheck[] {
  const out: ValidationCheck[] = [];
  const at = { service: service.name, environment };
  const env = service.environments[environment];
  if (!env) return out;
  const unknown = (
    step: keyof AccountDiscovery["steps"],
    id: string,
    what: string,
  ): ValidationCheck | undefined => {
    const outcome = account.steps[step];
    if (outcome === "ok") return undefined;
    const warning = account.warnings.find((w) => w.step === step);
    return standard({
      id,
      ok: false,
      severity: "warning",
      message: `Could not check ${what}: ${warning?.message ?? `discovery ${outcome}`}`,
      hint: warning?.hint,
      ...at,
    });
  };

  const accountId = service.accountId ?? env.accountId;
  if (accountId && account.accounts && !account.accounts.some((a) => a.id === accountId)) {
    out.push(
      standard({
        id: "account.reachable",
        ok: false,
        severity: "error",
        message: `${service.name} deploys to account ${accountId}, which the API token cannot see`,
        hint: `The token sees ${account.accounts.map((a) => a.id).join(", ") || "no account"}; use a token for that account or fix accountId.`,
        ...at,
      }),
    );
  }

  if (env.routes.length > 0 || env.hostname) {
    const zoneProblem = unknown("zones", "account.zone", `the zones of ${env.hostnames.join(", ")}`);
    if (zoneProblem) out.push(zoneProblem);
    else {
      const zones = new Map((account.zones ?? []).map((z) => [z.hostname, z.zone]));
      // A route that names its zone (zone_name) needs that very zone in the account.
      env.routes.forEach((route, i) => {
        const name = route.zoneName?.toLowerCase();
        if (!name || !zones.has(name) || zones.get(name)?.name.toLowerCase() === name) return;
        out.push(
          standard({
            id: "account.zone",
            ok: false,
            severity: "error",
            message: `${service.wranglerConfigFile}: ${env.wranglerEnv ? `env.${env.wranglerEnv}.routes[${i}]` : `routes[${i}]`}.zone_name: the account has no zone ${name} (route ${route.pattern})`,
            hint: `Add the zone ${name} to the account (or seed it in the local cloud with \`lego local up --zone ${name}\`), or fix zone_name.`,
            ...at,
          }),
        );
      });
      for (const host of env.hostnames) {
        if (!zones.has(host)) continue;
        const zone = zones.get(host);
        out.push(
          standard({
            id: "account.zone",
            ok: zone !== undefined,
            severity: zone ? "info" : "error",
            message: zone
              ? `${host} is in zone ${zone.name}`
              : `${whereHostIs(service, env, host)}: no zone of the account serves ${host} (looked for ${zoneCandidates(host).join(", ")})`,
            ...(zone
              ? {}
              : {
                  hint: `Add the zone to the account (or seed it in the local cloud), or fix the hostname.`,
                }),
            ...at,
          }),
        );
      }
    }
  }

  if (env.d1Databases.length > 0) {
    const d1Problem = unknown("d1", "d1.database", `the D1 databases of ${service.name}`);
    if (d1Problem) out.push(d1Problem);
    else {
      const dbs = account.d1Databases ?? [];
      for (const db of env.d1Databases) {
        const found = db.databaseId
          ? dbs.find((d) => d.uuid === db.databaseId)
          : dbs.find((d) => d.name === db.databaseName);
        if (found) {
          out.push(
            standard({
              id: "d1.database",
              ok: true,
              severity: "info",
              message: `D1 ${db.binding}: ${found.name} (${found.uuid}) exists`,
              ...at,
            }),
          );
        } else if (!db.databaseId) {
          out.push(
            standard({
              id: "d1.database",
              ok: true,
              severity: "info",
              message: `D1 ${db.binding}: ${db.databaseName} does not exist yet and will be created on deploy`,
              ...at,
            }),
          );
        } else {
          const byName = dbs.find((d) => d.name === db.databaseName);
          out.push(
            standard({
              id: "d1.database",
              ok: false,
              severity: "error",
              message: `D1 ${db.binding}: database_id ${db.databaseId} (${db.databaseName}) does not exist in account ${account.accountId ?? "?"}`,
              hint: byName
                ? `A database named ${db.databaseName} exists with id ${byName.uuid}: put that id in ${service.wranglerConfigFile}.`
                : `Create it (\`lego db create\`), or remove database_id so wrangler provisions it.`,
              ...at,
            }),
          );
        }
      }
    }
  }

  if (env.serviceBindings.length > 0) {
    const inPlan = bindingTargetsInPlan(portfolio, plan, environment);
    const workersProblem = unknown(
      "workers",
      "binding.target-exists",
      `the Workers ${service.name} binds to`,
    );
    const scripts = new Set((account.workers ?? []).map((w) => w.script));
    for (const [index, binding] of env.serviceBindings.entries()) {
      const owner = portfolio.services.find((s) =>
        Object.values(s.environments).some((e) => e.scriptName === binding.service),
      );
      if (inPlan.has(binding.service)) {
        out.push(
          standard({
            id: "binding.target-exists",
            ok: true,
            severity: "info",
            message: `${binding.binding} -> ${binding.service}: deployed earlier in this plan`,
            ...at,
          }),
        );
        continue;
      }
      if (workersProblem) {
        out.push({ ...workersProblem });
        continue;
      }
      const exists = scripts.has(binding.service);
      out.push(
        standard({
          id: "binding.target-exists",
          ok: exists,
          severity: exists ? "info" : "error",
          message: exists
            ? `${binding.binding} -> ${binding.service}: the Worker exists`
            : `${service.wranglerConfigFile}: ${bindingKeyPath(env, index)}: ${service.name} (${environment}) binds ${binding.binding} to the Worker "${binding.service}", which is not deployed in account ${account.accountId ?? "?"} and is not earlier in this plan`,
          ...(exists
            ? {}
            : {
                hint: owner
                  ? `Deploy ${owner.name} to ${environment} first (\`lego deploy ${owner.name} --env ${environment}\`), or deploy both in one run so the order is right.`
                  : `No service of this portfolio deploys "${binding.service}": deploy it from where it lives, or fix the binding in ${service.wranglerConfigFile}.`,
              }),
          ...at,
        }),
      );
    }
  }
  return out;
}

const sourcesNote = (sources: string[]) => (sources.length > 0 ? ` (${sources.join("; ")})` : "");

/** Where a service binding is written: `services[0]` at the top level, else `env.<e>.services[0]`. */
function bindingKeyPath(env: ServiceEnvironment, index: number): string {
  return env.wranglerEnv
    ? `${formatKeyPath(["env", env.wranglerEnv, "services", index])}.service`
    : `services[${index}].service`;
}

/**
 * Checks that fail on what the configs say (bad input), even when an account was needed to tell: a
 * binding to nothing, a hostname on a zone the account does not have.
 */
const CONFIG_CHECKS = new Set(["binding.target-exists", "account.zone"]);

function exitCodeFor(report: ValidationReport): number {
  const failed = report.checks.filter((c) => !c.ok && c.severity === "error");
  if (failed.some((c) => c.id === "account.token" || c.id === "account.reachable")) return ExitCode.Auth;
  if (failed.some((c) => c.level === "basic" || CONFIG_CHECKS.has(c.id))) return ExitCode.Usage;
  return ExitCode.Failure;
}

/**
 * The error for a failed report: `ERR_VALIDATION_FAILED`, exit 2 when a config check failed, 3 for
 * the token or account, 1 otherwise. The message names the first failing check.
 */
export function validationError(report: ValidationReport): LegoError {
  const failed = report.checks.filter((c) => !c.ok && c.severity === "error");
  const first = failed[0];
  return new LegoError({
    code: "ERR_VALIDATION_FAILED",
    message: `Validation (${report.level}) failed with ${failed.length} error${failed.length === 1 ? "" : "s"}: ${first?.message ?? "?"}`,
    hint: first?.hint ?? "See the checks in the report.",
    exitCode: exitCodeFor(report) as 1 | 2 | 3,
    details: {
      failed: failed.map((c) => ({
        id: c.id,
        service: c.service,
        environment: c.environment,
        message: c.message,
      })),
    },
  });
}

/**
 * Validates services before a deploy (the seed's `DeploymentValidator`), at one of three levels:
 * - `basic`: the configs parse and agree (environments, hostnames, bindings, graph). No I/O.
 * - `standard`: + the token is valid, the account is reachable, a zone serves every hostname, D1
 *   databases exist or will be created, every bound Worker exists in the target environment or is
 *   deployed earlier in the same plan (named when missing).
 * - `comprehensive`: + the pinned wrangler runs, the bundle builds (`wrangler deploy --dry-run`) and
 *   the required secrets are set.
 *
 * @example
 * const validator = new DeploymentValidator({ client, wrangler });
 * const report = await validator.validateDeployment({ portfolio, services: ["api"], environment: "staging", level: "standard" });
 * if (!report.ok) throw validationError(report);
 */
export class DeploymentValidator {
  private readonly client: ValidatorClient | AccountClient | undefined;
  private readonly wrangler: ValidatorWrangler | undefined;
  private readonly logger: Logger;
  private readonly tmpDir: string;

  constructor(options: DeploymentValidatorOptions = {}) {
    this.client = options.client;
    this.wrangler = options.wrangler;
    this.logger = options.logger ?? createNullLogger();
    this.tmpDir = options.tmpDir ?? tmpdir();
  }

  /** Runs every check of the level and returns the report; never throws for a failing check. */
  async validateDeployment(options: ValidateDeploymentOptions): Promise<ValidationReport> {
    const { portfolio } = options;
    const level = options.level ?? (this.client ? "standard" : "basic");
    const depth = VALIDATION_LEVELS.indexOf(level);
    const names = options.services ?? portfolio.services.map((s) => s.name);
    const services = names.map((name) => {
      const s = portfolio.services.find((x) => x.name === name);
      if (!s) {
        throw new UsageError({
          code: "ERR_SERVICE_NOT_FOUND",
          message: `No service named "${name}" in ${portfolio.root}`,
          hint: "`lego list` shows every service.",
        });
      }
      return s;
    });
    const targets = services.flatMap((s) =>
      targetEnvironments(s, options.environment).map((e) => ({ service: s.name, environment: e })),
    );
    const checks: ValidationCheck[] = [...portfolioChecks(portfolio, names)];
    for (const t of targets)
      checks.push(
        ...basicChecks(portfolio, services.find((s) => s.name === t.service)!, t.environment).map((c) =>
          // Asked for by name, an environment only wrangler declares is refused, not warned about: the
          // domain config has no hostname or tests for it, so deploying it would be a Worker no one checks.
          options.environment !== undefined && c.id === "config.domain-env" && !c.ok
            ? { ...c, severity: "error" as const }
            : c,
        ),
      );

    let account: AccountDiscovery | undefined;
    if (depth >= 1) {
      account = options.discovery ?? (await this.discover(portfolio, services, targets, options.signal));
      if (!account) {
        checks.push(
          standard({
            id: "account.token",
            ok: false,
            severity: "error",
            message: "No Cloudflare API client: the standard level needs a token (or the local cloud)",
            hint: "Set CLOUDFLARE_API_TOKEN, or run against the local cloud (`lego local up`), or use --level basic.",
          }),
        );
      } else {
        checks.push(this.tokenCheck(account));
        const order = portfolio.graph.order.filter((n) => names.includes(n));
        for (const t of targets) {
          const service = services.find((s) => s.name === t.service)!;
          // Earlier in the plan: what the caller deploys first, then the validated services before this one.
          const before = [...(options.plan ?? []), ...order.slice(0, order.indexOf(t.service))];
          checks.push(...standardChecks(portfolio, service, t.environment, account, before));
        }
      }
    }
    if (depth >= 2) {
      checks.push(...(await this.comprehensiveChecks(services, targets, account, options.signal)));
    }
    const errors = checks.filter((c) => !c.ok && c.severity === "error").length;
    const warnings = checks.filter((c) => !c.ok && c.severity === "warning").length;
    return {
      ok: errors === 0,
      level,
      targets,
      checks,
      errors,
      warnings,
      ...(account
        ? { account: { accountId: account.accountId, steps: account.steps, warnings: account.warnings } }
        : {}),
    };
  }

  private tokenCheck(account: AccountDiscovery): ValidationCheck {
    if (account.steps.token === "ok" && account.token?.active) {
      return standard({
        id: "account.token",
        ok: true,
        severity: "info",
        message: "The API token is valid and active",
      });
    }
    const warning = account.warnings.find((w) => w.step === "token");
    return standard({
      id: "account.token",
      ok: false,
      severity: "error",
      message: account.token
        ? `The API token is ${account.token.status}`
        : (warning?.message ?? "The API token could not be verified"),
      hint: "Create a new API token (My Profile · API Tokens) and store it again; `lego env` shows where Lego reads it.",
    });
  }

  private async discover(
    portfolio: Portfolio,
    services: PortfolioService[],
    targets: Array<{ service: string; environment: string }>,
    signal: AbortSignal | undefined,
  ): Promise<AccountDiscovery | undefined> {
    if (!this.client) return undefined;
    const hostnames = new Set<string>();
    for (const t of targets) {
      const env = services.find((s) => s.name === t.service)?.environments[t.environment];
      for (const h of env?.hostnames ?? []) hostnames.add(h);
      // A route's zone_name is looked up as a hostname: its own zone must be itself.
      for (const r of env?.routes ?? []) if (r.zoneName) hostnames.add(r.zoneName.toLowerCase());
    }
    // The account-wide lists only when a check reads them: D1 databases for services that bind one,
    // Worker scripts for services that bind another Worker.
    const envs = targets.flatMap((t) => {
      const env = services.find((s) => s.name === t.service)?.environments[t.environment];
      return env ? [env] : [];
    });
    const discovery = new DomainDiscovery({ client: this.client, portfolio, logger: this.logger });
    return discovery.discoverAccount({
      hostnames: [...hostnames],
      lists: {
        d1: envs.some((e) => e.d1Databases.length > 0),
        workers: envs.some((e) => e.serviceBindings.length > 0),
      },
      ...(signal ? { signal } : {}),
    });
  }

  private async comprehensiveChecks(
    services: PortfolioService[],
    targets: Array<{ service: string; environment: string }>,
    account: AccountDiscovery | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ValidationCheck[]> {
    const out: ValidationCheck[] = [];
    if (!this.wrangler) {
      out.push(
        comprehensive({
          id: "wrangler.version",
          ok: false,
          severity: "error",
          message: "No wrangler runner was given: the comprehensive level needs one",
          hint: "Run from the lego CLI, which provides the pinned wrangler, or use --level standard.",
        }),
      );
    } else {
      try {
        const version = await this.wrangler.version({ signal });
        out.push(
          comprehensive({
            id: "wrangler.version",
            ok: true,
            severity: "info",
            message: `wrangler ${version} runs`,
          }),
        );
        for (const t of targets) {
          const service = services.find((s) => s.name === t.service)!;
          const env = service.environments[t.environment];
          if (!env || env.wranglerEnv === undefined) continue;
          out.push(await this.dryRun(service, env, signal));
        }
      } catch (error) {
        const lego = toLegoError(error);
        if (lego.code === "ERR_INTERRUPTED") throw lego;
        out.push(
          comprehensive({
            id: "wrangler.version",
            ok: false,
            severity: "error",
            message: `The pinned wrangler does not run: ${lego.message}`,
            hint: lego.hint ?? "Reinstall dependencies (pnpm install) and check the Node version (>= 22.12).",
          }),
        );
      }
    }

    const client = this.client as ValidatorClient | undefined;
    for (const t of targets) {
      const service = services.find((s) => s.name === t.service)!;
      const env = service.environments[t.environment];
      if (!env || env.secretsRequired.length === 0) continue;
      const at = { service: service.name, environment: t.environment };
      if (!client || typeof client.listSecrets !== "function") {
        out.push(
          comprehensive({
            id: "secrets.required",
            ok: false,
            severity: "warning",
            message: `Could not check the secrets of ${env.scriptName}: no API client`,
            ...at,
          }),
        );
        continue;
      }
      let names: Set<string>;
      try {
        names = new Set(
          (
            await client.listSecrets(env.scriptName, {
              ...(account?.accountId ? { accountId: account.accountId } : {}),
              signal,
            })
          ).map((s) => s.name),
        );
      } catch (error) {
        if (isLegoError(error) && error.code === "ERR_CF_NOT_FOUND") names = new Set();
        else {
          const lego = toLegoError(error);
          if (lego.code === "ERR_INTERRUPTED") throw lego;
          out.push(
            comprehensive({
              id: "secrets.required",
              ok: false,
              severity: lego.code === "ERR_CF_AUTH" ? "warning" : "error",
              message: `Could not list the secrets of ${env.scriptName}: ${lego.message}`,
              hint:
                lego.code === "ERR_CF_AUTH"
                  ? "Reading secret names needs 'Account · Workers Scripts · Read'."
                  : lego.hint,
              ...at,
            }),
          );
          continue;
        }
      }
      const missing = env.secretsRequired.filter((n) => !names.has(n));
      out.push(
        comprehensive({
          id: "secrets.required",
          ok: missing.length === 0,
          severity: missing.length === 0 ? "info" : "error",
          message:
            missing.length === 0
              ? `Every required secret of ${env.scriptName} is set (${env.secretsRequired.join(", ")})`
              : `${env.scriptName} is missing required secret${missing.length === 1 ? "" : "s"} ${missing.join(", ")}`,
          ...(missing.length === 0
            ? {}
            : {
                hint: `Set them first: \`lego secrets push ${service.name} --env ${t.environment}\` (values travel on stdin, never argv).`,
              }),
          ...at,
        }),
      );
    }
    return out;
  }

  private async dryRun(
    service: PortfolioService,
    env: ServiceEnvironment,
    signal: AbortSignal | undefined,
  ): Promise<ValidationCheck> {
    const outdir = await mkdtemp(join(this.tmpDir, "lego-dry-run-"));
    const at = { service: service.name, environment: env.name };
    try {
      await this.wrangler!.deploy({
        cwd: service.path,
        env: env.wranglerEnv,
        config: basename(service.wranglerConfigFile),
        dryRun: true,
        outdir,
        signal,
      });
      return comprehensive({
        id: "wrangler.build",
        ok: true,
        severity: "info",
        message: `${env.scriptName} builds (wrangler deploy --dry-run)`,
        ...at,
      });
    } catch (error) {
      const lego = toLegoError(error);
      if (lego.code === "ERR_INTERRUPTED") throw lego;
      const tail = (lego.details?.stderrTail as string | undefined)
        ?.split("\n")
        .filter(Boolean)
        .slice(-3)
        .join(" | ");
      return comprehensive({
        id: "wrangler.build",
        ok: false,
        severity: "error",
        message: `${env.scriptName} does not build: ${lego.message}${tail ? ` (${tail})` : ""}`,
        hint: "Run `wrangler deploy --dry-run` in the service folder to see the full build error.",
        ...at,
      });
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  }
}

/**
 * Validates without keeping a validator around.
 *
 * @example
 * const report = await validateDeployment({ portfolio, level: "basic" });
 */
export async function validateDeployment(
  options: ValidateDeploymentOptions & DeploymentValidatorOptions,
): Promise<ValidationReport> {
  return new DeploymentValidator(options).validateDeployment(options);
}
