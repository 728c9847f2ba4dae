/**
 * @lego/discovery: finds the services of a portfolio (on disk and in the Cloudflare account), resolves a
 * user's argument to one of them, caches what it found, and validates before deploy.
 */

export type {
  AccountClient,
  AccountDiscovery,
  DiscoverAccountOptions,
  DiscoveredDomain,
  DiscoveredWorker,
  DiscoveryStep,
  DiscoveryWarning,
  DomainDiscoveryOptions,
  HostnameZone,
} from "./account.ts";
export { DomainDiscovery, STEP_PERMISSIONS, zoneCandidates } from "./account.ts";
export type { CacheEntryOptions, ConfigurationCacheOptions, InputStamp } from "./cache.ts";
export { CACHE_FORMAT, ConfigurationCacheManager, inputsUnchanged, stampInputs } from "./cache.ts";
export type { DomainConfigResult } from "./domain-config.ts";
export { DOMAIN_CONFIG_FILES, readDomainConfigExports } from "./domain-config.ts";
export { DiscoveryErrorCode } from "./errors.ts";
export { expandFolderGlobs } from "./glob.ts";
export type { DependencyEdge, DependencyGraph } from "./graph.ts";
export {
  buildDependencyGraph,
  cycleSources,
  formatCycle,
  topologicalOrder,
  transitiveDependencies,
} from "./graph.ts";
export type { KeyPath } from "./key-path.ts";
export { formatKeyPath } from "./key-path.ts";
export type { Portfolio, PortfolioService, ServiceEnvironment } from "./model.ts";
export type { LoadedModule, ModuleLoader } from "./module-loader.ts";
export { createModuleLoader } from "./module-loader.ts";
export type { ScanPortfolioOptions } from "./portfolio.ts";
export { DEFAULT_SERVICE_PATTERNS, LEGO_CONFIG_FILES, scanPortfolio } from "./portfolio.ts";
export type { MatchKind, ResolvedService } from "./resolve.ts";
export { assertServicesReady, closeNames, matchServices, resolveService } from "./resolve.ts";
export type {
  DeploymentValidatorOptions,
  ValidateDeploymentOptions,
  ValidationCheck,
  ValidationLevel,
  ValidationReport,
  ValidatorClient,
  ValidatorWrangler,
} from "./validator.ts";
export {
  basicChecks,
  DeploymentValidator,
  portfolioChecks,
  routeCovers,
  standardChecks,
  targetEnvironments,
  VALIDATION_LEVELS,
  validateDeployment,
  validationError,
} from "./validator.ts";
export type {
  ConfigProblem,
  D1DatabaseBinding,
  ParseWranglerResult,
  ServiceBinding,
  WranglerCheckOptions,
  WranglerConfig,
  WranglerEnvironment,
  WranglerPathReference,
  WranglerRoute,
} from "./wrangler-config.ts";
export {
  hostnameOfPattern,
  isCalendarDate,
  MAX_CONFIG_BYTES,
  normalizeWranglerConfig,
  parseConfigText,
  parseWranglerConfig,
  WRANGLER_CONFIG_FILES,
} from "./wrangler-config.ts";
export { portfolioZones } from "./zones.ts";
