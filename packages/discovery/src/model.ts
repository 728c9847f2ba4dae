import type { DomainConfig, ProductionTests } from "@lego/runtime";
import type { DependencyGraph } from "./graph.ts";
import type { ConfigProblem, D1DatabaseBinding, ServiceBinding, WranglerRoute } from "./wrangler-config.ts";

/** One environment of a service: what `lego deploy --env <name>` acts on. */
export interface ServiceEnvironment {
  /** The environment name, e.g. `staging`. */
  name: string;
  /**
   * The value to pass to wrangler's `--env`: the name of the `env.<name>` section, or `""` for the top
   * level (which serves `production` when the wrangler config has no `env.production`). Undefined when
   * the wrangler config has no section for this environment (a validation error).
   */
  wranglerEnv: string | undefined;
  /** The Worker script this environment deploys: `name` at the top level, else `env.<e>.name ?? <name>-<e>`. */
  scriptName: string;
  /** The hostname the domain config declares for this environment. */
  hostname?: string | undefined;
  /** Every exact hostname of this environment: the domain config's, then wrangler's routes and custom domains. */
  hostnames: string[];
  /** wrangler routes and custom domains, after inheritance. */
  routes: WranglerRoute[];
  workersDev: boolean;
  d1Databases: D1DatabaseBinding[];
  serviceBindings: ServiceBinding[];
  /** Secrets this environment needs: the domain config's `secrets.required` plus wrangler's. */
  secretsRequired: string[];
  accountId?: string | undefined;
  /** Which file declares this environment. */
  declaredBy: { domainConfig: boolean; wrangler: boolean };
}

/** A service of the portfolio, read from its wrangler config and its domain config. Plain JSON. */
export interface PortfolioService {
  /** The domain config's `name`, or the wrangler `name` when there is no domain config. */
  name: string;
  displayName?: string | undefined;
  /** Absolute path of the service folder. */
  path: string;
  /** The folder relative to the portfolio root, POSIX separators: `services/api`. */
  dir: string;
  /** The wrangler config, relative to the root. */
  wranglerConfigFile: string;
  /** The domain config, relative to the root; absent for a service without one. */
  domainConfigFile?: string | undefined;
  /** The top-level wrangler `name`. */
  wranglerName: string;
  accountId?: string | undefined;
  zoneId?: string | undefined;
  /** Environment names: the domain config's order, then environments only wrangler declares. */
  environmentNames: string[];
  environments: Record<string, ServiceEnvironment>;
  /** The domain config's `dependsOn` (service names). */
  dependsOn: string[];
  features: Record<string, boolean>;
  /** Declared production tests (defaults filled in), when there is a domain config. */
  tests?: ProductionTests | undefined;
  /** Secrets every environment needs (the domain config's `secrets.required`). */
  secretsRequired: string[];
  /** The validated domain config entry, reduced to the keys Lego knows. */
  domainConfig?: DomainConfig | undefined;
  /** Other entries of the same domains module, when it declares more than one service (names only). */
  otherDomainEntries?: string[] | undefined;
  /**
   * Problems that stop a deploy or migration of this service but not a listing: `main` missing or
   * not a file, no `compatibility_date`, a declared `migrations_dir` missing, a badly named migration.
   * Absent when there are none. `resolveService` and validation refuse a service that has any.
   */
  problems?: ConfigProblem[] | undefined;
}

/** A scanned portfolio. Plain JSON, so it can be cached and printed with `--json`. */
export interface Portfolio {
  /** Absolute path of the portfolio root. */
  root: string;
  /** The `lego.config.*` file used, relative to the root. */
  configFile?: string | undefined;
  /** The folder globs that were scanned. */
  patterns: string[];
  /** Services sorted by name. */
  services: PortfolioService[];
  /** Service bindings and `dependsOn` as a graph, with a deploy order and any cycles. */
  graph: DependencyGraph;
  /** Bindings to scripts no service of the portfolio deploys (often a mistake; the validator checks them). */
  externalBindings: Array<{ service: string; environment: string; binding: string; script: string }>;
  /** Folders matched by the globs that hold a domain config but no wrangler config (not services). */
  skipped: Array<{ dir: string; reason: string }>;
  /** Where this came from: a fresh scan, or the cache (possibly with some services re-read). */
  source: { cache: "miss" | "hit" | "partial" | "off"; rescanned: number };
}
