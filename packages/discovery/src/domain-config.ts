import type { DomainConfig } from "@lego/runtime";
import type { ConfigProblem } from "./wrangler-config.ts";

/** Where a service keeps its domain config, relative to the service folder, in order of preference. */
export const DOMAIN_CONFIG_FILES = [
  "src/config/domains.ts",
  "src/config/domains.mts",
  "src/config/domains.js",
  "src/config/domains.mjs",
] as const;

/** The outcome of reading a domain config module's exports. */
export type DomainConfigResult =
  | { ok: true; configs: DomainConfig[]; problems: [] }
  | { ok: false; configs?: undefined; problems: ConfigProblem[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Only the keys Lego knows, as plain JSON: a seed-era config may carry functions or schema objects. */
function plain(config: DomainConfig): DomainConfig {
  const copy: DomainConfig = {
    name: config.name,
    domains: { ...config.domains },
    features: { ...config.features },
    dependsOn: [...config.dependsOn],
    environments: JSON.parse(JSON.stringify(config.environments ?? {})),
    tests: JSON.parse(JSON.stringify(config.tests ?? {})),
    secrets: { required: [...(config.secrets?.required ?? [])] },
  };
  if (config.displayName !== undefined) copy.displayName = config.displayName;
  if (config.accountId !== undefined) copy.accountId = config.accountId;
  if (config.zoneId !== undefined) copy.zoneId = config.zoneId;
  return copy;
}

/**
 * Reads the `domains` export of a domain config module (`export const domains = {...}`, the seed's
 * form, or `export default defineDomains({...})`) and validates it with `@lego/runtime`'s schema.
 * Problems name the file and the key path; nothing throws for a config problem.
 */
export async function readDomainConfigExports(
  exports: Record<string, unknown>,
  file: string,
): Promise<DomainConfigResult> {
  const value = exports.domains ?? exports.default;
  if (!isRecord(value)) {
    return {
      ok: false,
      problems: [
        {
          file,
          keyPath: "domains",
          message:
            value === undefined
              ? 'no "domains" export; export const domains = { "<service>": { name, domains: { production: "<hostname>" } } }'
              : "the domains export must be an object keyed by service name",
        },
      ],
    };
  }
  // Imported here, not at the top: the schema (zod) is only needed when a config is actually read.
  const { validateDomains } = await import("@lego/runtime");
  try {
    const validated = validateDomains(value, { file });
    return { ok: true, problems: [], configs: Object.values(validated).map(plain) };
  } catch (error) {
    const issues = (error as { issues?: Array<{ path: string; message: string }> }).issues;
    if (Array.isArray(issues) && issues.length > 0) {
      return {
        ok: false,
        problems: issues.map((issue) => ({
          file,
          keyPath: issue.path
            ? `domains.${issue.path.replace(/^domains\.?/, "")}`.replace(/\.$/, "")
            : "domains",
          message: issue.message,
        })),
      };
    }
    throw error;
  }
}
