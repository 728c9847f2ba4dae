/**
 * The codes @lego/discovery throws. Codes are never renamed once released; messages may change.
 */
export const DiscoveryErrorCode = [
  /** A config file is not valid JSON, JSONC or TOML: the message names the file, line and column. */
  "ERR_CONFIG_PARSE",
  /** A config file parses but a key has the wrong shape: the message names the file and key path. */
  "ERR_CONFIG_INVALID",
  /** A domain config module threw while loading, or exports nothing usable. */
  "ERR_DOMAIN_CONFIG_LOAD",
  /** The portfolio root does not exist or is not a folder. */
  "ERR_ROOT_NOT_FOUND",
  /** Two services in one portfolio share a name or a script name. */
  "ERR_SERVICE_DUPLICATE",
  /** No service matches the argument. */
  "ERR_SERVICE_NOT_FOUND",
  /** More than one service matches the argument. */
  "ERR_SERVICE_AMBIGUOUS",
  /** The service has no such environment. */
  "ERR_ENVIRONMENT_NOT_FOUND",
  /** The dependency graph (service bindings + dependsOn) has a cycle. */
  "ERR_DEPENDENCY_CYCLE",
  /** Account discovery was asked for without a Cloudflare API client (no token): exit 3. */
  "ERR_ACCOUNT_CLIENT_MISSING",
  /** A deployment validation found at least one failing check. */
  "ERR_VALIDATION_FAILED",
] as const;
/** One of {@link DiscoveryErrorCode}. */
export type DiscoveryErrorCode = (typeof DiscoveryErrorCode)[number];
