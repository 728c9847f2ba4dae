import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createDomainConfigSchema,
  type DomainConfig,
  type DomainConfigInput,
  defineDomains,
  domainConfigZodSchema,
  RuntimeConfigError,
  safeValidateDomains,
  validateDomainConfig,
  validateDomains,
} from "../src/index.ts";
import type { InferredDomainConfig, InferredDomainConfigInput } from "../src/schema/domain-config.ts";

const ACCOUNT = "0123456789abcdef0123456789abcdef";

/** The seed README's "Domain Configuration" snippet, with real-looking ids. */
const seedDomains = {
  "my-domain": {
    ...createDomainConfigSchema(),
    name: "my-domain",
    displayName: "My Domain",
    accountId: ACCOUNT,
    zoneId: "fedcba9876543210fedcba9876543210",
    domains: {
      production: "api.myapp.com",
      staging: "staging-api.myapp.com",
    },
    features: {
      premiumFeatures: true,
      analytics: false,
    },
  },
};

function errorOf(fn: () => unknown): RuntimeConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeConfigError);
    return error as RuntimeConfigError;
  }
  throw new Error("expected a RuntimeConfigError");
}

describe("the seed's domain config form", () => {
  it("spreads only plain defaults, never schema internals", () => {
    expect(Object.keys(createDomainConfigSchema()).sort()).toEqual([
      "dependsOn",
      "environments",
      "features",
      "secrets",
    ]);
    expect(JSON.parse(JSON.stringify(seedDomains["my-domain"]))).toEqual({
      features: { premiumFeatures: true, analytics: false },
      dependsOn: [],
      environments: {},
      secrets: { required: [] },
      name: "my-domain",
      displayName: "My Domain",
      accountId: ACCOUNT,
      zoneId: "fedcba9876543210fedcba9876543210",
      domains: { production: "api.myapp.com", staging: "staging-api.myapp.com" },
    });
  });

  it("validates and fills in the production-test defaults", () => {
    const domains = validateDomains(seedDomains, { file: "src/config/domains.js" });
    const config = domains["my-domain"]!;
    expect(config.domains).toEqual({ production: "api.myapp.com", staging: "staging-api.myapp.com" });
    expect(config.tests).toEqual({ health: { path: "/health", expectStatus: 200 } });
    expect(config.secrets).toEqual({ required: [] });
    expect(config.dependsOn).toEqual([]);
  });

  it("is usable as a schema too, and as a Standard Schema", () => {
    const schema = createDomainConfigSchema();
    expect(schema.parse(seedDomains["my-domain"]).features).toEqual({
      premiumFeatures: true,
      analytics: false,
    });
    const bad = schema.safeParse({ name: "x", domains: { production: "nope" } });
    expect(bad.success).toBe(false);
    const standard = schema["~standard"].validate({ name: "x", domains: { production: "nope" } });
    expect(standard).toEqual({
      issues: [{ path: ["domains", "production"], message: expect.stringMatching(/^expected a hostname/) }],
    });
    expect(schema.schema).toBe(domainConfigZodSchema());
  });

  it("types the spread form as a config, without the schema's methods", () => {
    type Spread = (typeof seedDomains)["my-domain"];
    expectTypeOf<Spread>().not.toHaveProperty("parse");
    expectTypeOf<Spread>().toExtend<DomainConfigInput>();
  });
});

describe("validateDomains errors", () => {
  it("names the file and the key path of a bad hostname", () => {
    const error = errorOf(() =>
      validateDomains(
        {
          "my-domain": {
            name: "my-domain",
            domains: { production: "api.myapp.com", staging: "https://x.myapp.com/" },
          },
        },
        { file: "services/api/src/config/domains.ts" },
      ),
    );
    expect(error.code).toBe("ERR_DOMAIN_CONFIG_INVALID");
    expect(error.path).toBe("domains.my-domain.domains.staging");
    expect(error.file).toBe("services/api/src/config/domains.ts");
    expect(error.message).toBe(
      'services/api/src/config/domains.ts: domains.my-domain.domains.staging: expected a hostname such as "api.example.com" (no scheme), got "https://x.myapp.com/"',
    );
    expect(error.exitCode).toBe(2);
    expect(error.toJSON()).toMatchObject({ code: "ERR_DOMAIN_CONFIG_INVALID", kind: "user" });
  });

  it.each([
    ["localhost", "expected a hostname"],
    ["10.0.0.1", "expected a hostname"],
    ["*.example.com", "(no wildcard)"],
    ["api.example.com:8080", "(no port)"],
    ["-bad.example.com", "expected a hostname"],
    [`${"a".repeat(64)}.example.com`, "expected a hostname"],
  ])("rejects the hostname %s", (host, message) => {
    const error = errorOf(() => validateDomains({ a: { name: "a", domains: { production: host } } }));
    expect(error.path).toBe("domains.a.domains.production");
    expect(error.message).toContain(message);
  });

  it("reports every problem, each with its own path", () => {
    const error = errorOf(() =>
      validateDomains({
        svc: {
          name: "other",
          accountId: "your-cloudflare-account-id",
          domains: { production: "a.example.com", Staging: "b.example.com" },
          features: { premiumFeatures: "yes" },
          dependsOn: ["db", "db"],
          secrets: { required: ["API KEY"] },
          tests: { helth: {}, latency: { samples: 0 } },
        },
      }),
    );
    expect(error.issues).toEqual(
      expect.arrayContaining([
        {
          path: "domains.svc.accountId",
          message: 'expected a Cloudflare account id (32 hex digits), got "your-cloudflare-account-id"',
        },
        {
          path: "domains.svc.domains.Staging",
          message: expect.stringMatching(/^invalid key: expected an environment name/),
        },
        { path: "domains.svc.features.premiumFeatures", message: 'expected true or false, got "yes"' },
        {
          path: "domains.svc.secrets.required[0]",
          message: expect.stringMatching(/^expected a binding name/),
        },
        { path: "domains.svc.tests.helth", message: "unknown key" },
        { path: "domains.svc.tests.latency.samples", message: "expected an integer from 1 to 1000" },
      ]),
    );
    expect(error.message).toMatch(/\(and \d+ more: /);
  });

  it("runs the cross-field checks once the shape is right", () => {
    const error = errorOf(() =>
      validateDomains({
        a: {
          name: "b",
          domains: { production: "api.example.com" },
          features: { analytics: false },
          dependsOn: ["b", "auth"],
          environments: { staging: { features: { analytcs: true } } },
        },
        c: { name: "c", domains: { production: "API.example.com" } },
      }),
    );
    expect(error.issues).toEqual(
      expect.arrayContaining([
        { path: "domains.a.name", message: 'expected the name to equal its key "a", got "b"' },
        { path: "domains.a.dependsOn[0]", message: "a service cannot depend on itself" },
        {
          path: "domains.a.environments.staging.features.analytcs",
          message: 'unknown flag "analytcs"; declare its default in features first',
        },
        {
          path: "domains.c.domains.production",
          message: 'hostname "API.example.com" is already used by a.domains.production',
        },
      ]),
    );
  });

  it("says what is missing", () => {
    const result = safeValidateDomains({ a: { name: "a" } });
    expect(result.success).toBe(false);
    if (!result.success)
      expect(result.error.issues).toEqual([{ path: "domains.a.domains", message: "is required" }]);
    const error = errorOf(() => validateDomains({ a: { name: "a", domains: {} } }));
    expect(error.message).toBe(
      'domains.a.domains: expected at least one environment, e.g. { production: "api.example.com" }',
    );
    expect(errorOf(() => validateDomains("nope", { file: "d.ts" })).message).toBe(
      'd.ts: domains: expected an object, got "nope"',
    );
  });

  it("names the entry when validating a single config", () => {
    const error = errorOf(() =>
      validateDomainConfig({ name: "api", domains: { production: "x" } }, { file: "d.ts" }),
    );
    expect(error.message).toBe(
      'd.ts: domains.api.domains.production: expected a hostname such as "api.example.com", got "x"',
    );
  });
});

describe("the full config", () => {
  const full = defineDomains({
    gateway: {
      name: "gateway",
      domains: { production: "api.example.com", staging: "staging-api.example.com" },
      features: { premiumFeatures: false, analytics: true },
      dependsOn: ["auth", "data"],
      environments: { staging: { features: { premiumFeatures: true }, vars: { LOG_LEVEL: "debug" } } },
      secrets: { required: ["JWT_SECRET", "API_KEY"] },
      tests: {
        health: { path: "/healthz", expectJson: { status: "ok", "db.ready": true } },
        auth: {
          token: {
            login: {
              path: "/auth/login",
              body: { user: "probe", password: "{{secret:PROBE_PASSWORD}}" },
              token: { json: "data.token" },
            },
          },
          protectedRoute: { path: "/me" },
        },
        latency: { samples: 30, p50Ms: 100, p95Ms: 400 },
        burst: { concurrency: 5, requests: 40 },
      },
      // A seed-era key Lego does not know: kept, not rejected.
      settings: { cors: true },
    },
  });

  it("keeps every declaration and fills in the defaults", () => {
    const config = validateDomains(full).gateway!;
    expect(config.tests).toEqual({
      health: { path: "/healthz", expectStatus: 200, expectJson: { status: "ok", "db.ready": true } },
      auth: {
        token: {
          login: {
            method: "POST",
            path: "/auth/login",
            body: { user: "probe", password: "{{secret:PROBE_PASSWORD}}" },
            token: { json: "data.token" },
          },
        },
        header: "Authorization",
        scheme: "Bearer",
        protectedRoute: { method: "GET", path: "/me", expectStatus: 200, unauthorizedStatus: [401, 403] },
      },
      latency: { path: "/health", samples: 30, p50Ms: 100, p95Ms: 400 },
      burst: { path: "/health", concurrency: 5, requests: 40, maxErrorRate: 0 },
    });
    expect(config.environments.staging).toEqual({
      features: { premiumFeatures: true },
      vars: { LOG_LEVEL: "debug" },
    });
    expect((config as unknown as { settings: unknown }).settings).toEqual({ cors: true });
  });

  it("rejects a burst with fewer requests than its concurrency, and a bad token source", () => {
    const error = errorOf(() =>
      validateDomains({
        a: {
          name: "a",
          domains: { production: "a.example.com" },
          tests: {
            burst: { concurrency: 20, requests: 5 },
            auth: { token: { cookie: "x" }, protectedRoute: { path: "me" } },
          },
        },
      }),
    );
    expect(error.issues).toEqual(
      expect.arrayContaining([
        {
          path: "domains.a.tests.auth.token",
          message: 'expected { login: { path, ... } } or { secret: "NAME" }',
        },
        {
          path: "domains.a.tests.auth.protectedRoute.path",
          message: 'expected a path starting with "/", got "me"',
        },
      ]),
    );
    const burst = errorOf(() =>
      validateDomains({
        a: {
          name: "a",
          domains: { production: "a.example.com" },
          tests: { burst: { concurrency: 20, requests: 5 } },
        },
      }),
    );
    expect(burst.issues).toEqual([
      {
        path: "domains.a.tests.burst.requests",
        message: "expected at least concurrency (20) requests, got 5",
      },
    ]);
  });

  it("keeps the hand-written types equal to the schema's", () => {
    // The inferred output has an index signature (a loose object); the named keys must match exactly.
    type Known<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
    expectTypeOf<Known<InferredDomainConfig>>().toEqualTypeOf<Known<DomainConfig>>();
    expectTypeOf<DomainConfigInput>().toExtend<Known<InferredDomainConfigInput>>();
    expectTypeOf(full.gateway.features).toEqualTypeOf<{
      readonly premiumFeatures: false;
      readonly analytics: true;
    }>();
  });
});
