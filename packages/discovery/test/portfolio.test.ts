import { existsSync } from "node:fs";
import { mkdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createManualClock } from "@lego/core";
import { describe, expect, it } from "vitest";
import { ConfigurationCacheManager, matchServices, resolveService, scanPortfolio } from "../src/index.ts";
import { SEED_PORTFOLIO, TS_PORTFOLIO, tempDir, thrown, writeTree } from "./helpers.ts";

describe("scanPortfolio: the seed's format (plain domains.js, wrangler.toml)", () => {
  it("lists the services with environments, hostnames, scripts, D1, bindings and the graph", async () => {
    const root = await tempDir();
    await writeTree(root, SEED_PORTFOLIO);
    const portfolio = await scanPortfolio({ root, cache: false });
    expect(portfolio.services.map((s) => s.name)).toEqual(["api-gateway", "data-service"]);
    const data = portfolio.services[1]!;
    expect(data).toMatchObject({
      name: "data-service",
      displayName: "Data Service",
      dir: "services/data-service",
      wranglerConfigFile: "services/data-service/wrangler.toml",
      domainConfigFile: "services/data-service/src/config/domains.js",
      environmentNames: ["production", "staging"],
      features: { premiumFeatures: true, analytics: false },
      secretsRequired: ["DATA_KEY"],
    });
    expect(data.environments.production).toMatchObject({
      wranglerEnv: "",
      scriptName: "data-service",
      hostname: "data-service.greatidude.com",
      hostnames: ["data-service.greatidude.com"],
      d1Databases: [
        {
          binding: "DB",
          databaseName: "data-db",
          databaseId: "11111111-2222-3333-4444-555555555555",
          migrationsDir: "migrations",
        },
      ],
      secretsRequired: ["DATA_KEY"],
    });
    expect(data.environments.staging).toMatchObject({
      wranglerEnv: "staging",
      scriptName: "data-service-staging",
      hostnames: ["staging-data.greatidude.com"],
      d1Databases: [{ binding: "DB", databaseName: "data-db-staging", migrationsDir: "db/migrations" }],
    });
    // The seed's spread of createDomainConfigSchema() leaves no schema internals behind.
    expect(Object.keys(data.domainConfig!).sort()).toEqual(
      ["dependsOn", "displayName", "domains", "environments", "features", "name", "secrets", "tests"].sort(),
    );
    expect(portfolio.graph.dependencies).toEqual({ "api-gateway": ["data-service"], "data-service": [] });
    expect(portfolio.graph.order).toEqual(["data-service", "api-gateway"]);
    expect(JSON.parse(JSON.stringify(portfolio))).toEqual(portfolio);
  });

  it("finds a service by hostname from parsed values only: a hostname in another file's comment or string does not match", async () => {
    const root = await tempDir();
    await writeTree(root, SEED_PORTFOLIO);
    const portfolio = await scanPortfolio({ root, cache: false });
    // data-service's domains.js mentions api.greatidude.com in a comment and in a string value.
    expect(matchServices(portfolio, "api.greatidude.com").map((m) => m.service.name)).toEqual([
      "api-gateway",
    ]);
    expect(resolveService(portfolio, "api.greatidude.com")).toMatchObject({
      service: { name: "api-gateway" },
      matchedBy: "hostname",
      environment: "production",
    });
    expect(resolveService(portfolio, "staging-data.greatidude.com")).toMatchObject({
      service: { name: "data-service" },
      environment: "staging",
    });
    expect(resolveService(portfolio, "https://staging-api.greatidude.com/health").service.name).toBe(
      "api-gateway",
    );
    expect(resolveService(portfolio, "data-service-staging")).toMatchObject({
      matchedBy: "script",
      environment: "staging",
    });
    // Not a substring either.
    const none = await thrown(() => resolveService(portfolio, "greatidude.com"));
    expect(none.code).toBe("ERR_SERVICE_NOT_FOUND");
    expect(none.exitCode).toBe(2);
  });
});

describe("scanPortfolio: TypeScript, JSONC and JSON, wrangler-only folders, lego.config", () => {
  it("loads domains.ts (with local imports and a default export) and derives a service without a domain config", async () => {
    const root = await tempDir();
    await writeTree(root, TS_PORTFOLIO);
    const portfolio = await scanPortfolio({ root, cache: false });
    expect(portfolio.services.map((s) => s.name)).toEqual(["auth", "web", "worker-only"]);
    const [auth, web, workerOnly] = portfolio.services;
    expect(auth!.environments.production!.hostname).toBe("auth.example.com");
    expect(auth!.environments.staging!.secretsRequired).toEqual(["JWT_SECRET"]);
    expect(web!.wranglerConfigFile).toBe("services/web/wrangler.json");
    expect(web!.dependsOn).toEqual(["auth"]);
    expect(workerOnly).toMatchObject({
      name: "worker-only",
      environmentNames: ["production", "dev"],
      environments: {
        production: { wranglerEnv: "", scriptName: "worker-only", workersDev: true, hostnames: [] },
        dev: { wranglerEnv: "dev", scriptName: "worker-only-development" },
      },
    });
    expect(workerOnly!.domainConfigFile).toBeUndefined();
    expect(portfolio.graph.order).toEqual(["auth", "web", "worker-only"]);
  });

  it("scans only the folders lego.config.json lists", async () => {
    const root = await tempDir();
    await writeTree(root, {
      ...TS_PORTFOLIO,
      "lego.config.json": `{ "services": ["services/a*", "workers/**"] }`,
      "workers/team/one/wrangler.toml": `name = "one"`,
      "workers/node_modules/x/wrangler.toml": `name = "ignored"`,
    });
    const portfolio = await scanPortfolio({ root, cache: false });
    expect(portfolio.configFile).toBe("lego.config.json");
    expect(portfolio.services.map((s) => s.dir)).toEqual(["services/auth", "workers/team/one"]);
  });

  it("reads the globs from lego.config.ts, and rejects a services key that is not a list of globs", async () => {
    const root = await tempDir();
    await writeTree(root, {
      ...TS_PORTFOLIO,
      "lego.config.ts": `const services: string[] = ["examples/*"];\nexport default { services };\n`,
    });
    const portfolio = await scanPortfolio({ root, cache: false });
    expect(portfolio.configFile).toBe("lego.config.ts");
    expect(portfolio.services.map((s) => s.name)).toEqual(["worker-only"]);
    await writeTree(root, { "lego.config.ts": `export default { services: "services/*" };\n` });
    const error = await thrown(() => scanPortfolio({ root, cache: false }));
    expect(error).toMatchObject({ code: "ERR_CONFIG_INVALID", exitCode: 2 });
    expect(error.message).toMatch(/^lego\.config\.ts: services: must be an array/);
  });

  it("reports two services with one name as exit 2 naming both folders", async () => {
    const root = await tempDir();
    await writeTree(root, {
      "services/a/wrangler.toml": `name = "same"`,
      "examples/b/wrangler.toml": `name = "same"`,
    });
    const error = await thrown(() => scanPortfolio({ root, cache: false }));
    expect(error.code).toBe("ERR_SERVICE_DUPLICATE");
    expect(error.message).toContain("examples/b and services/a");
  });

  it("reports a missing root as exit 2", async () => {
    const error = await thrown(() => scanPortfolio({ root: "/nonexistent/lego-portfolio", cache: false }));
    expect(error).toMatchObject({ code: "ERR_ROOT_NOT_FOUND", exitCode: 2 });
  });
});

describe("scanPortfolio: malformed configs are exit 2 naming the file and key", () => {
  it("a wrangler key of the wrong shape", async () => {
    const root = await tempDir();
    await writeTree(root, {
      ...SEED_PORTFOLIO,
      "services/api-gateway/wrangler.toml": `name = "api-gateway"\n[env.staging]\nroutes = [{ zone_name = "greatidude.com" }]\n`,
    });
    const error = await thrown(() => scanPortfolio({ root, cache: false }));
    expect(error.code).toBe("ERR_CONFIG_INVALID");
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      "services/api-gateway/wrangler.toml: env.staging.routes[0].pattern: is required",
    );
    expect(error.message).not.toMatch(/\n\s+at /);
  });

  it("a domain config value the runtime schema rejects", async () => {
    const root = await tempDir();
    await writeTree(root, {
      ...SEED_PORTFOLIO,
      "services/data-service/src/config/domains.js": `export const domains = {
  "data-service": { name: "data-service", domains: { production: "https://data.example.com" } },
};`,
    });
    const error = await thrown(() => scanPortfolio({ root, cache: false }));
    expect(error.code).toBe("ERR_CONFIG_INVALID");
    expect(error.message).toMatch(
      /^services\/data-service\/src\/config\/domains\.js: domains\.data-service\.domains\.production: expected a hostname/,
    );
  });

  it("a syntax error in TOML, JSONC and TS, all reported at once", async () => {
    const root = await tempDir();
    await writeTree(root, {
      "services/a/wrangler.toml": `name = "a"\nroutes = [\n`,
      "services/b/wrangler.jsonc": `{ "name": "b", }}`,
      "services/c/wrangler.toml": `name = "c"`,
      "services/c/src/config/domains.ts": `export const domains = { c: { name: "c", domains: { production: "c.example.com" } };\n`,
    });
    const error = await thrown(() => scanPortfolio({ root, cache: false }));
    expect(error.code).toBe("ERR_CONFIG_PARSE");
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(
      /^services\/a\/wrangler\.toml:\d+:\d+: invalid TOML.*\(and 2 more problems\)$/,
    );
    expect(error.hint).toContain("services/b/wrangler.jsonc:1:");
    expect(error.hint).toMatch(/services\/c\/src\/config\/domains\.ts:1:\d+: Expected "}"/);
  });

  it("a domain config that throws while loading", async () => {
    const root = await tempDir();
    await writeTree(root, {
      "services/c/wrangler.toml": `name = "c"`,
      "services/c/src/config/domains.ts": `throw new Error("boom");\n`,
    });
    const error = await thrown(() => scanPortfolio({ root, cache: false }));
    expect(error).toMatchObject({ code: "ERR_DOMAIN_CONFIG_LOAD", exitCode: 2 });
    expect(error.message).toBe("services/c/src/config/domains.ts: failed to load: boom");
  });
});

describe("scanPortfolio cache", () => {
  it("serves a warm scan from .lego/cache and re-reads only the service whose file changed", async () => {
    const root = await tempDir();
    await writeTree(root, { ...SEED_PORTFOLIO, ...TS_PORTFOLIO });
    const cold = await scanPortfolio({ root });
    expect(cold.source).toEqual({ cache: "miss", rescanned: 5 });
    const warm = await scanPortfolio({ root });
    expect(warm.source).toEqual({ cache: "hit", rescanned: 0 });
    expect(warm.services).toEqual(cold.services);
    // A hit serves the stored assembly: the same graph, order and external bindings.
    expect(warm.graph).toEqual(cold.graph);
    expect(warm.externalBindings).toEqual(cold.externalBindings);

    // A file a domain config imports counts as an input.
    await writeFile(
      join(root, "services/auth/src/config/hosts.ts"),
      `export const HOSTS = { production: "login.example.com", staging: "staging-login.example.com" };\n`,
    );
    const edited = await scanPortfolio({ root });
    expect(edited.source).toEqual({ cache: "partial", rescanned: 1 });
    expect(edited.services.find((s) => s.name === "auth")!.environments.production!.hostname).toBe(
      "login.example.com",
    );

    // Adding a domain config to a wrangler-only folder is seen too.
    await writeTree(root, {
      "examples/worker-only/src/config/domains.ts": `export const domains = { "worker-only": { name: "worker-only", domains: { production: "w.example.com" } } };`,
    });
    const added = await scanPortfolio({ root });
    expect(added.source.rescanned).toBe(1);
    expect(added.services.find((s) => s.name === "worker-only")!.environments.production!.hostname).toBe(
      "w.example.com",
    );

    // A removed service disappears.
    await rm(join(root, "services/web"), { recursive: true });
    expect((await scanPortfolio({ root })).services.map((s) => s.name)).not.toContain("web");

    // --refresh ignores the cache.
    expect((await scanPortfolio({ root, refresh: true })).source).toEqual({ cache: "miss", rescanned: 4 });
  });

  it("notices an edit that keeps the size (mtime) and expires entries after the TTL", async () => {
    const root = await tempDir();
    await writeTree(root, SEED_PORTFOLIO);
    const clock = createManualClock(1_000_000);
    const cache = new ConfigurationCacheManager({ root, clock, ttlMs: 60_000 });
    await scanPortfolio({ root, cache });
    const file = join(root, "services/api-gateway/src/config/domains.js");
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace("rateLimiting: true", "rateLimiting: 0>1 "));
    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);
    const edited = await scanPortfolio({ root, cache });
    expect(edited.services[0]!.features).toEqual({ rateLimiting: false });
    expect((await scanPortfolio({ root, cache })).source.cache).toBe("hit");
    await clock.sleep(61_000);
    expect((await scanPortfolio({ root, cache })).source).toEqual({ cache: "miss", rescanned: 2 });
  });

  it("deletes an index left by an older cache format on the next full scan", async () => {
    const root = await tempDir();
    await writeTree(root, SEED_PORTFOLIO);
    const cache = new ConfigurationCacheManager({ root });
    const current = cache.pathFor("portfolio-index");
    const old = join(dirname(current), "portfolio-index.5a349607.json");
    await mkdir(dirname(current), { recursive: true });
    await writeFile(old, JSON.stringify({ format: 1, id: "portfolio-index" }));
    expect((await scanPortfolio({ root })).source.cache).toBe("miss");
    expect(existsSync(old)).toBe(false);
    expect(existsSync(current)).toBe(true);
  });

  it("treats a corrupt cache as a miss", async () => {
    const root = await tempDir();
    await writeTree(root, SEED_PORTFOLIO);
    await scanPortfolio({ root });
    const cache = new ConfigurationCacheManager({ root });
    await writeFile(cache.pathFor("portfolio-index"), "{ not json");
    expect((await scanPortfolio({ root })).source.cache).toBe("miss");
    expect((await scanPortfolio({ root })).source.cache).toBe("hit");
  });
});

describe("resolveService", () => {
  it("lists every candidate when an argument is ambiguous, and prefers an exact service name", async () => {
    const root = await tempDir();
    await writeTree(root, {
      "services/one/wrangler.toml": `name = "one"\n[env.staging]\nname = "shared"\n`,
      "services/two/wrangler.toml": `name = "two"\n[env.staging]\nname = "shared"\n`,
      "services/three/wrangler.toml": `name = "three"\n[env.staging]\nname = "two"\n`,
    });
    const portfolio = await scanPortfolio({ root, cache: false });
    const error = await thrown(() => resolveService(portfolio, "shared"));
    expect(error).toMatchObject({ code: "ERR_SERVICE_AMBIGUOUS", exitCode: 2 });
    expect(error.message).toBe(
      '"shared" matches 2 services: one (services/one, by script); two (services/two, by script)',
    );
    expect(resolveService(portfolio, "two")).toMatchObject({ service: { name: "two" }, matchedBy: "name" });
    const near = await thrown(() => resolveService(portfolio, "thre"));
    expect(near.hint).toContain('"three"');
  });

  it("loads a domain config that uses top-level await", async () => {
    const root = await tempDir();
    await writeTree(root, {
      "services/tla/wrangler.toml": `name = "tla"\nroutes = [{ pattern = "tla.example.com", custom_domain = true }]\n`,
      "services/tla/src/config/domains.ts": `const host: string = await Promise.resolve("tla.example.com");\nexport const domains = { tla: { name: "tla", domains: { production: host } } };\n`,
    });
    const portfolio = await scanPortfolio({ root, cache: false });
    expect(resolveService(portfolio, "tla.example.com").service.name).toBe("tla");
  });
});
