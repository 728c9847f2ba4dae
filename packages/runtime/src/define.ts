import type { DomainsModuleInput } from "./types.ts";

/**
 * Declares a service's `domains` export with full typing (flag names, environment names) and no runtime
 * cost: it returns its argument unchanged, so a Worker that imports its config does not bundle the schema.
 * Validation happens where the config is read: `lego` (through `@lego/discovery`) runs
 * {@link validateDomains} on every `src/config/domains.ts` before it deploys or tests anything.
 *
 * @example
 * export const domains = defineDomains({
 *   "my-domain": {
 *     name: "my-domain",
 *     domains: { production: "api.myapp.com", staging: "staging-api.myapp.com" },
 *     features: { premiumFeatures: true, analytics: false },
 *     environments: { staging: { features: { analytics: true } } },
 *   },
 * });
 */
export function defineDomains<const D extends DomainsModuleInput>(domains: D): D {
  return domains;
}
