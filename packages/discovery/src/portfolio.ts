import { readdirSync, readFileSync, statSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { type Clock, createNullLogger, type Logger, UsageError } from "@lego/core";
import type { DomainConfig } from "@lego/runtime";
import { ConfigurationCacheManager, type InputStamp, stampInputs } from "./cache.ts";
import { DOMAIN_CONFIG_FILES, readDomainConfigExports } from "./domain-config.ts";
import { expandFolderGlobs } from "./glob.ts";
import { buildDependencyGraph, type DependencyEdge } from "./graph.ts";
import { formatKeyPath } from "./key-path.ts";
import type { Portfolio, PortfolioService, ServiceEnvironment } from "./model.ts";
import { createModuleLoader } from "./module-loader.ts";
import {
  type ConfigProblem,
  MAX_CONFIG_BYTES,
  parseConfigText,
  parseWranglerConfig,
  WRANGLER_CONFIG_FILES,
  type WranglerConfig,
  type WranglerEnvironment,
} from "./wrangler-config.ts";

/** The folders scanned when there is no `lego.config.*`. */
export const DEFAULT_SERVICE_PATTERNS = ["services/*", "examples/*"] as const;

/** Portfolio config files, in order of preference. */
export const LEGO_CONFIG_FILES = [
  "lego.config.ts",
  "lego.config.mts",
  "lego.config.js",
  "lego.config.mjs",
  "lego.config.json",
] as const;

/** Options of {@link scanPortfolio}. */
export interface ScanPortfolioOptions {
  /** The portfolio root (absolute, or resolved against nothing but itself: pass an absolute path). */
  root: string;
  logger?: Logger | undefined;
  /**
   * The discovery cache. `true` (default) uses `<root>/.lego/cache/`; `false` neither reads nor writes
   * it; or pass a manager (to share its clock and TTL).
   */
  cache?: boolean | ConfigurationCacheManager | undefined;
  /** Ignore what is cached and read every config again (the cache is still rewritten). */
  refresh?: boolean | undefined;
  clock?: Clock | undefined;
}

const PORTFOLIO_ENTRY = "portfolio-index";

/**
 * A file or folder a cached service was read from, compact (the index holds ~4 per service, and a warm
 * scan reads them all): `[path relative to the root, mtimeMs, size]`, or `[path]` when it was missing.
 */
type IndexStamp = [path: string, mtimeMs: number, size: number] | [path: string];

function packStamps(root: string, stamps: readonly InputStamp[]): IndexStamp[] {
  return stamps.map((stamp) => {
    const rel = relative(root, stamp.path);
    return "missing" in stamp ? [rel] : [rel, stamp.mtimeMs, stamp.size];
  });
}

/** True when every stamped path still has the same mtime and size (or is still missing). */
function stampsUnchanged(root: string, stamps: readonly IndexStamp[]): boolean {
  const prefix = root.endsWith(sep) ? root : root + sep;
  for (const [path, mtimeMs, size] of stamps) {
    // Concatenation rather than join(): thousands of paths, and the OS resolves any `..` itself.
    const stat = statSync(isAbsolute(path) ? path : prefix + path, { throwIfNoEntry: false });
    if (mtimeMs === undefined) {
      if (stat) return false;
    } else if (!stat || stat.mtimeMs !== mtimeMs || stat.size !== size) {
      return false;
    }
  }
  return true;
}

interface CachedService {
  dir: string;
  scannedAt: number;
  stamps: IndexStamp[];
  service: PortfolioService;
}

interface PortfolioIndex {
  root: string;
  patterns: string[];
  configFile?: string | undefined;
  configStamps: IndexStamp[];
  /** Sorted by service name, as `Portfolio.services`. */
  services: CachedService[];
  skipped: Portfolio["skipped"];
  /** What the services assemble into, served as is when nothing changed. */
  graph: Portfolio["graph"];
  externalBindings: Portfolio["externalBindings"];
}

const toPosix = (path: string): string => path.split(sep).join("/");

function uniq<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}

function fileExists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** The error a scan throws when configs are malformed: the first problem in the message, all in details. */
function problemsError(problems: ConfigProblem[], parseErrors: UsageError[]): UsageError {
  if (problems.length === 0 && parseErrors.length === 1) return parseErrors[0]!;
  const lines = [
    ...parseErrors.map((e) => e.message),
    ...problems.map((p) => `${p.file}: ${p.keyPath}: ${p.message}`),
  ];
  const more =
    lines.length > 1 ? ` (and ${lines.length - 1} more problem${lines.length > 2 ? "s" : ""})` : "";
  return new UsageError({
    code:
      parseErrors.length > 0 && problems.length === 0
        ? "ERR_CONFIG_PARSE"
        : (parseErrors[0]?.code ?? "ERR_CONFIG_INVALID"),
    message: `${lines[0]}${more}`,
    hint:
      lines.length > 1
        ? `Fix each of these:\n  ${lines.slice(0, 20).join("\n  ")}${lines.length > 20 ? "\n  ..." : ""}`
        : "Fix that key; `lego validate` checks the whole portfolio once it parses.",
    details: { problems: [...parseErrors.map((e) => ({ message: e.message, ...e.details })), ...problems] },
  });
}

async function readLegoConfig(
  root: string,
  loader: () => ReturnType<typeof createModuleLoader>,
): Promise<{ file?: string; patterns: string[] }> {
  const file = LEGO_CONFIG_FILES.find((name) => fileExists(join(root, name)));
  if (!file) return { patterns: [...DEFAULT_SERVICE_PATTERNS] };
  const path = join(root, file);
  let value: unknown;
  if (file.endsWith(".json")) {
    value = parseConfigText(readFileSync(path, "utf8"), file);
  } else {
    const { modules, errors } = await loader().loadAll([path]);
    const error = errors.get(path);
    if (error) throw error;
    const exports = modules.get(path)!.exports;
    value = exports.default ?? exports;
  }
  const services = (value as { services?: unknown } | undefined)?.services;
  if (services === undefined) return { file, patterns: [...DEFAULT_SERVICE_PATTERNS] };
  if (!Array.isArray(services) || services.some((s) => typeof s !== "string" || s.trim() === "")) {
    throw new UsageError({
      code: "ERR_CONFIG_INVALID",
      message: `${file}: services: must be an array of folder globs such as "services/*"`,
      hint: 'Write { "services": ["services/*", "examples/*"] }.',
      details: { file, keyPath: "services" },
    });
  }
  return { file, patterns: services as string[] };
}

function serviceInputPaths(serviceDir: string): string[] {
  // The folders where a config file can appear (a wrangler config, a domain config). `src/config` is
  // stamped even when missing, which also covers `src` appearing with it.
  return [serviceDir, join(serviceDir, "src", "config")];
}

/**
 * Maps the domain config's environments onto the wrangler config's: environment `e` uses `env.e`;
 * `production` falls back to the top level when there is no `env.production` (`wrangler deploy
 * --env=""`). A wrangler config without a domain config gets `production` (top level) plus each of
 * its `env.*` sections.
 */
function buildEnvironments(
  wrangler: WranglerConfig,
  domain: DomainConfig | undefined,
): { names: string[]; environments: Record<string, ServiceEnvironment> } {
  const domainEnvs = domain ? Object.keys(domain.domains) : [];
  const wranglerEnvs = [...wrangler.envNames];
  const topLevelServes = wrangler.environments.production === undefined ? "production" : undefined;
  const names = uniq([
    ...domainEnvs,
    ...(domain ? [] : topLevelServes ? [topLevelServes] : []),
    ...wranglerEnvs,
  ]);
  const environments: Record<string, ServiceEnvironment> = {};
  const domainSecrets = domain?.secrets.required ?? [];
  for (const name of names) {
    const section: WranglerEnvironment | undefined =
      wrangler.environments[name] ?? (name === topLevelServes ? wrangler.topLevel : undefined);
    const hostname = domain?.domains[name]?.toLowerCase();
    const routeHosts = (section?.routes ?? [])
      .map((r) => r.hostname)
      .filter((h) => h !== "" && !h.includes("*"));
    environments[name] = {
      name,
      wranglerEnv: section?.wranglerEnv,
      scriptName: section?.scriptName ?? `${wrangler.name}-${name}`,
      ...(hostname ? { hostname } : {}),
      hostnames: uniq([...(hostname ? [hostname] : []), ...routeHosts]),
      routes: section?.routes ?? [],
      workersDev: section?.workersDev ?? false,
      d1Databases: section?.d1Databases ?? [],
      serviceBindings: section?.serviceBindings ?? [],
      secretsRequired: uniq([...domainSecrets, ...(section?.secretsRequired ?? [])]),
      ...(section?.accountId ? { accountId: section.accountId } : {}),
      declaredBy: { domainConfig: hostname !== undefined, wrangler: section !== undefined },
    };
  }
  return { names, environments };
}

function pickDomainEntry(
  configs: DomainConfig[],
  wrangler: WranglerConfig,
  file: string,
): { config?: DomainConfig; others: string[]; problem?: ConfigProblem } {
  if (configs.length <= 1) return { config: configs[0], others: [] };
  const match = configs.find((c) => c.name === wrangler.name);
  if (!match) {
    return {
      others: [],
      problem: {
        file,
        keyPath: "domains",
        message: `declares ${configs.length} services (${configs.map((c) => c.name).join(", ")}) and none is named "${wrangler.name}" like ${wrangler.file}; a service folder deploys one Worker`,
      },
    };
  }
  return { config: match, others: configs.filter((c) => c !== match).map((c) => c.name) };
}

function buildService(
  root: string,
  dir: string,
  wrangler: WranglerConfig,
  domain: DomainConfig | undefined,
  domainFile: string | undefined,
  others: string[],
  problems: ConfigProblem[],
): PortfolioService {
  const { names, environments } = buildEnvironments(wrangler, domain);
  return {
    ...(problems.length > 0 ? { problems } : {}),
    name: domain?.name ?? wrangler.name,
    ...(domain?.displayName ? { displayName: domain.displayName } : {}),
    path: join(root, dir),
    dir,
    wranglerConfigFile: wrangler.file,
    ...(domainFile ? { domainConfigFile: domainFile } : {}),
    wranglerName: wrangler.name,
    ...(domain?.accountId
      ? { accountId: domain.accountId }
      : wrangler.topLevel.accountId
        ? { accountId: wrangler.topLevel.accountId }
        : {}),
    ...(domain?.zoneId ? { zoneId: domain.zoneId } : {}),
    environmentNames: names,
    environments,
    dependsOn: domain?.dependsOn ?? [],
    features: domain?.features ?? {},
    ...(domain ? { tests: domain.tests } : {}),
    secretsRequired: domain?.secrets.required ?? [],
    ...(domain ? { domainConfig: domain } : {}),
    ...(others.length > 0 ? { otherDomainEntries: others } : {}),
  };
}

/** A config too big to be a hand-written one (see MAX_CONFIG_BYTES): a problem, else undefined. */
function oversized(path: string, file: string): ConfigProblem | undefined {
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size <= MAX_CONFIG_BYTES) return undefined;
  return {
    file,
    keyPath: "(file)",
    message: `is ${(size / 1024 / 1024).toFixed(1)} MiB; Lego reads configs up to ${MAX_CONFIG_BYTES / 1024 / 1024} MiB (a hand-written config is a few KB: this one is generated or pasted by mistake)`,
  };
}

/** Migration file names wrangler and Lego handle everywhere: no spaces, quotes or shell characters. */
const MIGRATION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.sql$/;

/**
 * What the wrangler config points to on disk: `main` must be a file, a declared `migrations_dir` a
 * folder (`problems`: these block a deploy or migration of the service, not a listing), and every
 * migration in it well named (`fatal`: the scan refuses). Also returns the paths to stamp, so the
 * cache notices when they change.
 */
function checkPaths(
  serviceDir: string,
  wrangler: WranglerConfig,
): { problems: ConfigProblem[]; fatal: ConfigProblem[]; stamp: string[] } {
  const problems: ConfigProblem[] = [...wrangler.deployProblems];
  const fatal: ConfigProblem[] = [];
  const stamp: string[] = [];
  const seen = new Set<string>();
  for (const ref of wrangler.paths) {
    const abs = resolve(serviceDir, ref.path);
    const key = `${ref.kind}:${abs}`;
    const first = !seen.has(key);
    seen.add(key);
    const stat = statSync(abs, { throwIfNoEntry: false });
    if (first) stamp.push(abs);
    const at = { file: wrangler.file, keyPath: ref.keyPath };
    if (ref.kind === "main") {
      if (!stat?.isFile())
        problems.push({
          ...at,
          message: `"${ref.path}" ${stat ? "is not a file" : "does not exist"}; it is the module wrangler deploys`,
        });
      continue;
    }
    if (!stat) {
      if (ref.declared)
        problems.push({ ...at, message: `"${ref.path}" does not exist; create the folder or fix the path` });
      continue;
    }
    if (!stat.isDirectory()) {
      problems.push({ ...at, message: `"${ref.path}" is not a folder` });
      continue;
    }
    if (!first) continue;
    let names: string[] = [];
    try {
      names = readdirSync(abs);
    } catch {
      names = [];
    }
    for (const name of names.filter((n) => n.toLowerCase().endsWith(".sql")).sort()) {
      if (!MIGRATION_NAME.test(name))
        fatal.push({
          ...at,
          message: `migration "${name}" in "${ref.path}" has a name wrangler and Lego refuse; rename it like 0002_add_index.sql (letters, digits, "_", "-", ".")`,
        });
    }
  }
  return { problems, fatal, stamp };
}

interface ReadResult {
  services: CachedService[];
  skipped: Portfolio["skipped"];
}

/** Reads the services in `dirs` from disk. Throws one error listing every malformed config. */
async function readServices(
  root: string,
  dirs: string[],
  now: number,
  logger: Logger,
  loader: () => ReturnType<typeof createModuleLoader>,
): Promise<ReadResult> {
  const problems: ConfigProblem[] = [];
  const parseErrors: UsageError[] = [];
  const skipped: Portfolio["skipped"] = [];
  const pending: Array<{
    dir: string;
    stamps: InputStamp[];
    wrangler: WranglerConfig;
    pathProblems: ConfigProblem[];
    domainPath?: string;
  }> = [];

  for (const dir of dirs) {
    const abs = join(root, dir);
    // Stamp before reading: an edit racing the scan then invalidates the entry instead of hiding in it.
    const stamps = stampInputs(serviceInputPaths(abs));
    const wranglerName = WRANGLER_CONFIG_FILES.find((name) => fileExists(join(abs, name)));
    const domainName = DOMAIN_CONFIG_FILES.find((name) => fileExists(join(abs, name)));
    if (!wranglerName) {
      if (domainName) {
        skipped.push({ dir, reason: `${dir}/${domainName} has no wrangler config beside it` });
        logger.warn(`Skipping ${dir}: a domain config but no wrangler config (run lego init there)`, { dir });
      }
      continue;
    }
    const wranglerFile = `${dir}/${wranglerName}`;
    const wranglerPath = join(abs, wranglerName);
    stamps.push(...stampInputs([wranglerPath]));
    const tooBig =
      oversized(wranglerPath, wranglerFile) ??
      (domainName ? oversized(join(abs, domainName), `${dir}/${domainName}`) : undefined);
    if (tooBig) {
      problems.push(tooBig);
      continue;
    }
    try {
      const parsed = parseWranglerConfig(readFileSync(wranglerPath, "utf8"), wranglerFile);
      if (!parsed.ok) {
        problems.push(...parsed.problems);
        continue;
      }
      const domainPath = domainName ? join(abs, domainName) : undefined;
      if (domainPath) stamps.push(...stampInputs([domainPath]));
      const paths = checkPaths(abs, parsed.config);
      // A badly named migration is refused by every command, so `lego db migrate` never applies one.
      if (paths.fatal.length > 0) {
        problems.push(...paths.fatal);
        continue;
      }
      stamps.push(...stampInputs(paths.stamp));
      pending.push({
        dir,
        stamps,
        wrangler: parsed.config,
        pathProblems: paths.problems,
        ...(domainPath ? { domainPath } : {}),
      });
    } catch (error) {
      if (error instanceof UsageError) parseErrors.push(error);
      else throw error;
    }
  }

  const domainPaths = pending.flatMap((p) => (p.domainPath ? [p.domainPath] : []));
  // The schema that validates what the configs export loads here while a worker thread evaluates them.
  if (domainPaths.length > 0) import("@lego/runtime").catch(() => undefined);
  const { modules, errors } =
    domainPaths.length > 0 ? await loader().loadAll(domainPaths) : { modules: new Map(), errors: new Map() };
  const services: CachedService[] = [];
  for (const item of pending) {
    let domain: DomainConfig | undefined;
    let others: string[] = [];
    let domainFile: string | undefined;
    if (item.domainPath) {
      domainFile = toPosix(relative(root, item.domainPath));
      const error = errors.get(item.domainPath);
      if (error) {
        parseErrors.push(error);
        continue;
      }
      const loaded = modules.get(item.domainPath)!;
      const extra = loaded.inputs.filter((p: string) => p !== item.domainPath);
      if (extra.length > 0) item.stamps.push(...stampInputs(extra));
      const result = await readDomainConfigExports(loaded.exports, domainFile);
      if (!result.ok) {
        problems.push(...result.problems);
        continue;
      }
      if (result.configs.length === 0) {
        problems.push({
          file: domainFile,
          keyPath: "domains",
          message:
            'declares no service; export const domains = { "<service>": { name, domains: { production: "<hostname>" } } }',
        });
        continue;
      }
      const picked = pickDomainEntry(result.configs, item.wrangler, domainFile);
      if (picked.problem) {
        problems.push(picked.problem);
        continue;
      }
      domain = picked.config;
      others = picked.others;
    }
    services.push({
      dir: item.dir,
      scannedAt: now,
      stamps: packStamps(root, item.stamps),
      service: buildService(root, item.dir, item.wrangler, domain, domainFile, others, item.pathProblems),
    });
  }
  if (problems.length > 0 || parseErrors.length > 0) throw problemsError(problems, parseErrors);
  return { services, skipped };
}

/** Service binding and dependsOn edges, plus bindings to scripts outside the portfolio. */
function dependencyEdges(services: PortfolioService[]): {
  edges: DependencyEdge[];
  external: Portfolio["externalBindings"];
} {
  const byScript = new Map<string, string>();
  for (const s of services) {
    byScript.set(s.wranglerName, s.name);
    for (const env of Object.values(s.environments)) byScript.set(env.scriptName, s.name);
  }
  const edges: DependencyEdge[] = [];
  const external: Portfolio["externalBindings"] = [];
  for (const s of services) {
    for (const env of Object.values(s.environments)) {
      for (const [index, b] of env.serviceBindings.entries()) {
        const target = byScript.get(b.service);
        const key = env.wranglerEnv
          ? formatKeyPath(["env", env.wranglerEnv, "services", index])
          : `services[${index}]`;
        if (target)
          edges.push({
            from: s.name,
            to: target,
            via: "binding",
            environment: env.name,
            binding: b.binding,
            source: `${s.wranglerConfigFile} ${key}`,
          });
        else external.push({ service: s.name, environment: env.name, binding: b.binding, script: b.service });
      }
    }
    for (const dep of s.dependsOn)
      edges.push({
        from: s.name,
        to: dep,
        via: "dependsOn",
        source: `${s.domainConfigFile ?? "the domain config"} dependsOn`,
      });
  }
  return { edges, external };
}

function assemble(
  root: string,
  legoConfig: { file?: string; patterns: string[] },
  entries: CachedService[],
  skipped: Portfolio["skipped"],
  source: Portfolio["source"],
): Portfolio {
  const services = entries.map((e) => e.service).sort((a, b) => a.name.localeCompare(b.name));
  const seen = new Map<string, PortfolioService>();
  for (const s of services) {
    const other = seen.get(s.name);
    if (other) {
      throw new UsageError({
        code: "ERR_SERVICE_DUPLICATE",
        message: `Two services are named "${s.name}": ${other.dir} and ${s.dir}`,
        hint: "Service names are Worker names and must be unique in a portfolio; rename one in its domain config and wrangler config.",
        details: { name: s.name, dirs: [other.dir, s.dir] },
      });
    }
    seen.set(s.name, s);
  }
  const { edges, external } = dependencyEdges(services);
  return {
    root,
    ...(legoConfig.file ? { configFile: legoConfig.file } : {}),
    patterns: legoConfig.patterns,
    services,
    graph: buildDependencyGraph(
      services.map((s) => s.name),
      edges,
    ),
    externalBindings: external,
    skipped,
    source,
  };
}

/**
 * Scans a portfolio: every folder matched by `lego.config.*`'s `services` globs (default `services/*`
 * and `examples/*`) that holds a wrangler config is a service, read from that config and from its
 * domain config (`src/config/domains.ts` or `.js`) validated with `@lego/runtime`'s schema. Services
 * are matched by what their configs say, never by folder name or a substring of a file.
 *
 * Malformed configs throw one `UsageError` (exit 2) naming each file and key path. Results are cached
 * under `<root>/.lego/cache/` and re-read per service when any of its files changes.
 *
 * @example
 * const portfolio = await scanPortfolio({ root: "/repo" });
 * portfolio.services.map((s) => s.environments.production?.hostname);
 * topologicalOrder(portfolio.graph); // dependencies first
 */
export async function scanPortfolio(options: ScanPortfolioOptions): Promise<Portfolio> {
  const root = resolve(options.root);
  const logger = options.logger ?? createNullLogger();
  const rootStat = statSync(root, { throwIfNoEntry: false });
  if (!rootStat?.isDirectory()) {
    throw new UsageError({
      code: "ERR_ROOT_NOT_FOUND",
      message: `Portfolio root ${root} is not a folder`,
      hint: "Pass --root with the folder that holds services/ (or lego.config.json).",
      details: { root },
    });
  }
  const cache =
    options.cache === false
      ? undefined
      : options.cache instanceof ConfigurationCacheManager
        ? options.cache
        : new ConfigurationCacheManager({ root, clock: options.clock, logger });
  const display = (file: string) => toPosix(relative(root, file));
  let moduleLoader: ReturnType<typeof createModuleLoader> | undefined;
  const loader = () => (moduleLoader ??= createModuleLoader({ displayPath: display }));

  const configStampPaths = LEGO_CONFIG_FILES.map((name) => join(root, name));
  const indexFile = cache?.pathFor(PORTFOLIO_ENTRY);
  const cached =
    cache && indexFile && !options.refresh
      ? cache.readEntry<PortfolioIndex>(indexFile, PORTFOLIO_ENTRY, { inputs: false })?.value
      : undefined;
  const now = cache?.now() ?? options.clock?.now() ?? Date.now();

  let legoConfig: { file?: string; patterns: string[] };
  let configStamps: IndexStamp[];
  if (cached && cached.root === root && stampsUnchanged(root, cached.configStamps)) {
    legoConfig = { ...(cached.configFile ? { file: cached.configFile } : {}), patterns: cached.patterns };
    configStamps = cached.configStamps;
  } else {
    configStamps = packStamps(root, stampInputs(configStampPaths));
    legoConfig = await readLegoConfig(root, loader);
  }
  const dirs = await expandFolderGlobs(root, legoConfig.patterns);

  const reusable = new Map<string, CachedService>();
  if (cached && cached.root === root && cached.patterns.join("\n") === legoConfig.patterns.join("\n")) {
    const ttl = cache!.ttlMs;
    for (const entry of cached.services) {
      if (now - entry.scannedAt <= ttl && stampsUnchanged(root, entry.stamps)) reusable.set(entry.dir, entry);
    }
  }
  const toRead = dirs.filter((dir) => !reusable.has(dir));
  // Folders that are not services (no wrangler config) are looked at again each time: two stats each.
  const fresh =
    toRead.length > 0 ? await readServices(root, toRead, now, logger, loader) : { services: [], skipped: [] };
  const byDir = new Map(fresh.services.map((s) => [s.dir, s]));
  const entries = dirs.flatMap((dir) => {
    const entry = reusable.get(dir) ?? byDir.get(dir);
    return entry ? [entry] : [];
  });
  const skipped = fresh.skipped;
  const unchanged =
    cached !== undefined &&
    fresh.services.length === 0 &&
    reusable.size === cached.services.length &&
    JSON.stringify(skipped) === JSON.stringify(cached.skipped);

  const state: Portfolio["source"] = !cache
    ? { cache: "off", rescanned: fresh.services.length }
    : unchanged
      ? { cache: "hit", rescanned: 0 }
      : reusable.size > 0
        ? { cache: "partial", rescanned: fresh.services.length }
        : { cache: "miss", rescanned: fresh.services.length };
  // Nothing changed: the cached assembly (sorted services, dependency graph) is the answer.
  if (unchanged && cached.graph && cached.externalBindings) {
    return {
      root,
      ...(legoConfig.file ? { configFile: legoConfig.file } : {}),
      patterns: legoConfig.patterns,
      services: cached.services.map((e) => e.service),
      graph: cached.graph,
      externalBindings: cached.externalBindings,
      skipped,
      source: state,
    };
  }
  const portfolio = assemble(root, legoConfig, entries, skipped, state);

  // A folder with no services is not a portfolio: scanning it (a wrong --root) leaves nothing behind.
  if (cache && indexFile && portfolio.services.length > 0) {
    const byName = new Map(entries.map((e) => [e.service.name, e]));
    const index: PortfolioIndex = {
      root,
      patterns: legoConfig.patterns,
      ...(legoConfig.file ? { configFile: legoConfig.file } : {}),
      configStamps,
      services: portfolio.services.map((s) => byName.get(s.name)!),
      skipped,
      graph: portfolio.graph,
      externalBindings: portfolio.externalBindings,
    };
    try {
      await cache.writeEntry(indexFile, PORTFOLIO_ENTRY, index, [], Number.MAX_SAFE_INTEGER);
      // After an upgrade the index has a new file name; the old one (a few MB on a large portfolio)
      // would never be read again. Looked for on a full miss only.
      if (state.cache === "miss") await removeStaleIndexes(indexFile);
    } catch (error) {
      logger.warn("Could not write the discovery cache", {
        file: indexFile,
        reason: (error as Error).message,
      });
    }
  }
  return portfolio;
}

/** Deletes `portfolio-index.*.json` files beside `current` left by an older cache format. */
async function removeStaleIndexes(current: string): Promise<void> {
  const dir = dirname(current);
  const names = await readdir(dir).catch(() => [] as string[]);
  const keep = basename(current);
  await Promise.all(
    names
      .filter((n) => n !== keep && n.startsWith(`${PORTFOLIO_ENTRY}.`) && n.endsWith(".json"))
      .map((n) => rm(join(dir, n), { force: true })),
  );
}
