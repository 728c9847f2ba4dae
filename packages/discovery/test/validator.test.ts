import { createCloudflareClient, createWranglerRunner } from "@lego/cloudflare";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AccountDiscovery,
  basicChecks,
  buildDependencyGraph,
  DeploymentValidator,
  type Portfolio,
  type PortfolioService,
  portfolioChecks,
  type ServiceEnvironment,
  scanPortfolio,
  standardChecks,
  validateDeployment,
  validationError,
} from "../src/index.ts";
import { ACCOUNT_ID, type FakeCloudflare, startFakeCloudflare } from "./fake-cloudflare.ts";
import { tempDir, writeTree } from "./helpers.ts";

// ---- Pure checks: hand-built models, no I/O. --------------------------------------------------

function env(name: string, over: Partial<ServiceEnvironment> = {}): ServiceEnvironment {
  return {
    name,
    wranglerEnv: name === "production" ? "" : name,
    scriptName: name,
    hostnames: [],
    routes: [],
    workersDev: false,
    d1Databases: [],
    serviceBindings: [],
    secretsRequired: [],
    declaredBy: { domainConfig: true, wrangler: true },
    ...over,
  };
}

function service(
  name: string,
  envs: Record<string, Partial<ServiceEnvironment>>,
  over: Partial<PortfolioService> = {},
): PortfolioService {
  const environments = Object.fromEntries(
    Object.entries(envs).map(([e, o]) => {
      const hostname = o.hostname;
      const built = env(e, { scriptName: e === "production" ? name : `${name}-${e}`, ...o });
      if (hostname && built.hostnames.length === 0) built.hostnames = [hostname];
      if (hostname && built.routes.length === 0)
        built.routes = [{ pattern: hostname, hostname, customDomain: true }];
      return [e, built];
    }),
  );
  return {
    name,
    path: `/p/services/${name}`,
    dir: `services/${name}`,
    wranglerConfigFile: `services/${name}/wrangler.toml`,
    domainConfigFile: `services/${name}/src/config/domains.ts`,
    wranglerName: name,
    environmentNames: Object.keys(envs),
    environments,
    dependsOn: [],
    features: {},
    secretsRequired: [],
    domainConfig: {
      name,
      domains: Object.fromEntries(
        Object.entries(envs).flatMap(([e, o]) => (o.hostname ? [[e, o.hostname]] : [])),
      ),
      features: {},
      dependsOn: [],
      environments: {},
      tests: { health: { path: "/health", expectStatus: 200 } },
      secrets: { required: [] },
    },
    ...over,
  };
}

function portfolio(services: PortfolioService[], extraEdges: Array<[string, string]> = []): Portfolio {
  const byScript = new Map(
    services.flatMap((s) => Object.values(s.environments).map((e) => [e.scriptName, s.name] as const)),
  );
  const edges = services.flatMap((s) =>
    Object.values(s.environments).flatMap((e) =>
      e.serviceBindings.flatMap((b) =>
        byScript.has(b.service)
          ? [{ from: s.name, to: byScript.get(b.service)!, via: "binding" as const }]
          : [],
      ),
    ),
  );
  for (const [from, to] of extraEdges) edges.push({ from, to, via: "binding" });
  return {
    root: "/p",
    patterns: ["services/*"],
    services,
    graph: buildDependencyGraph(
      services.map((s) => s.name),
      edges,
    ),
    externalBindings: [],
    skipped: [],
    source: { cache: "off", rescanned: services.length },
  };
}

const failing = (checks: Array<{ ok: boolean; severity: string; id: string }>) =>
  checks.filter((c) => !c.ok).map((c) => `${c.severity}:${c.id}`);

describe("basic checks (pure)", () => {
  it("pass when the two configs agree", () => {
    const api = service("api", {
      production: { hostname: "api.example.com" },
      staging: { hostname: "staging-api.example.com" },
    });
    const p = portfolio([api]);
    expect(failing(basicChecks(p, api, "production"))).toEqual([]);
    expect(failing(basicChecks(p, api, "staging"))).toEqual([]);
    expect(failing(portfolioChecks(p))).toEqual([]);
  });

  it("report a domain hostname that no route or custom domain serves", () => {
    const api = service("api", {
      staging: {
        hostname: "staging-api.example.com",
        hostnames: ["staging-api.example.com", "old.example.com"],
        routes: [{ pattern: "old.example.com/*", hostname: "old.example.com", customDomain: false }],
      },
    });
    const checks = basicChecks(portfolio([api]), api, "staging");
    expect(failing(checks)).toEqual(["error:config.hostname-routed", "warning:config.route-declared"]);
    expect(checks.find((c) => c.id === "config.hostname-routed")).toMatchObject({
      message:
        "staging-api.example.com (domain config, staging) is not a route or custom domain of api-staging in services/api/wrangler.toml",
      hint: 'Add { pattern = "staging-api.example.com", custom_domain = true } to the routes of env.staging.',
    });
  });

  it("accepts a wildcard route that covers the hostname", () => {
    const api = service("api", {
      production: {
        hostname: "api.example.com",
        hostnames: ["api.example.com"],
        routes: [{ pattern: "*.example.com/*", hostname: "*.example.com", customDomain: false }],
      },
    });
    expect(failing(basicChecks(portfolio([api]), api, "production"))).toEqual([]);
  });

  it("report an environment the wrangler config lacks, and one that does not exist at all", () => {
    const api = service("api", { qa: { hostname: "qa.example.com", wranglerEnv: undefined } });
    const p = portfolio([api]);
    const checks = basicChecks(p, api, "qa");
    expect(failing(checks)).toEqual(["error:config.wrangler-env"]);
    expect(checks[0]!.message).toBe(
      'services/api/src/config/domains.ts declares environment "qa" but services/api/wrangler.toml has no env.qa section',
    );
    expect(basicChecks(p, api, "prod")).toEqual([
      expect.objectContaining({
        id: "config.environment",
        ok: false,
        message: 'api has no environment "prod" (it has qa)',
      }),
    ]);
  });

  it("warn about a binding to another environment's Worker and to a Worker outside the portfolio", () => {
    const auth = service("auth", { production: {}, staging: {} });
    const api = service("api", {
      staging: {
        serviceBindings: [
          { binding: "AUTH", service: "auth" },
          { binding: "PAY", service: "payments-staging" },
        ],
      },
    });
    const checks = basicChecks(portfolio([auth, api]), api, "staging");
    expect(failing(checks)).toEqual(["warning:binding.environment", "warning:binding.target-known"]);
    expect(checks.find((c) => c.id === "binding.environment")!.hint).toBe(
      'In staging, bind "auth-staging" instead (env.staging.services in services/api/wrangler.toml).',
    );
  });

  it("name a dependency cycle, an unknown dependsOn, and a script or hostname claimed twice", () => {
    const a = service("a", {
      production: { hostname: "x.example.com", serviceBindings: [{ binding: "B", service: "b" }] },
    });
    const b = service(
      "b",
      { production: { serviceBindings: [{ binding: "A", service: "a" }] } },
      { dependsOn: ["ghost"] },
    );
    a.environments.staging = env("staging", { scriptName: "shared" });
    const c = service("c", { production: { hostname: "x.example.com", scriptName: "shared" } });
    const checks = portfolioChecks(portfolio([a, b, c]));
    expect(checks.map((x) => x.message)).toEqual([
      "Dependency cycle: a -> b -> a",
      'b dependsOn "ghost", which is not a service of this portfolio',
      'Worker script "shared" is deployed by both a (staging) and c (production)',
      "Hostname x.example.com is claimed by both a (production) in services/a/src/config/domains.ts and c (production) in services/c/src/config/domains.ts",
    ]);
    expect(checks.every((x) => x.level === "basic" && x.severity === "error")).toBe(true);
  });
});

describe("standard checks (pure, over a discovery result)", () => {
  const discovery = (over: Partial<AccountDiscovery> = {}): AccountDiscovery => ({
    token: { id: "t", status: "active", active: true },
    accounts: [{ id: ACCOUNT_ID, name: "Acme" }],
    accountId: ACCOUNT_ID,
    zones: [
      { hostname: "api.example.com", zone: { id: "z", name: "example.com" } },
      { hostname: "api.other.dev" },
    ],
    d1Databases: [{ uuid: "db-1", name: "api-db" }],
    workers: [{ script: "auth" }],
    steps: { token: "ok", accounts: "ok", zones: "ok", d1: "ok", workers: "ok", deployments: "ok" },
    warnings: [],
    ...over,
  });

  it("reports a missing zone, a missing D1 id, and a bound Worker that does not exist, by name", () => {
    const api = service("api", {
      production: {
        hostname: "api.example.com",
        hostnames: ["api.example.com", "api.other.dev"],
        routes: [
          { pattern: "api.example.com", hostname: "api.example.com", customDomain: true },
          { pattern: "api.other.dev", hostname: "api.other.dev", customDomain: true },
        ],
        d1Databases: [
          { binding: "DB", databaseName: "api-db", databaseId: "db-1", migrationsDir: "migrations" },
          { binding: "OLD", databaseName: "old-db", databaseId: "db-gone", migrationsDir: "migrations" },
          { binding: "NEW", databaseName: "new-db", migrationsDir: "migrations" },
        ],
        serviceBindings: [
          { binding: "AUTH", service: "auth" },
          { binding: "DATA", service: "data" },
        ],
      },
    });
    const data = service("data", { production: {} });
    const p = portfolio([api, data]);
    const checks = standardChecks(p, api, "production", discovery());
    expect(failing(checks)).toEqual([
      "error:account.zone",
      "error:d1.database",
      "error:binding.target-exists",
    ]);
    expect(checks.find((c) => c.id === "binding.target-exists" && !c.ok)).toMatchObject({
      message: `services/api/wrangler.toml: services[1].service: api (production) binds DATA to the Worker "data", which is not deployed in account ${ACCOUNT_ID} and is not earlier in this plan`,
      hint: "Deploy data to production first (`lego deploy data --env production`), or deploy both in one run so the order is right.",
    });
    expect(checks.find((c) => c.message.includes("new-db"))).toMatchObject({
      ok: true,
      message: expect.stringContaining("will be created"),
    });
    // Earlier in the same plan satisfies the binding.
    expect(failing(standardChecks(p, api, "production", discovery(), ["data"]))).toEqual([
      "error:account.zone",
      "error:d1.database",
    ]);
  });

  it("names the file and key of a route on a zone the account does not have, and makes it exit 2", () => {
    const web = service("web", {
      staging: {
        hostnames: ["api.example.com", "api.other.dev"],
        routes: [
          {
            pattern: "api.example.com/x/*",
            hostname: "api.example.com",
            customDomain: false,
            zoneName: "nosuch.dev",
          },
          { pattern: "api.other.dev", hostname: "api.other.dev", customDomain: true },
        ],
      },
    });
    const checks = standardChecks(
      portfolio([web]),
      web,
      "staging",
      discovery({ zones: [...(discovery().zones ?? []), { hostname: "nosuch.dev" }] }),
    );
    const zoneErrors = checks.filter((c) => c.id === "account.zone" && !c.ok).map((c) => c.message);
    expect(zoneErrors).toEqual([
      "services/web/wrangler.toml: env.staging.routes[0].zone_name: the account has no zone nosuch.dev (route api.example.com/x/*)",
      expect.stringMatching(
        /^services\/web\/wrangler\.toml: env\.staging\.routes\[1\]: no zone of the account serves api\.other\.dev/,
      ),
    ]);
    const report = { ok: false, level: "standard" as const, targets: [], checks, errors: 2, warnings: 0 };
    expect(validationError(report).exitCode).toBe(2);
  });

  it("turns a step the token may not read into a warning, not an error", () => {
    const api = service("api", {
      production: {
        d1Databases: [{ binding: "DB", databaseName: "x", databaseId: "y", migrationsDir: "migrations" }],
      },
    });
    const checks = standardChecks(
      portfolio([api]),
      api,
      "production",
      discovery({
        d1Databases: undefined,
        steps: { token: "ok", accounts: "ok", zones: "ok", d1: "denied", workers: "ok", deployments: "ok" },
        warnings: [
          {
            step: "d1",
            outcome: "denied",
            message: "D1 discovery needs 'Account · D1 · Read'; skipped",
            permission: "Account · D1 · Read",
          },
        ],
      }),
    );
    expect(checks).toEqual([
      expect.objectContaining({
        id: "d1.database",
        ok: false,
        severity: "warning",
        message: "Could not check the D1 databases of api: D1 discovery needs 'Account · D1 · Read'; skipped",
      }),
    ]);
  });
});

// ---- Against an API server and the real wrangler. ----------------------------------------------

let fake: FakeCloudflare | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const GATEWAY_PORTFOLIO = {
  "services/gateway/wrangler.jsonc": `{
  "name": "gateway",
  "main": "src/index.js",
  "compatibility_date": "2025-09-01",
  "routes": [{ "pattern": "api.example.com", "custom_domain": true }],
  "services": [{ "binding": "AUTH", "service": "auth" }],
  "env": {
    "staging": {
      "routes": [{ "pattern": "staging-api.example.com", "custom_domain": true }],
      "services": [{ "binding": "AUTH", "service": "auth-staging" }]
    }
  }
}`,
  "services/gateway/src/index.js": `export default { fetch() { return new Response("ok"); } };\n`,
  "services/gateway/src/config/domains.ts": `export const domains = {
  gateway: { name: "gateway", domains: { production: "api.example.com", staging: "staging-api.example.com" }, secrets: { required: ["API_KEY"] } },
};`,
  "services/auth/wrangler.toml": `name = "auth"
main = "src/index.js"
compatibility_date = "2025-09-01"
routes = [{ pattern = "auth.example.com", custom_domain = true }]
[env.staging]
routes = [{ pattern = "staging-auth.example.com", custom_domain = true }]
`,
  "services/auth/src/index.js": `export default { fetch() { return new Response("auth"); } };\n`,
};

describe("DeploymentValidator against an API server", () => {
  it("standard: reports the missing bound service by name, passes once it is in the plan", async () => {
    const root = await tempDir();
    await writeTree(root, GATEWAY_PORTFOLIO);
    const p = await scanPortfolio({ root, cache: false });
    fake = await startFakeCloudflare({
      accounts: [{ id: ACCOUNT_ID, name: "Acme" }],
      zones: [{ id: "z1", name: "example.com", accountId: ACCOUNT_ID }],
      d1: [],
      scripts: [{ id: "auth" }, { id: "gateway" }],
    });
    const client = createCloudflareClient({ token: "t0k3n-value", baseURL: fake.baseURL, retry: false });
    const validator = new DeploymentValidator({ client });
    const report = await validator.validateDeployment({
      portfolio: p,
      services: ["gateway"],
      environment: "staging",
      level: "standard",
    });
    expect(report.ok).toBe(false);
    expect(report.targets).toEqual([{ service: "gateway", environment: "staging" }]);
    const missing = report.checks.filter((c) => !c.ok);
    expect(missing).toEqual([
      expect.objectContaining({
        id: "binding.target-exists",
        level: "standard",
        severity: "error",
        message: `services/gateway/wrangler.jsonc: env.staging.services[0].service: gateway (staging) binds AUTH to the Worker "auth-staging", which is not deployed in account ${ACCOUNT_ID} and is not earlier in this plan`,
        hint: "Deploy auth to staging first (`lego deploy auth --env staging`), or deploy both in one run so the order is right.",
      }),
    ]);
    const error = validationError(report);
    // A binding to a Worker that is not there is bad input (fix the config or the order): exit 2, not 1.
    expect(error).toMatchObject({ code: "ERR_VALIDATION_FAILED", exitCode: 2 });
    expect(error.message).toContain('"auth-staging"');

    // Validating both: auth comes first in the plan, so the binding is satisfied.
    const both = await validator.validateDeployment({
      portfolio: p,
      environment: "staging",
      level: "standard",
    });
    expect(both.ok).toBe(true);
    expect(both.checks.find((c) => c.id === "binding.target-exists")?.message).toBe(
      "AUTH -> auth-staging: deployed earlier in this plan",
    );
    // And production, where auth exists in the account.
    const prod = await validateDeployment({
      client,
      portfolio: p,
      services: ["gateway"],
      environment: "production",
    });
    expect(prod.level).toBe("standard");
    expect(prod.ok).toBe(true);
    expect(JSON.stringify([report, both, prod])).not.toContain("t0k3n-value");
    // The services bind a Worker but no D1 database: the scripts are listed, the databases never.
    expect(fake.requests.some((r) => r.startsWith(`GET /accounts/${ACCOUNT_ID}/workers/scripts`))).toBe(true);
    expect(fake.requests.some((r) => r.includes("/d1/database"))).toBe(false);

    // auth alone binds nothing: neither account-wide list is read, and no warning says so.
    fake.requests.length = 0;
    const alone = await validator.validateDeployment({
      portfolio: p,
      services: ["auth"],
      environment: "staging",
      level: "standard",
    });
    expect(alone.ok).toBe(true);
    expect(alone.account?.warnings).toEqual([]);
    expect(fake.requests.some((r) => r.includes("/workers/scripts") || r.includes("/d1/database"))).toBe(
      false,
    );
  });

  it("standard: an invalid token fails with exit 3", async () => {
    const root = await tempDir();
    await writeTree(root, GATEWAY_PORTFOLIO);
    const p = await scanPortfolio({ root, cache: false });
    fake = await startFakeCloudflare(
      { accounts: [], zones: [], d1: [], scripts: [] },
      { "GET /user/tokens/verify": 401 },
    );
    const client = createCloudflareClient({ token: "bad", baseURL: fake.baseURL, retry: false });
    const report = await new DeploymentValidator({ client }).validateDeployment({
      portfolio: p,
      services: ["auth"],
      level: "standard",
    });
    expect(report.checks.find((c) => c.id === "account.token")).toMatchObject({
      ok: false,
      severity: "error",
    });
    expect(validationError(report).exitCode).toBe(3);
  });

  it("basic: a config disagreement fails with exit 2 and makes no API call", async () => {
    const root = await tempDir();
    await writeTree(root, {
      ...GATEWAY_PORTFOLIO,
      "services/auth/src/config/domains.ts": `export const domains = { auth: { name: "auth", domains: { production: "auth.example.com", qa: "qa-auth.example.com" } } };`,
    });
    const p = await scanPortfolio({ root, cache: false });
    const report = await validateDeployment({ portfolio: p, services: ["auth"] });
    expect(report.level).toBe("basic");
    expect(report.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual([
      "config.wrangler-env",
      "config.domain-env",
    ]);
    expect(validationError(report).exitCode).toBe(2);
    // Asked for by name, an environment only the wrangler config has is an error, not a warning.
    const named = await validateDeployment({ portfolio: p, services: ["auth"], environment: "staging" });
    expect(named.checks.find((c) => c.id === "config.domain-env")).toMatchObject({ severity: "error" });
    expect(validationError(named).exitCode).toBe(2);
  });

  it("comprehensive: runs the pinned wrangler, builds with --dry-run, and names missing secrets", async () => {
    const root = await tempDir();
    await writeTree(root, {
      ...GATEWAY_PORTFOLIO,
      "services/auth/src/index.js": `import missing from "./nope.js";\nexport default { fetch() { return missing(); } };\n`,
    });
    const p = await scanPortfolio({ root, cache: false });
    fake = await startFakeCloudflare({
      accounts: [{ id: ACCOUNT_ID, name: "Acme" }],
      zones: [{ id: "z1", name: "example.com", accountId: ACCOUNT_ID }],
      d1: [],
      scripts: [{ id: "auth" }, { id: "gateway", secrets: ["OTHER"] }],
    });
    const target = { apiBaseUrl: fake.baseURL, token: "t0k3n-value", accountId: ACCOUNT_ID };
    const client = createCloudflareClient({
      token: target.token,
      baseURL: fake.baseURL,
      retry: false,
      accountId: ACCOUNT_ID,
    });
    const wrangler = createWranglerRunner({
      cwd: root,
      target,
      baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    try {
      const report = await new DeploymentValidator({ client, wrangler }).validateDeployment({
        portfolio: p,
        environment: "production",
        level: "comprehensive",
      });
      const byId = (id: string) => report.checks.filter((c) => c.id === id);
      expect(byId("wrangler.version")[0]).toMatchObject({
        ok: true,
        message: expect.stringMatching(/^wrangler 4\.\d+\.\d+ runs$/),
      });
      expect(byId("wrangler.build").map((c) => [c.service, c.ok])).toEqual([
        ["auth", false],
        ["gateway", true],
      ]);
      expect(byId("wrangler.build")[0]!.message).toMatch(/^auth does not build/);
      expect(byId("secrets.required")).toEqual([
        expect.objectContaining({
          ok: false,
          service: "gateway",
          message: "gateway is missing required secret API_KEY",
        }),
      ]);
      // The dry run made no API call of its own: only discovery's reads and the secret listing.
      expect(fake.requests.every((r) => r.startsWith("GET "))).toBe(true);
      expect(report.ok).toBe(false);
    } finally {
      await wrangler.dispose();
    }
  }, 60_000);
});
