import { UsageError } from "@lego/core";
import {
  assertSecretName,
  inferSecretType,
  type SecretFormat,
  type SecretSpec,
  type SecretTypeName,
  secretTypes,
} from "./generate.ts";

/**
 * One service in one environment, as far as secrets go: the Worker script that holds them and the names
 * it requires (the domain config's `secrets.required` plus wrangler's `secrets.required`).
 */
export interface SecretsScope {
  service: string;
  env: string;
  /** The deployed script name in this environment, e.g. `api-staging`. */
  scriptName: string;
  required: string[];
  /** The service folder (wrangler's working directory), for pushing through wrangler. */
  dir?: string | undefined;
  /** The wrangler config file inside `dir`, when not the default one wrangler finds. */
  configFile?: string | undefined;
  /** wrangler's `--env` for this environment (`""` for the top level). Defaults to `env`. */
  wranglerEnv?: string | undefined;
}

/** Names only: what a persisted secret looks like to a planner (values never enter plans). */
export interface PersistedName {
  name: string;
  type: string;
}

/** Which required secrets an environment lacks, read from the API's secret list. Names only. */
export interface SecretsDiff {
  service: string;
  env: string;
  scriptName: string;
  /** False when the script does not exist yet: every required secret is missing. */
  scriptExists: boolean;
  required: string[];
  /** Required and set. */
  present: string[];
  /** Required and not set. */
  missing: string[];
  /** Set but not required (fine; reported for information). */
  extra: string[];
}

/** The union of the domain config's and wrangler's required secret names, sorted, without repeats. */
export function requiredSecretNames(sources: {
  domain?: readonly string[] | undefined;
  wrangler?: readonly string[] | undefined;
}): string[] {
  return [...new Set([...(sources.domain ?? []), ...(sources.wrangler ?? [])])].sort();
}

/**
 * Compares the required names with the names the API lists (`undefined` when the script does not exist).
 */
export function diffSecrets(scope: SecretsScope, remote: readonly string[] | undefined): SecretsDiff {
  const have = new Set(remote ?? []);
  const required = [...new Set(scope.required)].sort();
  return {
    service: scope.service,
    env: scope.env,
    scriptName: scope.scriptName,
    scriptExists: remote !== undefined,
    required,
    present: required.filter((n) => have.has(n)),
    missing: required.filter((n) => !have.has(n)),
    extra: [...have].filter((n) => !required.includes(n)).sort(),
  };
}

/** Why a secret is in a plan. */
export type PlanReason = "requested" | "missing" | "persisted" | "rotate" | "sync";

/** One secret a plan will set: either a new value or one kept in the vault. */
export type SecretPlanItem =
  | { name: string; type: string; reason: PlanReason; source: "generate"; format: SecretFormat }
  | {
      name: string;
      type: string;
      reason: PlanReason;
      source: "vault";
      /** Where the value is read from (another environment for `sync`). */
      from: { service: string; env: string };
    };

/** What a secrets run will do, before it does anything. Data only, no values. */
export interface SecretsPlan {
  action: "generate" | "push" | "rotate" | "sync";
  scope: SecretsScope;
  items: SecretPlanItem[];
  /** Set remotely and left alone. */
  unchanged: string[];
  /** Names that cannot be planned, with why (e.g. a sync source value that was never persisted). */
  skipped: Array<{ name: string; reason: string }>;
}

function specFormat(type: string, name: string): { type: SecretTypeName; format: SecretFormat } {
  const known = type in secretTypes ? (type as Exclude<SecretTypeName, "custom">) : inferSecretType(name);
  return { type: known, format: secretTypes[known].format };
}

/**
 * `generate`: a new value for each requested spec (replacing what is set), and, when `fillMissing`, for
 * each required secret that is neither set remotely nor among the requested.
 */
export function planGenerate(input: {
  scope: SecretsScope;
  requested: readonly SecretSpec[];
  remote: readonly string[] | undefined;
  fillMissing?: boolean;
}): SecretsPlan {
  const items: SecretPlanItem[] = input.requested.map((spec) => ({
    name: spec.name,
    type: spec.type,
    reason: "requested",
    source: "generate",
    format: spec.format,
  }));
  if (input.fillMissing) {
    for (const name of diffSecrets(input.scope, input.remote).missing) {
      if (items.some((i) => i.name === name)) continue;
      const { type, format } = specFormat("", name);
      items.push({ name, type, reason: "missing", source: "generate", format });
    }
  }
  const planned = new Set(items.map((i) => i.name));
  return {
    action: "generate",
    scope: input.scope,
    items,
    unchanged: (input.remote ?? []).filter((n) => !planned.has(n)).sort(),
    skipped: [],
  };
}

/**
 * `push`: every value persisted in the vault for this service and environment (pushed again, so the
 * environment matches the vault), plus a new value for each required secret that is neither set
 * remotely nor persisted. Secrets set remotely and unknown to the vault are left alone.
 */
export function planPush(input: {
  scope: SecretsScope;
  remote: readonly string[] | undefined;
  persisted: readonly PersistedName[];
  only?: readonly string[] | undefined;
}): SecretsPlan {
  const { scope } = input;
  const wanted = (name: string) => !input.only || input.only.length === 0 || input.only.includes(name);
  const items: SecretPlanItem[] = [];
  for (const p of input.persisted) {
    if (!wanted(p.name)) continue;
    items.push({
      name: p.name,
      type: p.type,
      reason: "persisted",
      source: "vault",
      from: { service: scope.service, env: scope.env },
    });
  }
  for (const name of diffSecrets(scope, input.remote).missing) {
    if (!wanted(name) || items.some((i) => i.name === name)) continue;
    const { type, format } = specFormat("", name);
    items.push({ name, type, reason: "missing", source: "generate", format });
  }
  const skipped = (input.only ?? [])
    .filter((n) => !items.some((i) => i.name === n))
    .map((name) => ({
      name,
      reason: (input.remote ?? []).includes(name)
        ? "set remotely and not in the vault; use rotate to replace it"
        : "neither required nor persisted",
    }));
  const planned = new Set(items.map((i) => i.name));
  return {
    action: "push",
    scope,
    items: items.sort((a, b) => a.name.localeCompare(b.name)),
    unchanged: (input.remote ?? []).filter((n) => !planned.has(n)).sort(),
    skipped,
  };
}

/** `rotate`: one new value for `name`, of the type it was generated with (or inferred from its name). */
export function planRotate(input: {
  scope: SecretsScope;
  name: string;
  remote: readonly string[] | undefined;
  persisted: readonly PersistedName[];
}): SecretsPlan {
  assertSecretName(input.name);
  const previous = input.persisted.find((p) => p.name === input.name);
  // Rotating replaces a secret the service has: a typo must not create a new one on the Worker.
  if (!previous && !input.scope.required.includes(input.name) && !(input.remote ?? []).includes(input.name)) {
    const known = [...new Set([...input.scope.required, ...(input.remote ?? [])])].sort();
    throw new UsageError({
      code: "ERR_SECRET_UNDECLARED",
      message: `${input.scope.service} (${input.scope.env}) has no secret ${input.name}: it is not in secrets.required, ${input.remote ? `not set on ${input.scope.scriptName}, ` : ""}and not in the vault`,
      hint: known.length
        ? `Rotate one of ${known.join(", ")}, or declare ${input.name} in secrets.required of the domain config first.`
        : `Declare ${input.name} in secrets.required of the domain config first (\`lego secrets list ${input.scope.service}\` shows its secrets).`,
      details: { service: input.scope.service, env: input.scope.env, name: input.name },
    });
  }
  const { type, format } = specFormat(previous?.type ?? "", input.name);
  return {
    action: "rotate",
    scope: input.scope,
    items: [{ name: input.name, type, reason: "rotate", source: "generate", format }],
    unchanged: (input.remote ?? []).filter((n) => n !== input.name).sort(),
    skipped: [],
  };
}

/**
 * `sync`: copies the values persisted for `from` to the `to` environment. The API never returns secret
 * values, so a secret set in `from` but not persisted in the vault cannot be copied: it is listed in
 * `skipped`.
 */
export function planSync(input: {
  from: { scope: SecretsScope; remote: readonly string[] | undefined; persisted: readonly PersistedName[] };
  to: { scope: SecretsScope; remote: readonly string[] | undefined };
}): SecretsPlan {
  const { from, to } = input;
  const items: SecretPlanItem[] = from.persisted.map((p) => ({
    name: p.name,
    type: p.type,
    reason: "sync",
    source: "vault",
    from: { service: from.scope.service, env: from.scope.env },
  }));
  const copied = new Set(items.map((i) => i.name));
  const skipped = (from.remote ?? [])
    .filter((n) => !copied.has(n))
    .sort()
    .map((name) => ({
      name,
      reason: `set in ${from.scope.env} but not persisted in the vault (the API never returns values)`,
    }));
  return {
    action: "sync",
    scope: to.scope,
    items: items.sort((a, b) => a.name.localeCompare(b.name)),
    unchanged: (to.remote ?? []).filter((n) => !copied.has(n)).sort(),
    skipped,
  };
}
