import type { ResolvedScaffoldOptions, ServiceType } from "../options.ts";
import { requiredSecrets } from "./project.ts";

/** A feature flag a type declares: its constant name, flag name, default, per-environment values and purpose. */
export interface FlagSpec {
  constant: string;
  flag: string;
  default: boolean;
  /** Environment -> value, where it differs from the default. */
  environments?: Record<string, boolean>;
  doc: string;
}

/** The feature flags each type declares (and guards a route with). */
export function flagsOf(type: ServiceType): FlagSpec[] {
  switch (type) {
    case "api-gateway":
      return [
        {
          constant: "AUTH_PROXY",
          flag: "authProxy",
          default: true,
          doc: "Forward /auth/* to the auth service.",
        },
        {
          constant: "DATA_PROXY",
          flag: "dataProxy",
          default: true,
          doc: "Forward /data/* to the data service.",
        },
      ];
    case "data-service":
      return [
        {
          constant: "NOTES_WRITE",
          flag: "notesWrite",
          default: true,
          doc: "Allow creating, updating and deleting notes (reads stay on when off).",
        },
      ];
    case "auth-service":
      return [
        {
          constant: "TOKEN_ISSUING",
          flag: "tokenIssuing",
          default: true,
          doc: "Issue new tokens at POST /token.",
        },
      ];
    case "static-site":
      return [
        {
          constant: "BETA_PREVIEW",
          flag: "betaPreview",
          default: false,
          environments: { development: true, staging: true },
          doc: "Serve the /beta page (on in development and staging, off in production).",
        },
      ];
  }
}

/** `src/config/features.ts`: the flag names, so code says `FEATURES.NOTES_WRITE` rather than a bare string. */
export function renderFeatures(o: ResolvedScaffoldOptions): string {
  const flags = flagsOf(o.type);
  const entries = flags.map((f) => `  /** ${f.doc} */\n  ${f.constant}: ${JSON.stringify(f.flag)},`);
  return `/** The feature flags of ${o.name}. Defaults and per-environment values live in ./domains.ts. */
export const FEATURES = {
${entries.join("\n")}
} as const;

/** One of the flag names of this service. */
export type Feature = (typeof FEATURES)[keyof typeof FEATURES];
`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** An object key as biome prints it: bare when it is an identifier, quoted otherwise. */
export function propertyKey(key: string): string {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key);
}

/**
 * A value as a TypeScript object literal, formatted the way biome leaves it: objects expanded one key per
 * line with trailing commas, identifier keys unquoted, short arrays of primitives inline.
 */
export function toLiteral(value: unknown, indent = ""): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v) => toLiteral(v, inner));
    const inline = `[${items.join(", ")}]`;
    if (value.every((v) => typeof v !== "object" || v === null) && inline.length <= 60) return inline;
    return `[\n${items.map((i) => `${inner}${i},`).join("\n")}\n${indent}]`;
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const lines = entries.map(([k, v]) => `${inner}${propertyKey(k)}: ${toLiteral(v, inner)},`);
    return `{\n${lines.join("\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** The domain config entry of the service, as a plain object (what `src/config/domains.ts` declares). */
export function domainConfigOf(o: ResolvedScaffoldOptions): Record<string, unknown> {
  const flags = flagsOf(o.type);
  const features = Object.fromEntries(flags.map((f) => [f.flag, f.default]));
  // `development` (the top level of wrangler.jsonc: wrangler dev, tests) has no hostname; declaring it
  // here lets the runtime resolve ENVIRONMENT=development.
  const environments: Record<string, { features?: Record<string, boolean> }> = { development: {} };
  for (const f of flags) {
    for (const [env, value] of Object.entries(f.environments ?? {})) {
      if (env !== "development" && !o.environments.includes(env)) continue;
      environments[env] ??= {};
      environments[env].features = { ...environments[env].features, [f.flag]: value };
    }
  }
  const tests: Record<string, unknown> = {
    health: { path: "/health", expectStatus: 200, expectJson: { ok: true, service: o.name } },
  };
  if (o.type === "auth-service") {
    tests.auth = {
      token: {
        login: {
          method: "POST",
          path: "/token",
          body: { subject: "lego-production-test" },
          token: { json: "token" },
        },
      },
      protectedRoute: { method: "GET", path: "/me", expectStatus: 200 },
    };
  }
  return {
    name: o.name,
    displayName: o.displayName,
    ...(o.accountId ? { accountId: o.accountId } : {}),
    ...(o.zoneId ? { zoneId: o.zoneId } : {}),
    domains: { ...o.hostnames },
    features,
    environments,
    dependsOn: o.upstreams.map((u) => u.service),
    tests,
    secrets: { required: requiredSecrets(o) },
  };
}

/** `src/config/domains.ts`: the domain config, built with `defineDomains` from `@lego/runtime`. */
export function renderDomains(o: ResolvedScaffoldOptions): string {
  return `import { defineDomains } from "@lego/runtime";

/**
 * The domain config of ${o.name}: one hostname per deployed environment, feature flags (defaults, then
 * per-environment values), the services it needs first, what every deploy tests, and the secrets it needs.
 * \`lego\` reads and validates this file before it deploys; the Worker reads it through initializeService.
 */
export const domains = defineDomains({
  ${propertyKey(o.name)}: ${toLiteral(domainConfigOf(o), "  ")},
});
`;
}
