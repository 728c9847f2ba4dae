/**
 * `@lego/runtime/schema`: the domain config schema and validation alone, for tools (discovery, the CLI)
 * and for Workers that validate a config at runtime. The main entry re-exports all of it too.
 */
export { defineDomains } from "../define.ts";
export type { ConfigIssue, RuntimeConfigErrorOptions } from "../errors.ts";
export { RuntimeConfigError, RuntimeErrorCode } from "../errors.ts";
export type {
  AuthTest,
  AuthTestInput,
  BurstTest,
  BurstTestInput,
  DomainConfig,
  DomainConfigInput,
  DomainsByEnvironment,
  DomainsModule,
  DomainsModuleInput,
  EnvironmentOverride,
  FeatureFlags,
  FlagsOf,
  HealthCheck,
  HealthCheckInput,
  HttpMethod,
  JsonValue,
  LatencyBudget,
  LatencyBudgetInput,
  ProductionTests,
  ProductionTestsInput,
  ProtectedRoute,
  SecretsDeclaration,
  TokenLocation,
  TokenSource,
  TokenSourceInput,
} from "../types.ts";
export type { DomainConfigDefaults, ValidateOptions, ValidationResult } from "./domain-config.ts";
export {
  createDomainConfigSchema,
  DomainConfigSchema,
  domainConfigZodSchema,
  domainsModuleZodSchema,
  safeValidateDomainConfig,
  safeValidateDomains,
  validateDomainConfig,
  validateDomains,
} from "./domain-config.ts";
