/**
 * The codes create-lego-service throws. Codes are never renamed once released; messages may change.
 */
export const ScaffoldErrorCode = [
  /** A required answer (name, type) is missing and there is no terminal to ask: the message names the flag. */
  "ERR_SCAFFOLD_MISSING_OPTION",
  /**
   * No longer thrown: the CLI parses with @lego/cli-kit, whose `ERR_UNKNOWN_FLAG`,
   * `ERR_FLAG_VALUE` and `ERR_UNEXPECTED_ARGUMENT` are the codes lego uses too. Kept, as codes are never reused.
   */
  "ERR_SCAFFOLD_UNKNOWN_FLAG",
  /** The service name is not a valid Worker name. */
  "ERR_SCAFFOLD_NAME_INVALID",
  /** `--type` is not one of the service types. */
  "ERR_SCAFFOLD_TYPE_INVALID",
  /** A hostname (`--domain`, `--hostnames`) is not a valid hostname. */
  "ERR_SCAFFOLD_DOMAIN_INVALID",
  /** An environment name in `--env` is invalid or repeated. */
  "ERR_SCAFFOLD_ENV_INVALID",
  /** `--account-id` / `--zone-id` is not a 32-character hex id. */
  "ERR_SCAFFOLD_ID_INVALID",
  /** The target folder exists and is not empty: nothing was written. */
  "ERR_SCAFFOLD_DIR_NOT_EMPTY",
  /** `lego init`: the folder has neither a wrangler config nor a domain config (and no `--type` to create one). */
  "ERR_INIT_NOTHING_TO_READ",
  /** `lego init`: a file to generate already exists and `--force` was not given. */
  "ERR_INIT_FILE_EXISTS",
  /** `lego init`: the wrangler config and the domain config disagree. */
  "ERR_INIT_CONFIG_MISMATCH",
  /** `lego init --portfolio-name`: the folder already holds a portfolio (a lego.config.* or services/): nothing was written. */
  "ERR_PORTFOLIO_EXISTS",
  /** `lego init --portfolio-name`: the name is empty or not a word of letters, digits, `-`, `_` and `.`. */
  "ERR_PORTFOLIO_NAME_INVALID",
  /** `lego init --domains`: an entry is not `host[:account[:zone]]`, or two entries name the same environment. */
  "ERR_INIT_DOMAINS_INVALID",
] as const;
/** One of {@link ScaffoldErrorCode}. */
export type ScaffoldErrorCode = (typeof ScaffoldErrorCode)[number];
