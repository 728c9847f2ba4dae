import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  createService,
  FeatureFlagManager,
  initializeService,
  RuntimeConfigError,
  validateDomains,
} from "../../src/index.ts";
import { domains } from "./domains.ts";

describe("inside workerd", () => {
  it("runs in the Workers runtime, with the wrangler config's vars as bindings", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
    expect(env.FEATURE_ANALYTICS).toBe("true");
    expect(env.LEGO_FEATURES).toEqual({ fileStorage: true });
  });

  it("resolves environment and flags from real bindings", () => {
    const service = createService(domains).initializeService({ ...env, LEGO_ENV: "staging" });
    expect([service.name, service.environment]).toEqual(["my-domain", "staging"]);
    expect(service.features.all()).toEqual({ premiumFeatures: true, analytics: true, fileStorage: true });
    expect(service.features.sourceOf("analytics")).toBe("FEATURE_ANALYTICS");
    expect(service.features.sourceOf("fileStorage")).toBe("LEGO_FEATURES");
  });

  it("validates the seed-form config with the zod schema", () => {
    expect(validateDomains(domains)["my-domain"]?.tests.health.path).toBe("/health");
    try {
      validateDomains(
        { a: { name: "a", domains: { staging: "not a host" } } },
        { file: "src/config/domains.ts" },
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RuntimeConfigError);
      expect((error as RuntimeConfigError).message).toMatch(
        /^src\/config\/domains\.ts: domains\.a\.domains\.staging: expected a hostname/,
      );
    }
  });

  it("answers 100,000 flag checks right inside workerd (bench/runtime.bench.mjs measures their cost)", () => {
    const flags = new FeatureFlagManager({ defaults: { a: true, b: false } });
    let on = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) if (flags.isEnabled(i & 1 ? "a" : "b")) on++;
    expect(on).toBe(n / 2);
  });

  it("needs a config when none is registered in this isolate's test module", () => {
    // The Worker under test registered its config in its own module instance; this one did not.
    expect(() => initializeService({})).toThrow(RuntimeConfigError);
  });
});

describe("the seed's Basic Usage, over HTTP (SELF)", () => {
  it("resolves the environment from the host and guards premium routes", async () => {
    const prod = await SELF.fetch("https://api.myapp.com/premium/report");
    expect(prod.status).toBe(404);
    expect(await prod.json()).toEqual({ error: { code: "NOT_FOUND", message: "Not found" } });

    const staging = await SELF.fetch("https://staging-api.myapp.com/premium/report");
    expect(staging.status).toBe(200);
    expect(await staging.json()).toEqual({ premium: "/premium/report" });
  });

  it("reports the service context and builds it once per environment", async () => {
    const first = (await (await SELF.fetch("https://api.myapp.com/")).json()) as Record<string, unknown>;
    expect(first).toMatchObject({
      name: "my-domain",
      environment: "production",
      resolvedBy: { service: "single", environment: "host" },
      features: { premiumFeatures: false, analytics: true, fileStorage: true },
    });
    const again = (await (await SELF.fetch("https://api.myapp.com/other")).json()) as { built: number };
    expect(again.built).toBe(first.built);
    const local = (await (await SELF.fetch("http://staging-api.myapp.com.localhost:8787/")).json()) as {
      environment: string;
      built: number;
    };
    expect(local.environment).toBe("staging");
    expect(local.built).toBe((first.built as number) + 1);
  });
});
