import { describe, expect, it } from "vitest";
import { createFeatureGuard, initializeService, RuntimeConfigError } from "../src/index.ts";

// No registerDomains in this file: the config comes from the LEGO_DOMAINS binding (module state is per file).
const LEGO_DOMAINS = JSON.stringify({
  api: {
    name: "api",
    domains: { production: "api.example.com", staging: "staging-api.example.com" },
    features: { beta: false },
  },
});

describe("a domain config bound as LEGO_DOMAINS", () => {
  it("says how to provide a config when there is none", () => {
    try {
      initializeService({});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RuntimeConfigError);
      expect((error as RuntimeConfigError).code).toBe("ERR_RUNTIME_NO_DOMAINS");
      expect((error as RuntimeConfigError).hint).toContain("registerDomains");
    }
  });

  it("is parsed once per env object", () => {
    const env = { LEGO_DOMAINS, LEGO_ENV: "staging", FEATURE_BETA: "on" };
    const ctx = initializeService(env);
    expect([ctx.name, ctx.environment, ctx.features.isEnabled("beta")]).toEqual(["api", "staging", true]);
    expect(initializeService(env)).toBe(ctx);
  });

  it("may be a JSON object var as well as a string", async () => {
    const env = { LEGO_DOMAINS: JSON.parse(LEGO_DOMAINS) };
    const res = await createFeatureGuard("beta")(async () => new Response("beta"))(
      new Request("https://api.example.com/beta"),
      env,
      {},
    );
    expect(res.status).toBe(404);
  });

  it("names the binding when it is not JSON", () => {
    try {
      initializeService({ LEGO_DOMAINS: "{" });
      expect.unreachable();
    } catch (error) {
      expect((error as RuntimeConfigError).code).toBe("ERR_RUNTIME_BINDING_INVALID");
      expect((error as RuntimeConfigError).path).toBe("LEGO_DOMAINS");
    }
    try {
      initializeService({ LEGO_DOMAINS: '{"api": {"name": "api"}}' });
      expect.unreachable();
    } catch (error) {
      expect((error as RuntimeConfigError).message).toBe(
        "LEGO_DOMAINS.api.domains: expected environment → hostname",
      );
    }
  });
});
