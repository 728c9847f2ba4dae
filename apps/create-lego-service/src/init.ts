import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ConflictError, UsageError, writeFileAtomic } from "@lego/core";
import type { DomainConfig } from "@lego/runtime";
import { COMPATIBILITY_DATE, deriveHostname, type ServiceType } from "./options.ts";
import type { PlannedFile } from "./plan.ts";
import { parseSeedDomains } from "./portfolio.ts";
import { propertyKey, toLiteral } from "./templates/config.ts";
import { toJson } from "./templates/json.ts";
import { nonEmptyEntries, type ScaffoldResult, scaffoldService } from "./write.ts";

// `lego init` reads configs through @lego/discovery: the same parsers (and the same errors, naming the
// file and key) that `lego list` and `lego deploy` use, so what init generates is what they will read.
// The parsed shapes below are the slices of discovery's types that init needs.

/** A wrangler environment as @lego/discovery parses it (the slice init uses). */
export interface InitWranglerEnvironment {
  wranglerEnv: string;
  scriptName: string;
  routes: Array<{ pattern: string; hostname: string; customDomain: boolean }>;
  d1Databases: Array<{ binding: string; databaseName: string }>;
  serviceBindings: Array<{ binding: string; service: string }>;
  secretsRequired: string[];
  accountId?: string | undefined;
  main?: string | undefined;
}

/** A wrangler config as @lego/discovery parses it (the slice init uses). */
export interface InitWranglerConfig {
  file: string;
  name: string;
  envNames: string[];
  topLevel: InitWranglerEnvironment;
  environments: Record<string, InitWranglerEnvironment>;
  raw: Record<string, unknown>;
}

/** What a folder holds, read before planning. */
export interface InitInputs {
  /** The service folder (absolute). */
  dir: string;
  /** The wrangler config, relative to `dir`, parsed. */
  wrangler?: InitWranglerConfig | undefined;
  /** The domain config file relative to `dir`, and its validated entries. */
  domainConfig?: { file: string; configs: DomainConfig[] } | undefined;
  /** Files that exist, relative to `dir` (only the ones init cares about). */
  existing: string[];
  /** The Worker entry, when one of the usual paths exists. */
  main?: string | undefined;
  /** True when package.json depends on @lego/runtime (so the domain config may import it). */
  usesRuntime: boolean;
  /** Names set in `.dev.vars` (values are never read into the plan). */
  devVars: string[];
}

/** What the caller says about `lego init`. */
export interface InitOptions {
  /** The service folder; relative paths resolve against `cwd`. */
  dir: string;
  cwd: string;
  /** Regenerate a file that exists. Needs `from` to say which config is the source of truth. */
  force?: boolean | undefined;
  /** With `force`: regenerate the domain config from the wrangler config, or the reverse. */
  from?: "wrangler" | "domains" | undefined;
  /** The production hostname, when the wrangler config has no routes to read hostnames from. */
  domain?: string | undefined;
  /** Which entry of a domain config with several (default: the one named like the folder). */
  name?: string | undefined;
  /** For an empty folder: scaffold a new service of this type (the seed's `lego-init my-service --type ...`). */
  type?: ServiceType | undefined;
  /** For an empty folder: deployed environments of the new service. */
  environments?: readonly string[] | undefined;
  /**
   * For an empty folder: the seed's `--domains "host:account:zone,…"` (see {@link parseSeedDomains}):
   * each environment's hostname, and the production entry's account and zone ids.
   */
  domains?: string | undefined;
  /** The process environment, to report which deploy-time variables are set (values are never read out). */
  env: Record<string, string | undefined>;
}

/** One variable or secret the service needs, and whether it is set (never its value). */
export interface InitVariable {
  name: string;
  kind: "deploy" | "secret" | "var";
  /** Where it must be set, e.g. `shell`, `wrangler secret put --env staging`, `wrangler.jsonc env.staging.vars`. */
  where: string;
  /** `true`/`false` when init can tell, `undefined` when only the account knows (deployed secrets). */
  set: boolean | undefined;
  note?: string | undefined;
}

/** What {@link planInit} decides. */
export interface InitPlan {
  dir: string;
  /** `generate`: write missing files; `regenerate`: overwrite one (with --force); `check`: nothing to write. */
  action: "generate" | "regenerate" | "check";
  /** Config files read, relative to `dir`. */
  read: string[];
  files: Array<PlannedFile & { overwrite: boolean }>;
  variables: InitVariable[];
  warnings: string[];
  nextSteps: string[];
}

/** What {@link initService} did. */
export interface InitResult extends Omit<InitPlan, "action"> {
  action: InitPlan["action"] | "scaffold";
  /** Paths written, relative to `dir`. */
  written: string[];
}

/** The Worker entries init looks for, in order, when it writes a wrangler config. */
export const MAIN_CANDIDATES = [
  "src/worker/index.ts",
  "src/index.ts",
  "src/worker/index.js",
  "src/index.js",
  "index.ts",
  "index.js",
  "worker.js",
] as const;

const WRANGLER_FILES = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"] as const;
const DOMAIN_FILES = [
  "src/config/domains.ts",
  "src/config/domains.mts",
  "src/config/domains.js",
  "src/config/domains.mjs",
];

function hostnamesOf(env: InitWranglerEnvironment): string[] {
  const exact = (r: { hostname: string }) => !r.hostname.includes("*");
  const custom = env.routes.filter((r) => r.customDomain && exact(r)).map((r) => r.hostname);
  const routes = env.routes.filter((r) => !r.customDomain && exact(r)).map((r) => r.hostname);
  return [...new Set([...custom, ...routes])];
}

/** The service a bound script belongs to: `auth-service-staging` in `staging` is `auth-service`. */
function serviceOfScript(script: string, environment: string): string {
  const suffix = `-${environment}`;
  return environment && script.endsWith(suffix) ? script.slice(0, -suffix.length) : script;
}

/**
 * The environments of a wrangler config that deploy: its `env.*`, and the top level as `production`
 * (as discovery reads it) unless an `env.production` exists. Beside `env.*` sections, a top level
 * without routes is taken for `wrangler dev` only, unless `--domain` names its hostname.
 */
function deployedEnvironments(
  w: InitWranglerConfig,
  domainGiven = false,
): Array<[string, InitWranglerEnvironment]> {
  const named = w.envNames.map((name): [string, InitWranglerEnvironment] => [name, w.environments[name]!]);
  const topLevelDeploys =
    w.envNames.length === 0 || w.topLevel.routes.length > 0 || (domainGiven && named.length > 0);
  if (w.environments.production || !topLevelDeploys) return named;
  return [["production", w.topLevel], ...named];
}

/** The domain config entry a wrangler config implies (pure). */
export function domainConfigFromWrangler(
  w: InitWranglerConfig,
  options: { domain?: string | undefined } = {},
): { config: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  const domains: Record<string, string> = {};
  const environments: Record<string, Record<string, never>> = {};
  const dependsOn = new Set<string>();
  const secrets = new Set<string>();
  for (const [name, env] of deployedEnvironments(w, options.domain !== undefined)) {
    const hosts = hostnamesOf(env);
    const host = hosts[0] ?? (options.domain ? deriveHostname(options.domain, name) : undefined);
    if (host) domains[name] = host;
    else {
      environments[name] = {};
      warnings.push(
        `${w.file}: environment "${name}" has no route or custom domain; add its hostname to the domain config (or pass --domain)`,
      );
    }
    if (hosts.length > 1) {
      warnings.push(`${name}: wrangler routes ${hosts.join(", ")}; the domain config keeps ${hosts[0]}`);
    }
    for (const b of env.serviceBindings) dependsOn.add(serviceOfScript(b.service, env.wranglerEnv));
    for (const s of env.secretsRequired) secrets.add(s);
  }
  if (Object.keys(domains).length === 0) {
    throw new UsageError({
      code: "ERR_INIT_NOTHING_TO_READ",
      message: `${w.file} declares no route or custom domain, so there is no hostname for the domain config`,
      hint: "Pass --domain api.example.com (other environments get <env>-api.example.com), or add routes to the wrangler config.",
    });
  }
  const accountId = w.topLevel.accountId;
  dependsOn.delete(w.name);
  return {
    config: {
      name: w.name,
      ...(accountId && /^[0-9a-f]{32}$/i.test(accountId) ? { accountId } : {}),
      domains,
      features: {},
      ...(Object.keys(environments).length ? { environments } : {}),
      dependsOn: [...dependsOn].sort(),
      secrets: { required: [...secrets].sort() },
    },
    warnings,
  };
}

/** The wrangler config a domain config entry implies (pure). */
export function wranglerConfigFromDomain(
  config: DomainConfig,
  main: string,
): { config: Record<string, unknown>; warnings: string[] } {
  const env: Record<string, unknown> = {};
  for (const [name, host] of Object.entries(config.domains)) {
    env[name] = {
      vars: { ENVIRONMENT: name, ...(config.environments[name]?.vars ?? {}) },
      routes: [{ pattern: host, custom_domain: true }],
    };
  }
  const warnings: string[] = [];
  if (config.dependsOn.length > 0) {
    warnings.push(
      `dependsOn (${config.dependsOn.join(", ")}) says nothing about binding names: add "services" to each environment of the wrangler config if the Worker calls them`,
    );
  }
  return {
    config: {
      $schema: "node_modules/wrangler/config-schema.json",
      name: config.name,
      main,
      compatibility_date: COMPATIBILITY_DATE,
      ...(config.accountId ? { account_id: config.accountId } : {}),
      vars: { ENVIRONMENT: "development" },
      env,
    },
    warnings,
  };
}

function renderDomainFile(entry: Record<string, unknown>, usesRuntime: boolean): string {
  const name = String(entry.name);
  const body = `${propertyKey(name)}: ${toLiteral(entry, "  ")},`;
  const header = `/**
 * The domain config of ${name}, generated by \`lego init\` from its wrangler config: one hostname per
 * deployed environment, the services it binds to, the secrets it needs. Add feature flags and production
 * tests here; \`lego validate\` checks this file against the wrangler config before every deploy.
 */`;
  if (usesRuntime) {
    return `import { defineDomains } from "@lego/runtime";

${header}
export const domains = defineDomains({
  ${body}
});
`;
  }
  // Without @lego/runtime in package.json, a plain object (the seed's form): lego reads it all the same,
  // and the folder still typechecks without the dependency.
  return `${header}
export const domains = {
  ${body}
};
`;
}

function sameHostnames(w: InitWranglerConfig, config: DomainConfig): string[] {
  const problems: string[] = [];
  const fromWrangler = new Map(deployedEnvironments(w).map(([name, env]) => [name, hostnamesOf(env)]));
  for (const [env, host] of Object.entries(config.domains)) {
    const hosts = fromWrangler.get(env);
    if (!hosts) problems.push(`environment "${env}" (${host}) has no env.${env} in ${w.file}`);
    else if (hosts.length === 0) {
      // Deploying would not route the hostname: `lego validate` fails the same (config.hostname-routed).
      problems.push(`${env}: the domain config says ${host}, ${w.file} has no route or custom domain for it`);
    } else if (!hosts.includes(host.toLowerCase())) {
      problems.push(`${env}: the domain config says ${host}, ${w.file} routes ${hosts.join(", ")}`);
    }
  }
  for (const [env, hosts] of fromWrangler) {
    if (!(env in config.domains) && hosts.length > 0 && !(env in config.environments)) {
      problems.push(
        `${w.file} deploys environment "${env}" (${hosts.join(", ")}), the domain config does not declare it`,
      );
    }
  }
  if (config.name !== w.name)
    problems.push(`the domain config names "${config.name}", ${w.file} names "${w.name}"`);
  return problems;
}

function pickEntry(
  configs: DomainConfig[],
  file: string,
  dir: string,
  name: string | undefined,
): DomainConfig {
  if (configs.length === 1 && name === undefined) return configs[0]!;
  const wanted = name ?? basename(dir);
  const found = configs.find((c) => c.name === wanted);
  if (found) return found;
  throw new UsageError({
    code: "ERR_INIT_NOTHING_TO_READ",
    message: `${file} declares ${configs.map((c) => c.name).join(", ")}; none is named ${JSON.stringify(wanted)}`,
    hint: "Pass --name <service> to pick the entry this folder deploys.",
  });
}

function variablesOf(
  inputs: InitInputs,
  config: DomainConfig | Record<string, unknown> | undefined,
  env: Record<string, string | undefined>,
): {
  variables: InitVariable[];
  warnings: string[];
} {
  const variables: InitVariable[] = [];
  const warnings: string[] = [];
  const accountInConfig =
    (config as { accountId?: string } | undefined)?.accountId ?? inputs.wrangler?.topLevel.accountId;
  variables.push({
    name: "CLOUDFLARE_API_TOKEN",
    kind: "deploy",
    where: "shell, or the token vault (`lego token set`)",
    set: Boolean(env.CLOUDFLARE_API_TOKEN),
    note: env.CLOUDFLARE_API_TOKEN ? undefined : "without it, lego deploys to the local cloud",
  });
  variables.push({
    name: "CLOUDFLARE_ACCOUNT_ID",
    kind: "deploy",
    where: accountInConfig ? "the configs (accountId / account_id)" : "shell",
    set: Boolean(env.CLOUDFLARE_ACCOUNT_ID) || Boolean(accountInConfig),
    note:
      accountInConfig || env.CLOUDFLARE_ACCOUNT_ID
        ? undefined
        : "needed when the token sees several accounts",
  });
  const required = new Set<string>(
    (config as { secrets?: { required?: string[] } } | undefined)?.secrets?.required ?? [],
  );
  if (inputs.wrangler) {
    for (const [, e] of deployedEnvironments(inputs.wrangler))
      for (const s of e.secretsRequired) required.add(s);
  }
  const envNames = inputs.wrangler
    ? deployedEnvironments(inputs.wrangler).map(([n]) => n)
    : Object.keys((config as DomainConfig | undefined)?.domains ?? {});
  for (const secret of [...required].sort()) {
    for (const name of envNames) {
      variables.push({
        name: secret,
        kind: "secret",
        where: `wrangler secret put ${secret} --env ${name}`,
        set: undefined,
        note: "only the account knows; `lego validate --level comprehensive` checks it",
      });
    }
    variables.push({
      name: secret,
      kind: "secret",
      where: ".dev.vars (wrangler dev)",
      set: inputs.devVars.includes(secret),
    });
  }
  if (inputs.wrangler) {
    const sections: Array<[string, Record<string, unknown> | undefined]> = [
      ["vars", inputs.wrangler.raw.vars as Record<string, unknown> | undefined],
      ...inputs.wrangler.envNames.map(
        (n) =>
          [
            `env.${n}.vars`,
            ((inputs.wrangler!.raw.env as Record<string, Record<string, unknown>>)?.[n]?.vars ?? undefined) as
              | Record<string, unknown>
              | undefined,
          ] as [string, Record<string, unknown> | undefined],
      ),
    ];
    for (const [where, vars] of sections) {
      for (const name of Object.keys(vars ?? {})) {
        if (required.has(name)) {
          warnings.push(
            `${name} is a required secret but ${inputs.wrangler.file} sets it as a plain var (${where}): anyone who can read the config sees it; use \`wrangler secret put\``,
          );
        }
        variables.push({ name, kind: "var", where: `${inputs.wrangler.file} ${where}`, set: true });
      }
    }
  }
  return { variables, warnings };
}

/**
 * Decides what `lego init` writes in an existing Worker folder (pure: the folder was read into `inputs`).
 * - wrangler config, no domain config: the domain config from the wrangler config;
 * - domain config, no wrangler config: a wrangler.jsonc from the domain config;
 * - both: checks they agree (exit 4 when not, unless `force` regenerates one `from` the other);
 * - neither: exit 2 (`initService` scaffolds instead when a `type` is given).
 * Always lists the variables and secrets the service needs.
 */
export function planInit(
  inputs: InitInputs,
  options: Pick<InitOptions, "force" | "from" | "domain" | "name" | "env">,
): InitPlan {
  const read = [inputs.wrangler?.file, inputs.domainConfig?.file].filter((f): f is string => Boolean(f));
  const files: InitPlan["files"] = [];
  const warnings: string[] = [];
  let action: InitPlan["action"] = "generate";
  let entry: DomainConfig | undefined;
  let generatedDomain: Record<string, unknown> | undefined;

  if (options.from && !options.force) {
    const target =
      options.from === "wrangler"
        ? (inputs.domainConfig?.file ?? "the domain config")
        : (inputs.wrangler?.file ?? "wrangler.jsonc");
    if (
      (options.from === "wrangler" && inputs.domainConfig) ||
      (options.from === "domains" && inputs.wrangler)
    ) {
      throw new ConflictError({
        code: "ERR_INIT_FILE_EXISTS",
        message: `--from ${options.from} would overwrite ${target}`,
        hint: "Add --force to overwrite it; commit or back it up first.",
      });
    }
  }
  if (options.force && !options.from && inputs.wrangler && inputs.domainConfig) {
    throw new UsageError({
      code: "ERR_INIT_FILE_EXISTS",
      message: "--force needs --from wrangler or --from domains: both configs exist",
      hint: "--from wrangler rewrites the domain config from the wrangler config; --from domains the reverse.",
    });
  }

  const domainFromWrangler = (w: InitWranglerConfig, overwrite: boolean) => {
    const existing = inputs.domainConfig?.file;
    const file =
      existing ??
      (inputs.main && /\.[cm]?js$/.test(inputs.main) ? "src/config/domains.js" : "src/config/domains.ts");
    const { config, warnings: w2 } = domainConfigFromWrangler(w, { domain: options.domain });
    warnings.push(...w2);
    generatedDomain = config;
    files.push({ path: file, contents: renderDomainFile(config, inputs.usesRuntime), overwrite });
  };
  const wranglerFromDomain = (config: DomainConfig, overwrite: boolean) => {
    const file = inputs.wrangler?.file ?? "wrangler.jsonc";
    if (file !== "wrangler.jsonc" && file !== "wrangler.json") {
      throw new UsageError({
        code: "ERR_INIT_FILE_EXISTS",
        message: `${file} is TOML; lego init writes wrangler.jsonc and will not leave two wrangler configs`,
        hint: `Delete ${file} first (wrangler reads wrangler.json, then wrangler.jsonc, then wrangler.toml), or fix it by hand.`,
      });
    }
    const main = inputs.main ?? "src/index.ts";
    if (!inputs.main) {
      warnings.push(
        `no Worker entry found (${MAIN_CANDIDATES.join(", ")}); wrangler.jsonc says main: "src/index.ts"`,
      );
    }
    const { config: raw, warnings: w2 } = wranglerConfigFromDomain(config, main);
    warnings.push(...w2);
    const header = `// Wrangler config of ${config.name}, generated by \`lego init\` from ${inputs.domainConfig!.file}.\n// Add bindings (d1_databases, services, ...) to the top level and to every env: wrangler does not inherit them.\n`;
    files.push({ path: file, contents: `${header}${toJson(raw)}\n`, overwrite });
  };

  if (inputs.wrangler && !inputs.domainConfig) {
    domainFromWrangler(inputs.wrangler, false);
  } else if (inputs.domainConfig && !inputs.wrangler) {
    entry = pickEntry(inputs.domainConfig.configs, inputs.domainConfig.file, inputs.dir, options.name);
    wranglerFromDomain(entry, false);
  } else if (inputs.wrangler && inputs.domainConfig) {
    entry = pickEntry(
      inputs.domainConfig.configs,
      inputs.domainConfig.file,
      inputs.dir,
      options.name ?? inputs.wrangler.name,
    );
    if (options.force && options.from === "wrangler") {
      action = "regenerate";
      domainFromWrangler(inputs.wrangler, true);
    } else if (options.force && options.from === "domains") {
      action = "regenerate";
      wranglerFromDomain(entry, true);
    } else {
      action = "check";
      const problems = sameHostnames(inputs.wrangler, entry);
      if (problems.length > 0) {
        throw new ConflictError({
          code: "ERR_INIT_CONFIG_MISMATCH",
          message: `${inputs.wrangler.file} and ${inputs.domainConfig.file} disagree: ${problems.join("; ")}`,
          hint: "Fix one of them; or regenerate one from the other with --force --from wrangler (rewrites the domain config) or --force --from domains (rewrites the wrangler config).",
          details: { problems },
        });
      }
    }
  } else {
    throw new UsageError({
      code: "ERR_INIT_NOTHING_TO_READ",
      message: `${inputs.dir} has no wrangler config (${WRANGLER_FILES.join(", ")}) and no domain config (${DOMAIN_FILES[0]})`,
      hint: "Run lego init in a Worker folder; or pass --type <api-gateway|data-service|auth-service|static-site> to create a new service (an empty folder only).",
    });
  }

  const { variables, warnings: varWarnings } = variablesOf(inputs, entry ?? generatedDomain, options.env);
  warnings.push(...varWarnings);
  const nextSteps: string[] = [];
  if (files.some((f) => f.path.includes("domains")))
    nextSteps.push("review the generated domain config: add feature flags and production tests");
  if (files.some((f) => f.path.startsWith("wrangler")))
    nextSteps.push("review wrangler.jsonc: add the Worker's bindings to every environment");
  for (const v of variables) if (v.kind === "secret" && v.set === undefined) nextSteps.push(v.where);
  nextSteps.push("lego validate");
  return { dir: inputs.dir, action, read, files, variables, warnings, nextSteps: [...new Set(nextSteps)] };
}

async function readDevVarNames(file: string): Promise<string[]> {
  if (!existsSync(file)) return [];
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .map((line) => /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1])
    .filter((n): n is string => Boolean(n));
}

/** Reads a service folder into {@link InitInputs}, parsing both configs with @lego/discovery. */
export async function readInitInputs(dir: string): Promise<InitInputs> {
  const discovery = await import("@lego/discovery");
  const existing = [
    ...WRANGLER_FILES,
    ...DOMAIN_FILES,
    ...MAIN_CANDIDATES,
    "package.json",
    ".dev.vars",
  ].filter((f) => existsSync(join(dir, f)));
  const wranglerFile = WRANGLER_FILES.find((f) => existing.includes(f));
  let wrangler: InitWranglerConfig | undefined;
  if (wranglerFile) {
    const parsed = discovery.parseWranglerConfig(
      await readFile(join(dir, wranglerFile), "utf8"),
      wranglerFile,
    );
    if (!parsed.ok) {
      const first = parsed.problems[0]!;
      throw new UsageError({
        code: "ERR_CONFIG_INVALID",
        message: `${first.file}: ${first.keyPath}: ${first.message}${parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more)` : ""}`,
        hint: "Fix the wrangler config; wrangler would reject it too.",
        details: { problems: parsed.problems },
      });
    }
    wrangler = parsed.config;
  }
  const domainFile = DOMAIN_FILES.find((f) => existing.includes(f));
  let domainConfig: InitInputs["domainConfig"];
  if (domainFile) {
    const loader = discovery.createModuleLoader({ displayPath: () => domainFile });
    const { modules, errors } = await loader.loadAll([join(dir, domainFile)]);
    const error = errors.get(join(dir, domainFile));
    if (error) throw error;
    const result = await discovery.readDomainConfigExports(
      modules.get(join(dir, domainFile))!.exports,
      domainFile,
    );
    if (!result.ok) {
      const first = result.problems[0]!;
      throw new UsageError({
        code: "ERR_CONFIG_INVALID",
        message: `${first.file}: ${first.keyPath}: ${first.message}`,
        hint: "Fix the domain config; lego validate reports every problem.",
        details: { problems: result.problems },
      });
    }
    domainConfig = { file: domainFile, configs: result.configs };
  }
  let usesRuntime = false;
  if (existing.includes("package.json")) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Record<
        string,
        Record<string, string>
      >;
      usesRuntime = Boolean(pkg.dependencies?.["@lego/runtime"] ?? pkg.devDependencies?.["@lego/runtime"]);
    } catch {
      usesRuntime = false;
    }
  }
  const main = wrangler?.topLevel.main ?? MAIN_CANDIDATES.find((f) => existing.includes(f));
  return {
    dir,
    wrangler,
    domainConfig,
    existing,
    main,
    usesRuntime,
    devVars: await readDevVarNames(join(dir, ".dev.vars")),
  };
}

/**
 * `lego init`: in an existing Worker folder, generates what is missing (the domain config from the
 * wrangler config, or a wrangler.jsonc from the domain config), checks that both agree, and lists the
 * variables and secrets the service needs. Never overwrites a file without `force` (and `from`); in an
 * empty folder with a `type`, scaffolds a new service instead.
 *
 * @example
 * const result = await initService({ dir: "services/legacy", cwd: process.cwd(), env: process.env });
 * result.written; // ["src/config/domains.ts"]
 */
export async function initService(options: InitOptions): Promise<InitResult> {
  const dir = resolve(options.cwd, options.dir);
  const entries = await nonEmptyEntries(dir);
  if (entries.length === 0 && options.type) {
    const seedDomains = options.domains === undefined ? undefined : parseSeedDomains(options.domains);
    const main = seedDomains?.find((d) => d.environment === "production") ?? seedDomains?.[0];
    const scaffold: ScaffoldResult = await scaffoldService(
      {
        name: options.name ?? basename(dir),
        type: options.type,
        dir,
        domain: options.domain ?? seedDomains?.find((d) => d.environment === "production")?.hostname,
        environments:
          options.environments ?? seedDomains?.map((d) => d.environment).sort((a, b) => a.localeCompare(b)),
        ...(seedDomains
          ? {
              hostnames: Object.fromEntries(seedDomains.map((d) => [d.environment, d.hostname])),
              accountId: main?.accountId,
              zoneId: main?.zoneId,
            }
          : {}),
      },
      { cwd: options.cwd },
    );
    const plan = scaffold.plan;
    return {
      dir,
      action: "scaffold",
      read: [],
      files: plan.files.map((f) => ({ ...f, overwrite: false })),
      written: scaffold.files,
      variables: [],
      warnings: [],
      nextSteps: plan.nextSteps,
    };
  }
  const inputs = await readInitInputs(dir);
  if (options.type && !inputs.wrangler && !inputs.domainConfig) {
    throw new UsageError({
      code: "ERR_SCAFFOLD_DIR_NOT_EMPTY",
      message: `${dir} is not empty (${entries.slice(0, 5).join(", ")}) and has no Worker configs; --type only creates a service in an empty folder`,
      hint: "Pick an empty folder, or add a wrangler config and run lego init without --type.",
    });
  }
  const plan = planInit(inputs, options);
  const written: string[] = [];
  for (const file of plan.files) {
    const path = join(dir, file.path);
    if (file.overwrite) await writeFileAtomic(path, file.contents);
    else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.contents, { flag: "wx" });
    }
    written.push(file.path);
  }
  return { ...plan, written };
}
