/** Worker-side helpers: the domain config schema, initializeService, feature flags and guards. Runs in Workers (no node: imports). */
export { defineDomains } from "./define.ts";
export type { ConfigIssue, RuntimeConfigErrorOptions } from "./errors.ts";
export { RuntimeConfigError, RuntimeErrorCode } from "./errors.ts";
export type { FeatureFlagManagerOptions, FlagSource } from "./flags.ts";
export { FeatureFlagManager, RuntimeBindings } from "./flags.ts";
export type { FeatureGuard, FeatureGuardOptions, Handler } from "./guard.ts";
export { featureDisabledResponse } from "./guard.ts";
export type { DomainConfigDefaults, ValidateOptions, ValidationResult } from "./schema/domain-config.ts";
export {
  createDomainConfigSchema,
  DomainConfigSchema,
  domainConfigZodSchema,
  domainsModuleZodSchema,
  safeValidateDomainConfig,
  safeValidateDomains,
  validateDomainConfig,
  validateDomains,
} from "./schema/domain-config.ts";
export type {
  InitializeOptions,
  InitializeServiceOptions,
  Resolution,
  Service,
  ServiceContext,
} from "./service.ts";
export { createFeatureGuard, createService, initializeService, registerDomains } from "./service.ts";
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
} from "./types.ts";
