import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createDomainConfigSchema,
  createFeatureGuard,
  createService,
  defineDomains,
  initializeService,
  RuntimeConfigError,
  registerDomains,
} from "../src/index.ts";

const domains = defineDomains({
  gateway: {
    name: "gateway",
    displayName: "API Gateway",
    domains: { production: "api.example.com", staging: "staging-api.example.com" },
    features: { premiumFeatures: false, analytics: true },
    environments: {
      staging: { features: { premiumFeatures: true }, vars: { LOG_LEVEL: "debug" } },
      development: {},
    },
    dependsOn: ["auth"],
  },
  auth: {
    name: "auth",
    domains: { production: "auth.example.com", staging: "staging-auth.example.com" },
    features: { sso: false },
  },
});

const request = (url: string, init?: RequestInit) => new Request(url, init);

function errorOf(fn: () => unknown): RuntimeConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeConfigError);
    return error as RuntimeConfigError;
  }
  throw new Error("expected a RuntimeConfigError");
}

describe("createService().initializeService", () => {
  const service = createService(domains);

  it("resolves service and environment from bindings", () => {
    const ctx = service.initializeService({ LEGO_SERVICE: "gateway", LEGO_ENV: "staging" });
    expect(ctx).toMatchObject({
      name: "gateway",
      displayName: "API Gateway",
      environment: "staging",
      hostname: "staging-api.example.com",
      vars: { LOG_LEVEL: "debug" },
      dependsOn: ["auth"],
      resolvedBy: { service: "LEGO_SERVICE", environment: "LEGO_ENV" },
    });
    expect(ctx.features.all()).toEqual({ premiumFeatures: true, analytics: true });
    expect(
      service.initializeService({ LEGO_SERVICE: "auth", ENVIRONMENT: "production" }).resolvedBy.environment,
    ).toBe("ENVIRONMENT");
  });

  it("resolves both from the request's host, including the local cloud's .localhost form", () => {
    const env = {};
    const prod = service.initializeService(env, request("https://api.example.com/premium"));
    expect([prod.name, prod.environment, prod.resolvedBy]).toEqual([
      "gateway",
      "production",
      { service: "host", environment: "host" },
    ]);
    const local = service.initializeService(env, request("http://staging-auth.example.com.localhost:8787/x"));
    expect([local.name, local.environment]).toEqual(["auth", "staging"]);
    const byHeader = service.initializeService(
      env,
      request("http://127.0.0.1:9/", { headers: { host: "API.example.com" } }),
    );
    expect(byHeader.name).toBe("gateway");
  });

  it("lets bindings win over the host, and the host fill in what bindings leave open", () => {
    const ctx = service.initializeService({ LEGO_ENV: "staging" }, request("https://api.example.com/"));
    expect([ctx.name, ctx.environment, ctx.resolvedBy]).toEqual([
      "gateway",
      "staging",
      { service: "host", environment: "LEGO_ENV" },
    ]);
    const dev = service.initializeService({ LEGO_SERVICE: "gateway", LEGO_ENV: "development" });
    expect([dev.environment, dev.hostname]).toEqual(["development", undefined]);
  });

  it("memoises per env object and resolved service/environment", () => {
    const env = { LEGO_SERVICE: "gateway", LEGO_ENV: "production" };
    const first = service.initializeService(env);
    expect(service.initializeService(env)).toBe(first);
    expect(service.initializeService(env, request("https://staging-api.example.com/"))).toBe(first);
    expect(service.initializeService({ ...env })).not.toBe(first);

    const hostEnv = {};
    const a = service.initializeService(hostEnv, request("https://api.example.com/a"));
    expect(service.initializeService(hostEnv, request("https://api.example.com/b"))).toBe(a);
    expect(service.initializeService(hostEnv, request("https://staging-api.example.com/"))).not.toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it("explains what it cannot resolve", () => {
    expect(errorOf(() => service.initializeService({})).message).toBe(
      'cannot tell which service this Worker is: the domain config has "gateway", "auth", LEGO_SERVICE is not set and no request was given',
    );
    expect(errorOf(() => service.initializeService({}, request("https://other.example.com/"))).code).toBe(
      "ERR_RUNTIME_SERVICE_UNRESOLVED",
    );
    const unknown = errorOf(() => service.initializeService({ LEGO_SERVICE: "billing" }));
    expect([unknown.code, unknown.path, unknown.message]).toEqual([
      "ERR_RUNTIME_SERVICE_UNKNOWN",
      "LEGO_SERVICE",
      'LEGO_SERVICE: unknown service "billing"; the domain config has "gateway", "auth"',
    ]);
    const noEnv = errorOf(() => service.initializeService({ LEGO_SERVICE: "auth" }));
    expect([noEnv.code, noEnv.message]).toEqual([
      "ERR_RUNTIME_ENV_UNRESOLVED",
      'cannot tell the environment of "auth": LEGO_ENV and ENVIRONMENT are not set and no request was given; expected one of "production", "staging"',
    ]);
    const badEnv = errorOf(() => service.initializeService({ LEGO_SERVICE: "auth", ENVIRONMENT: "prod" }));
    expect([badEnv.code, badEnv.path, badEnv.message]).toEqual([
      "ERR_RUNTIME_ENV_UNKNOWN",
      "ENVIRONMENT",
      'ENVIRONMENT: "auth" has no environment "prod"; expected one of "production", "staging"',
    ]);
  });

  it("types flag names from the config", () => {
    const ctx = service.initializeService({ LEGO_SERVICE: "auth", LEGO_ENV: "production" });
    expectTypeOf(ctx.features.isEnabled)
      .parameter(0)
      .toEqualTypeOf<"premiumFeatures" | "analytics" | "sso">();
  });
});

describe("a single-service config in the seed's form", () => {
  const seed = {
    "my-domain": {
      ...createDomainConfigSchema(),
      name: "my-domain",
      domains: { production: "api.myapp.com" },
      features: { premiumFeatures: true, analytics: false },
    },
  };

  it("needs no bindings at all", () => {
    const ctx = createService(seed).initializeService({});
    expect([ctx.name, ctx.environment, ctx.resolvedBy]).toEqual([
      "my-domain",
      "production",
      { service: "single", environment: "single" },
    ]);
    expect(ctx.features.isEnabled("premiumFeatures")).toBe(true);
  });

  it("works through registerDomains with the seed's bare calls", async () => {
    registerDomains(seed);
    const service = initializeService({ FEATURE_ANALYTICS: "true" });
    expect(service.features.all()).toEqual({ premiumFeatures: true, analytics: true });

    const handlePremiumRequest = async (req: Request) => new Response(`premium ${new URL(req.url).pathname}`);
    const on = await createFeatureGuard("premiumFeatures")(handlePremiumRequest)(
      request("https://api.myapp.com/premium"),
      {},
      {},
    );
    expect([on.status, await on.text()]).toEqual([200, "premium /premium"]);

    const env = { FEATURE_PREMIUMFEATURES: "false" };
    const off = await createFeatureGuard("premiumFeatures")(handlePremiumRequest)(
      request("https://api.myapp.com/premium"),
      env,
      {},
    );
    expect(off.status).toBe(404);
    expect(off.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await off.json()).toEqual({ error: { code: "NOT_FOUND", message: "Not found" } });

    const forbidden = await createFeatureGuard("premiumFeatures", { status: 403 })(handlePremiumRequest)(
      request("https://api.myapp.com/premium"),
      env,
      {},
    );
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({
      error: { code: "FEATURE_DISABLED", message: 'The "premiumFeatures" feature is not enabled' },
    });
  });
});

describe("validation on the Worker side", () => {
  it("checks only what resolution needs, naming the key path", () => {
    const error = errorOf(() => createService({ a: { name: "a", domains: { production: 42 } } } as never));
    expect([error.code, error.path, error.message]).toEqual([
      "ERR_DOMAIN_CONFIG_INVALID",
      "domains.a.domains.production",
      "domains.a.domains.production: expected a hostname",
    ]);
    expect(errorOf(() => createService({} as never)).message).toBe("domains: expected at least one service");
  });

  it("rejects something that is not an env object", () => {
    expect(errorOf(() => createService(domains).initializeService(undefined as never)).code).toBe(
      "ERR_RUNTIME_BINDING_INVALID",
    );
  });

  it("passes service and environment explicitly", async () => {
    const guard = createService(domains).createFeatureGuard("sso", {
      service: "auth",
      environment: "staging",
      status: 403,
      code: "SSO_OFF",
    });
    const res = await guard(async () => new Response("ok"))(request("https://x.example.com/"), {}, undefined);
    expect([res.status, await res.json()]).toEqual([
      403,
      { error: { code: "SSO_OFF", message: 'The "sso" feature is not enabled' } },
    ]);
    const env = {};
    const ctx = initializeService(env, undefined, { domains, service: "gateway", environment: "staging" });
    expect(ctx.resolvedBy).toEqual({ service: "option", environment: "option" });
    // Memoised across calls with the same config object and env, as the module-level form must be.
    expect(initializeService(env, undefined, { domains, service: "gateway", environment: "staging" })).toBe(
      ctx,
    );
  });
});
