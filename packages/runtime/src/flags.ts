import { RuntimeConfigError } from "./errors.ts";
import { featureBindingNames } from "./names.ts";

/** The Worker bindings @lego/runtime reads. They are bindings (`env.X`), never the process environment. */
export const RuntimeBindings = {
  /** The environment name (`production`, `staging`, ...). Checked before `ENVIRONMENT`. */
  environment: "LEGO_ENV",
  /** The environment name, as many Workers already call it. */
  environmentFallback: "ENVIRONMENT",
  /** Which entry of the domain config this Worker is, when the config has several. */
  service: "LEGO_SERVICE",
  /** The whole `domains` config, as a JSON var (string or object), for Workers that do not import it. */
  domains: "LEGO_DOMAINS",
  /** Flag overrides as JSON: `{"premiumFeatures": true}`. */
  features: "LEGO_FEATURES",
  /** Prefix of one-flag overrides: `FEATURE_PREMIUMFEATURES=true` (or `FEATURE_PREMIUM_FEATURES`). */
  featurePrefix: "FEATURE_",
} as const;

/** Where a flag's current value came from. */
export type FlagSource = "default" | "environment" | "override" | "LEGO_FEATURES" | `FEATURE_${string}`;

/** Options of {@link FeatureFlagManager}. */
export interface FeatureFlagManagerOptions<F extends string = string> {
  /**
   * The declared flags and their defaults (a service's `features`). When given, overrides may only name
   * these flags; an unknown one is an `ERR_RUNTIME_FEATURE_UNKNOWN` error rather than a silent no-op.
   */
  defaults?: Partial<Record<F, boolean>> | undefined;
  /** The current environment, selecting `environments[environment].features`. */
  environment?: string | undefined;
  /** Per-environment flag values (a service's `environments`). */
  environments?:
    | Record<string, { features?: Partial<Record<F, boolean>> | undefined } | undefined>
    | undefined;
  /** The Worker's `env`: `LEGO_FEATURES` and `FEATURE_*` bindings override everything else. */
  bindings?: object | undefined;
  /** Explicit values, applied after the environment's and before the bindings'. */
  overrides?: Partial<Record<F, boolean>> | undefined;
}

const TRUE = new Set(["true", "1", "on", "yes", "enabled"]);
const FALSE = new Set(["false", "0", "off", "no", "disabled", ""]);

function toBoolean(value: unknown, binding: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "number" && (value === 0 || value === 1)) return value === 1;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
  }
  throw new RuntimeConfigError({
    code: "ERR_RUNTIME_BINDING_INVALID",
    message: `${binding}: expected true or false (also 1/0, on/off, yes/no), got ${JSON.stringify(value) ?? String(value)}`,
    path: binding,
    hint: `Set ${binding.split(".")[0]} to "true" or "false" in the Worker's vars.`,
  });
}

function unknownFlag(flag: string, binding: string, known: string[]): RuntimeConfigError {
  return new RuntimeConfigError({
    code: "ERR_RUNTIME_FEATURE_UNKNOWN",
    message: `${binding}: unknown flag "${flag}"; the service declares ${known.length ? known.map((f) => `"${f}"`).join(", ") : "no flags"}`,
    path: binding,
    hint: "Declare the flag (and its default) in the service's features, or remove the override.",
  });
}

/**
 * The feature flags of one service in one environment. Values are layered, later wins: the defaults
 * (`features`), the environment's (`environments[env].features`), explicit `overrides`, then the Worker's
 * bindings: `LEGO_FEATURES` (JSON) and `FEATURE_<FLAG>` (one flag each). Checking a flag is a property read.
 *
 * @example
 * const flags = new FeatureFlagManager({
 *   defaults: { premiumFeatures: false, analytics: true },
 *   environment: "staging",
 *   environments: { staging: { features: { premiumFeatures: true } } },
 *   bindings: env, // FEATURE_ANALYTICS="false" turns analytics off
 * });
 * if (flags.isEnabled("premiumFeatures")) { ... }
 */
export class FeatureFlagManager<F extends string = string> {
  readonly #values: Record<string, boolean>;
  readonly #sources: Record<string, FlagSource>;
  #all: Readonly<Record<F, boolean>> | undefined;

  constructor(options: FeatureFlagManagerOptions<F> = {}) {
    const values: Record<string, boolean> = Object.create(null);
    const sources: Record<string, FlagSource> = Object.create(null);
    const set = (layer: Record<string, boolean | undefined> | undefined, source: FlagSource) => {
      if (!layer) return;
      for (const [flag, value] of Object.entries(layer)) {
        if (typeof value !== "boolean") continue;
        values[flag] = value;
        sources[flag] = source;
      }
    };
    set(options.defaults, "default");
    const declared = options.defaults ? Object.keys(values) : undefined;
    if (options.environment !== undefined)
      set(options.environments?.[options.environment]?.features, "environment");
    if (options.overrides) {
      if (declared)
        for (const flag of Object.keys(options.overrides))
          if (!(flag in values)) throw unknownFlag(flag, "overrides", declared);
      set(options.overrides, "override");
    }
    if (options.bindings) readBindings(options.bindings as Record<string, unknown>, declared, set);
    this.#values = values;
    this.#sources = sources;
  }

  /**
   * A manager for one service of a domain config in one environment, overridden by the Worker's bindings.
   *
   * @example
   * const flags = FeatureFlagManager.fromConfig(domains["my-domain"], "production", env);
   */
  static fromConfig<F extends string = string>(
    config: {
      features?: Partial<Record<F, boolean>> | undefined;
      environments?: FeatureFlagManagerOptions<F>["environments"];
    },
    environment: string,
    bindings?: object,
  ): FeatureFlagManager<F> {
    return new FeatureFlagManager<F>({
      defaults: config.features ?? {},
      environment,
      environments: config.environments,
      bindings,
    });
  }

  /** True when the flag is on. A flag the service does not declare is off. */
  isEnabled(flag: F): boolean {
    return this.#values[flag] === true;
  }

  /** Every flag and its value (a frozen object). */
  all(): Readonly<Record<F, boolean>> {
    this.#all ??= Object.freeze({ ...this.#values }) as Readonly<Record<F, boolean>>;
    return this.#all;
  }

  /** Where the flag's value came from (`default`, `environment`, `LEGO_FEATURES`, `FEATURE_X`, ...); undefined for an unknown flag. */
  sourceOf(flag: F): FlagSource | undefined {
    return this.#sources[flag];
  }
}

function readBindings(
  env: Record<string, unknown>,
  declared: string[] | undefined,
  set: (layer: Record<string, boolean>, source: FlagSource) => void,
): void {
  const json = env[RuntimeBindings.features];
  if (json !== undefined && json !== null && json !== "") {
    let parsed: unknown = json;
    if (typeof json === "string") {
      try {
        parsed = JSON.parse(json);
      } catch (cause) {
        parsed = cause;
      }
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || parsed instanceof Error)
      throw new RuntimeConfigError({
        code: "ERR_RUNTIME_BINDING_INVALID",
        message: `${RuntimeBindings.features}: expected a JSON object of flag → true/false, e.g. {"premiumFeatures":true}`,
        path: RuntimeBindings.features,
        hint: `Fix the ${RuntimeBindings.features} var in the wrangler config.`,
      });
    const layer: Record<string, boolean> = {};
    for (const [flag, value] of Object.entries(parsed)) {
      if (declared && !declared.includes(flag)) throw unknownFlag(flag, RuntimeBindings.features, declared);
      layer[flag] = toBoolean(value, `${RuntimeBindings.features}.${flag}`);
    }
    set(layer, RuntimeBindings.features);
  }
  let byBinding: Map<string, string> | undefined;
  for (const key of Object.keys(env)) {
    if (!key.startsWith(RuntimeBindings.featurePrefix)) continue;
    if (!byBinding) {
      byBinding = new Map();
      for (const flag of declared ?? [])
        for (const name of featureBindingNames(flag)) byBinding.set(name, flag);
    }
    const flag = byBinding.get(key);
    if (flag === undefined) {
      // Without declared flags there is nothing to match FEATURE_* against; only LEGO_FEATURES applies.
      if (declared)
        throw new RuntimeConfigError({
          code: "ERR_RUNTIME_FEATURE_UNKNOWN",
          message: `${key}: matches no declared flag; expected one of ${
            declared.length
              ? declared.map((f) => featureBindingNames(f)[0]).join(", ")
              : "none (the service declares no flags)"
          }`,
          path: key,
          hint: "Declare the flag (and its default) in the service's features, or remove the var.",
        });
      continue;
    }
    set({ [flag]: toBoolean(env[key], key) }, key as `FEATURE_${string}`);
  }
}
