import { describe, expect, it } from "vitest";
import { FeatureFlagManager, RuntimeConfigError } from "../src/index.ts";

const config = {
  features: { premiumFeatures: false, analytics: true, fileStorage: false },
  environments: { staging: { features: { premiumFeatures: true } } },
};

function codeOf(fn: () => unknown): { code: string; message: string; path: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeConfigError);
    const { code, message, path } = error as RuntimeConfigError;
    return { code, message, path };
  }
  throw new Error("expected a RuntimeConfigError");
}

describe("FeatureFlagManager", () => {
  it("layers defaults, the environment's values and binding overrides", () => {
    const production = FeatureFlagManager.fromConfig(config, "production", {});
    expect(production.all()).toEqual({ premiumFeatures: false, analytics: true, fileStorage: false });
    const staging = FeatureFlagManager.fromConfig(config, "staging", {});
    expect(staging.isEnabled("premiumFeatures")).toBe(true);
    expect(staging.sourceOf("premiumFeatures")).toBe("environment");

    const overridden = FeatureFlagManager.fromConfig(config, "staging", {
      LEGO_FEATURES: '{"analytics": false, "fileStorage": "on"}',
      FEATURE_PREMIUMFEATURES: "false",
      FEATURE_FILE_STORAGE: "0",
    });
    expect(overridden.all()).toEqual({ premiumFeatures: false, analytics: false, fileStorage: false });
    expect(overridden.sourceOf("premiumFeatures")).toBe("FEATURE_PREMIUMFEATURES");
    expect(overridden.sourceOf("analytics")).toBe("LEGO_FEATURES");
    expect(overridden.sourceOf("fileStorage")).toBe("FEATURE_FILE_STORAGE");
  });

  it("accepts JSON-typed vars as well as strings", () => {
    const flags = FeatureFlagManager.fromConfig(config, "production", {
      LEGO_FEATURES: { premiumFeatures: true },
      FEATURE_ANALYTICS: false,
    });
    expect(flags.isEnabled("premiumFeatures")).toBe(true);
    expect(flags.isEnabled("analytics")).toBe(false);
  });

  it("treats an undeclared flag as off, and all() as frozen", () => {
    const flags = FeatureFlagManager.fromConfig<string>(config, "production");
    expect(flags.isEnabled("nope")).toBe(false);
    expect(flags.isEnabled("toString")).toBe(false);
    expect(flags.sourceOf("nope")).toBeUndefined();
    expect(Object.isFrozen(flags.all())).toBe(true);
    expect(flags.all()).toBe(flags.all());
  });

  it("names the binding and the allowed values for a bad value", () => {
    expect(
      codeOf(() => FeatureFlagManager.fromConfig(config, "production", { FEATURE_ANALYTICS: "maybe" })),
    ).toEqual({
      code: "ERR_RUNTIME_BINDING_INVALID",
      path: "FEATURE_ANALYTICS",
      message: 'FEATURE_ANALYTICS: expected true or false (also 1/0, on/off, yes/no), got "maybe"',
    });
    expect(
      codeOf(() => FeatureFlagManager.fromConfig(config, "production", { LEGO_FEATURES: "{nope" })),
    ).toMatchObject({
      code: "ERR_RUNTIME_BINDING_INVALID",
      path: "LEGO_FEATURES",
    });
    expect(
      codeOf(() =>
        FeatureFlagManager.fromConfig(config, "production", { LEGO_FEATURES: '{"analytics": 2}' }),
      ),
    ).toMatchObject({
      code: "ERR_RUNTIME_BINDING_INVALID",
      path: "LEGO_FEATURES.analytics",
    });
  });

  it("refuses overrides of flags the service does not declare", () => {
    expect(
      codeOf(() =>
        FeatureFlagManager.fromConfig(config, "production", { LEGO_FEATURES: '{"premium": true}' }),
      ),
    ).toEqual({
      code: "ERR_RUNTIME_FEATURE_UNKNOWN",
      path: "LEGO_FEATURES",
      message:
        'LEGO_FEATURES: unknown flag "premium"; the service declares "premiumFeatures", "analytics", "fileStorage"',
    });
    expect(
      codeOf(() => FeatureFlagManager.fromConfig(config, "production", { FEATURE_PREMIUM: "true" })),
    ).toEqual({
      code: "ERR_RUNTIME_FEATURE_UNKNOWN",
      path: "FEATURE_PREMIUM",
      message:
        "FEATURE_PREMIUM: matches no declared flag; expected one of FEATURE_PREMIUMFEATURES, FEATURE_ANALYTICS, FEATURE_FILESTORAGE",
    });
  });

  it("works standalone, without a declared flag set", () => {
    const flags = new FeatureFlagManager({
      overrides: { beta: true },
      bindings: { LEGO_FEATURES: '{"gamma": "yes"}', FEATURE_X: "1" },
    });
    expect(flags.all()).toEqual({ beta: true, gamma: true });
    const strict = new FeatureFlagManager({ defaults: { beta: false }, overrides: { beta: true } });
    expect(strict.isEnabled("beta")).toBe(true);
    expect(
      codeOf(() => new FeatureFlagManager({ defaults: { beta: false }, overrides: { gamma: true } as never }))
        .code,
    ).toBe("ERR_RUNTIME_FEATURE_UNKNOWN");
  });
});
