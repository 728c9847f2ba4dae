import { AuthError, createNullLogger, isLegoError, type Logger, toLegoError } from "@lego/core";
import type { DomainConfig } from "@lego/runtime";
import type { ConfigurationCacheManager } from "./cache.ts";
import type { Portfolio, PortfolioService } from "./model.ts";
import { scanPortfolio } from "./portfolio.ts";
import { resolveService } from "./resolve.ts";

/**
 * The calls account discovery makes: a subset of `@lego/cloudflare`'s `CloudflareClient`, which
 * satisfies it as is. Kept structural so discovery can be handed any client of that package.
 */
export interface AccountClient {
  verifyToken(options?: { signal?: AbortSignal | undefined }): Promise<{ id: string; status: string }>;
  listAccounts(options?: { signal?: AbortSignal | undefined }): Promise<Array<{ id: string; name: string }>>;
  accountId(options?: { signal?: AbortSignal | undefined }): Promise<string>;
  listZones(
    filter?: { name?: string | undefined; accountId?: string | undefined },
    options?: { signal?: AbortSignal | undefined },
  ): Promise<Array<{ id: string; name: string; status?: string | undefined }>>;
  listD1Databases(
    filter?: { name?: string | undefined },
    options?: { accountId?: string | undefined; signal?: AbortSignal | undefined },
  ): Promise<Array<{ uuid: string; name: string }>>;
  listWorkerScripts(options?: {
    accountId?: string | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<Array<{ id: string; modified_on?: string | undefined }>>;
  listDeployments(
    script: string,
    options?: { accountId?: string | undefined; signal?: AbortSignal | undefined },
  ): Promise<
    Array<{ id: string; created_on: string; versions: Array<{ version_id: string; percentage: number }> }>
  >;
}

/** The steps of account discovery, each allowed to fail on its own. */
export type DiscoveryStep = "token" | "accounts" | "zones" | "d1" | "workers" | "deployments";

/** The token permission each step needs, as the Cloudflare dashboard names it. */
export const STEP_PERMISSIONS: Record<DiscoveryStep, string> = {
  token: "a valid API token",
  accounts: "Account · Account Settings · Read",
  zones: "Zone · Zone · Read",
  d1: "Account · D1 · Read",
  workers: "Account · Workers Scripts · Read",
  deployments: "Account · Workers Scripts · Read",
};

const STEP_LABEL: Record<DiscoveryStep, string> = {
  token: "Token verification",
  accounts: "Account discovery",
  zones: "Zone discovery",
  d1: "D1 discovery",
  workers: "Worker script discovery",
  deployments: "Deployment discovery",
};

/** A step that did not complete: what it means and what to do. Never holds the token. */
export interface DiscoveryWarning {
  step: DiscoveryStep;
  /** `denied` for 401/403 (a missing permission), `failed` for anything else, `skipped` when a prerequisite failed. */
  outcome: "denied" | "failed" | "skipped";
  /** The error code behind it, e.g. `ERR_CF_AUTH`. */
  code?: string | undefined;
  message: string;
  /** The permission to add, for `denied`. */
  permission?: string | undefined;
  hint?: string | undefined;
}

/** The zone serving a hostname, found by walking up its labels. */
export interface HostnameZone {
  hostname: string;
  /** Undefined when no zone of the account matches (or the zone step failed). */
  zone?: { id: string; name: string; status?: string | undefined } | undefined;
}

/** A Worker script of the account with its current deployment. */
export interface DiscoveredWorker {
  script: string;
  modifiedOn?: string | undefined;
  /** The newest deployment; undefined when there is none or it could not be read. */
  deployment?:
    | { id: string; createdOn: string; versions: Array<{ versionId: string; percentage: number }> }
    | undefined;
}

/** What {@link DomainDiscovery.discoverAccount} found. A step that failed leaves its field undefined. */
export interface AccountDiscovery {
  token?: { id: string; status: string; active: boolean } | undefined;
  accounts?: Array<{ id: string; name: string }> | undefined;
  /** The account the account-scoped steps used. */
  accountId?: string | undefined;
  zones?: HostnameZone[] | undefined;
  d1Databases?: Array<{ uuid: string; name: string }> | undefined;
  workers?: DiscoveredWorker[] | undefined;
  /** Per step: `ok`, or why not. */
  steps: Record<DiscoveryStep, "ok" | "denied" | "failed" | "skipped">;
  warnings: DiscoveryWarning[];
}

/** Options of {@link DomainDiscovery.discoverAccount}. */
export interface DiscoverAccountOptions {
  /** Hostnames whose zones to find. */
  hostnames?: readonly string[] | undefined;
  /** Scripts whose current deployment to read; default: none (the script list only). */
  scripts?: readonly string[] | undefined;
  /** Use this account instead of the client's (configured, or the only one the token sees). */
  accountId?: string | undefined;
  /**
   * Leave out an account-wide list the caller does not need: `{ d1: false }` (every D1 database) or
   * `{ workers: false }` (every Worker script). Each can be many pages on a large account. A step left
   * out stays `skipped`, without a warning.
   */
  lists?: { d1?: boolean | undefined; workers?: boolean | undefined } | undefined;
  signal?: AbortSignal | undefined;
}

/** Options of {@link DomainDiscovery}. */
export interface DomainDiscoveryOptions {
  /** A `@lego/cloudflare` client for the target; required by the account methods only. */
  client?: AccountClient | undefined;
  /** The portfolio root, scanned on first use by `discoverDomains` and `getDomainConfig`. Default: the current folder. */
  root?: string | undefined;
  /** An already scanned portfolio (takes precedence over `root`). */
  portfolio?: Portfolio | undefined;
  /** Caches `discoverDomains` results (TTL and file-change invalidation). */
  cache?: ConfigurationCacheManager | undefined;
  logger?: Logger | undefined;
}

/** A service's hostnames with the zone each one belongs to (`discoverDomains`). */
export interface DiscoveredDomain {
  service: string;
  dir: string;
  environment: string;
  hostname: string;
  scriptName: string;
  zone?: HostnameZone["zone"];
  /** Whether the environment's Worker script exists in the account (undefined when unknown). */
  deployed?: boolean | undefined;
}

/** Candidate zone names of a hostname, most specific first: `a.b.example.com` -> itself, `b.example.com`, `example.com`. */
export function zoneCandidates(hostname: string): string[] {
  const labels = hostname.toLowerCase().replace(/\.$/, "").split(".");
  const out: string[] = [];
  for (let i = 0; i + 2 <= labels.length; i++) out.push(labels.slice(i).join("."));
  return out;
}

function isAuthFailure(error: unknown): boolean {
  return isLegoError(error) && (error.code === "ERR_CF_AUTH" || error.exitCode === 3);
}

function isInvalidToken(error: unknown): boolean {
  if (!isAuthFailure(error)) return false;
  const status = (error as { details?: { status?: unknown } }).details?.status;
  return status === 401;
}

/**
 * Discovery against the Cloudflare account (the seed's `DomainDiscovery`), and the seed's lookups of
 * domain configs on disk. Every account step degrades on its own: a 401/403 becomes a warning naming
 * the token permission it needs (as the seed did for D1) and the other steps go on.
 *
 * @example
 * const discovery = new DomainDiscovery({ client: createCloudflareClient({ token, baseURL }), root });
 * const found = await discovery.discoverAccount({ hostnames: ["api.example.com"] });
 * found.zones;    // [{ hostname: "api.example.com", zone: { id, name: "example.com" } }]
 * found.warnings; // [{ step: "d1", outcome: "denied", permission: "Account · D1 · Read", ... }]
 */
export class DomainDiscovery {
  private readonly client: AccountClient | undefined;
  private readonly root: string | undefined;
  private portfolio: Portfolio | undefined;
  private readonly cache: ConfigurationCacheManager | undefined;
  private readonly logger: Logger;

  constructor(options: DomainDiscoveryOptions = {}) {
    this.client = options.client;
    this.root = options.root;
    this.portfolio = options.portfolio;
    this.cache = options.cache;
    this.logger = options.logger ?? createNullLogger();
  }

  private requireClient(): AccountClient {
    if (!this.client) {
      throw new AuthError({
        code: "ERR_ACCOUNT_CLIENT_MISSING",
        message: "Account discovery needs a Cloudflare API client, and none was given",
        hint: "Set CLOUDFLARE_API_TOKEN (or store a token with `lego secrets`), or use the local target.",
      });
    }
    return this.client;
  }

  /** The portfolio, scanned once. */
  async loadPortfolio(): Promise<Portfolio> {
    if (this.portfolio) return this.portfolio;
    // The seed's `new DomainDiscovery({ apiToken })` names no root: the portfolio is the current folder.
    this.portfolio = await scanPortfolio({
      root: this.root ?? process.cwd(),
      logger: this.logger,
      cache: this.cache ?? true,
    });
    return this.portfolio;
  }

  /**
   * Reads what the account holds: token status, accounts, the zone of each hostname (walking up its
   * labels, as wrangler does), D1 databases, Worker scripts and the current deployment of `scripts`.
   * Never throws for a refused or failed step; see `warnings` and `steps`.
   */
  async discoverAccount(options: DiscoverAccountOptions = {}): Promise<AccountDiscovery> {
    const client = this.requireClient();
    const signal = options.signal;
    const result: AccountDiscovery = {
      steps: {
        token: "skipped",
        accounts: "skipped",
        zones: "skipped",
        d1: "skipped",
        workers: "skipped",
        deployments: "skipped",
      },
      warnings: [],
    };
    const fail = (step: DiscoveryStep, error: unknown): void => {
      const lego = toLegoError(error);
      if (lego.code === "ERR_INTERRUPTED") throw lego;
      const denied = isAuthFailure(lego);
      result.steps[step] = denied ? "denied" : "failed";
      const warning: DiscoveryWarning = denied
        ? {
            step,
            outcome: "denied",
            code: lego.code,
            permission: STEP_PERMISSIONS[step],
            message: `${STEP_LABEL[step]} needs '${STEP_PERMISSIONS[step]}'; skipped (${lego.message})`,
            hint: `Add '${STEP_PERMISSIONS[step]}' to the API token in the Cloudflare dashboard; everything else was discovered.`,
          }
        : {
            step,
            outcome: "failed",
            code: lego.code,
            message: `${STEP_LABEL[step]} failed: ${lego.message}`,
            hint: lego.hint,
          };
      result.warnings.push(warning);
      this.logger.warn(warning.message, { step, code: lego.code });
    };
    const skip = (step: DiscoveryStep, why: string): void => {
      result.steps[step] = "skipped";
      result.warnings.push({ step, outcome: "skipped", message: `${STEP_LABEL[step]} skipped: ${why}` });
    };

    // Calls start as soon as what they need is known, instead of one after another: the token check
    // and the account list at once, then the zones, D1 databases and scripts of the account at once
    // (at once from the start when the account id is given). Against Cloudflare that is three round
    // trips of latency instead of six or more. Outcomes are applied in step order, so warnings read as
    // they would from a one-by-one discovery.
    const hostnames = [...new Set((options.hostnames ?? []).map((h) => h.toLowerCase()))];
    const tokenCall = settle(client.verifyToken({ signal }));
    const accountsCall = settle(client.listAccounts({ signal }));
    const accountIdCall: Promise<string | undefined> = options.accountId
      ? Promise.resolve(options.accountId)
      : accountsCall.then(async (accounts) => {
          if (accounts.ok && accounts.value.length === 1) return accounts.value[0]!.id;
          try {
            return await client.accountId({ signal });
          } catch (error) {
            this.logger.debug("No account id", { reason: toLegoError(error).message });
            return undefined;
          }
        });
    const zonesCall =
      hostnames.length > 0
        ? accountIdCall.then((id) => settle(this.findZones(client, hostnames, id, signal)))
        : undefined;
    const wantD1 = options.lists?.d1 !== false;
    const wantWorkers = options.lists?.workers !== false;
    const d1Call = accountIdCall.then((id) =>
      id && wantD1 ? settle(client.listD1Databases(undefined, { accountId: id, signal })) : undefined,
    );
    const workersCall = accountIdCall.then((id) =>
      id && wantWorkers ? settle(client.listWorkerScripts({ accountId: id, signal })) : undefined,
    );

    let tokenInvalid = false;
    const token = await tokenCall;
    if (token.ok) {
      const status = token.value;
      result.token = { id: status.id, status: status.status, active: status.status === "active" };
      result.steps.token = "ok";
      if (!result.token.active) tokenInvalid = true;
    } else {
      fail("token", token.error);
      tokenInvalid = isInvalidToken(token.error);
    }
    if (tokenInvalid) {
      for (const step of ["accounts", "zones", "d1", "workers", "deployments"] as const) {
        skip(step, "the API token is not valid");
      }
      // The calls already under way end on their own; nothing awaits them and none can throw.
      return result;
    }

    const accounts = await accountsCall;
    if (accounts.ok) {
      result.accounts = accounts.value.map((a) => ({ id: a.id, name: a.name }));
      result.steps.accounts = "ok";
    } else {
      fail("accounts", accounts.error);
    }
    const accountId = await accountIdCall;
    result.accountId = accountId;

    if (zonesCall) {
      const zones = await zonesCall;
      if (zones.ok) {
        result.zones = zones.value;
        result.steps.zones = "ok";
      } else {
        fail("zones", zones.error);
      }
    }

    const [d1, workers] = await Promise.all([d1Call, workersCall]);
    if (!accountId) {
      const why =
        result.accounts && result.accounts.length > 1
          ? `the token sees ${result.accounts.length} accounts; set CLOUDFLARE_ACCOUNT_ID to pick one`
          : "no account id is known";
      skip("d1", why);
      skip("workers", why);
      skip("deployments", why);
      return result;
    }

    if (d1?.ok) {
      result.d1Databases = d1.value.map((d) => ({ uuid: d.uuid, name: d.name }));
      result.steps.d1 = "ok";
    } else if (d1) {
      fail("d1", d1.error);
    }

    if (workers?.ok) {
      result.workers = workers.value.map((s) => ({
        script: s.id,
        ...(s.modified_on ? { modifiedOn: s.modified_on } : {}),
      }));
      result.steps.workers = "ok";
    } else if (workers) {
      fail("workers", workers.error);
    }

    const wanted = [...new Set(options.scripts ?? [])];
    const existing = result.workers ? new Set(result.workers.map((w) => w.script)) : undefined;
    const toRead = existing ? wanted.filter((s) => existing.has(s)) : wanted;
    if (toRead.length === 0) {
      result.steps.deployments = wanted.length === 0 || existing ? "ok" : "skipped";
      return result;
    }
    const reads = await Promise.all(
      toRead.map((script) => settle(client.listDeployments(script, { accountId, signal }))),
    );
    for (const [i, read] of reads.entries()) {
      const script = toRead[i]!;
      if (!read.ok) {
        // A script deleted between the two calls is not a failure of the step.
        if (isLegoError(read.error) && read.error.code === "ERR_CF_NOT_FOUND") continue;
        fail("deployments", read.error);
        return result;
      }
      const current = read.value[0];
      let worker = result.workers?.find((w) => w.script === script);
      if (!worker) {
        worker = { script };
        result.workers = [...(result.workers ?? []), worker];
      }
      if (current) {
        worker.deployment = {
          id: current.id,
          createdOn: current.created_on,
          versions: current.versions.map((v) => ({ versionId: v.version_id, percentage: v.percentage })),
        };
      }
    }
    result.steps.deployments = "ok";
    return result;
  }

  private async findZones(
    client: AccountClient,
    hostnames: string[],
    accountId: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<HostnameZone[]> {
    const lookups = new Map<
      string,
      Promise<{ id: string; name: string; status?: string | undefined } | undefined>
    >();
    const lookup = (name: string) => {
      let pending = lookups.get(name);
      if (!pending) {
        pending = client
          .listZones({ name, ...(accountId ? { accountId } : {}) }, { signal })
          .then((zones) => zones.find((z) => z.name.toLowerCase() === name));
        lookups.set(name, pending);
      }
      return pending;
    };
    // Hostnames in parallel; each walks its labels in order, sharing the lookups of common zones.
    return Promise.all(
      hostnames.map(async (hostname): Promise<HostnameZone> => {
        for (const candidate of zoneCandidates(hostname)) {
          const found = await lookup(candidate);
          if (found) {
            const zone = {
              id: found.id,
              name: found.name,
              ...(found.status ? { status: found.status } : {}),
            };
            return { hostname, zone };
          }
        }
        return { hostname };
      }),
    );
  }

  /**
   * Every hostname of every service with its zone and whether its Worker exists (the seed's
   * `discoverDomains()`). Without a client, the hostnames come from disk alone. Cached for the cache
   * manager's TTL, and invalidated when any service's config files change.
   */
  async discoverDomains(options: { refresh?: boolean; signal?: AbortSignal } = {}): Promise<{
    domains: DiscoveredDomain[];
    warnings: DiscoveryWarning[];
  }> {
    const portfolio = await this.loadPortfolio();
    const cacheId = `domains:${this.client ? "account" : "disk"}`;
    const inputs = portfolio.services.flatMap((s) => [
      `${portfolio.root}/${s.wranglerConfigFile}`,
      ...(s.domainConfigFile ? [`${portfolio.root}/${s.domainConfigFile}`] : []),
    ]);
    if (this.cache && !options.refresh) {
      const hit = await this.cache.getCachedConfiguration<{
        domains: DiscoveredDomain[];
        warnings: DiscoveryWarning[];
      }>(cacheId);
      if (hit) return hit;
    }
    const rows: DiscoveredDomain[] = portfolio.services.flatMap((s) =>
      s.environmentNames.flatMap((envName) => {
        const env = s.environments[envName]!;
        return env.hostnames.map((hostname) => ({
          service: s.name,
          dir: s.dir,
          environment: envName,
          hostname,
          scriptName: env.scriptName,
        }));
      }),
    );
    let warnings: DiscoveryWarning[] = [];
    if (this.client) {
      const found = await this.discoverAccount({
        hostnames: rows.map((r) => r.hostname),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      warnings = found.warnings;
      const zones = new Map((found.zones ?? []).map((z) => [z.hostname, z.zone]));
      const scripts = found.workers ? new Set(found.workers.map((w) => w.script)) : undefined;
      for (const row of rows) {
        const zone = zones.get(row.hostname);
        if (zone) row.zone = zone;
        if (scripts) row.deployed = scripts.has(row.scriptName);
      }
    }
    const value = { domains: rows, warnings };
    if (this.cache) {
      await this.cache.cacheConfiguration(cacheId, value, {
        inputs,
        ttlMs: Math.min(this.cache.ttlMs, 10 * 60 * 1000),
      });
    }
    return value;
  }

  /**
   * The domain config of the service named by `nameOrHostname` (service name, hostname or script
   * name; exact match), as validated by `@lego/runtime` (the seed's `getDomainConfig(name)`).
   * Throws `ERR_SERVICE_NOT_FOUND` / `ERR_SERVICE_AMBIGUOUS`; undefined for a service without one.
   */
  async getDomainConfig(nameOrHostname: string): Promise<DomainConfig | undefined> {
    const { service } = resolveService(await this.loadPortfolio(), nameOrHostname);
    return service.domainConfig;
  }

  /** The service named by `nameOrHostname`, with its environments, bindings and databases. */
  async getService(nameOrHostname: string): Promise<PortfolioService> {
    return resolveService(await this.loadPortfolio(), nameOrHostname).service;
  }

  /**
   * The seed's `validateCloudflareSetup()`: the token is valid and every hostname of the portfolio (or
   * the given ones) has a zone in the account.
   */
  async validateCloudflareSetup(hostnames?: readonly string[]): Promise<{
    ok: boolean;
    missingZones: string[];
    warnings: DiscoveryWarning[];
  }> {
    const names =
      hostnames ??
      (await this.loadPortfolio()).services.flatMap((s) =>
        Object.values(s.environments).flatMap((e) => e.hostnames),
      );
    const found = await this.discoverAccount({ hostnames: names });
    const missingZones = (found.zones ?? []).filter((z) => !z.zone).map((z) => z.hostname);
    const ok =
      found.steps.token === "ok" &&
      found.token?.active === true &&
      found.steps.zones !== "denied" &&
      missingZones.length === 0;
    return { ok, missingZones, warnings: found.warnings };
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A call's outcome without throwing, so calls can start together and be read one by one. */
function settle<T>(call: Promise<T>): Promise<Settled<T>> {
  return call.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}
