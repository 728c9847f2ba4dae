/**
 * create-lego-service: scaffolds a Lego service (wrangler config, domain config, Worker, tests,
 * migrations) and fills in what an existing Worker folder is missing (`lego init`).
 *
 * @example
 * import { planScaffold, writeScaffold } from "create-lego-service";
 * const plan = planScaffold({ name: "notes", type: "data-service", dir: "services/notes", domain: "notes.example.com" });
 * await writeScaffold(plan, { cwd: process.cwd() });
 */
export type { PartialScaffoldOptions } from "./ask.ts";
export { completeScaffoldOptions } from "./ask.ts";
export type { CliIo, CreateArgs, CreateOutput } from "./cli.ts";
export {
  createArgs,
  createLegoServiceCommand,
  renderCreateOutput,
  runCreate,
  runCreateLegoServiceCli,
} from "./cli.ts";
export { ScaffoldErrorCode } from "./errors.ts";
export type {
  InitInputs,
  InitOptions,
  InitPlan,
  InitResult,
  InitVariable,
  InitWranglerConfig,
  InitWranglerEnvironment,
} from "./init.ts";
export {
  domainConfigFromWrangler,
  initService,
  MAIN_CANDIDATES,
  planInit,
  readInitInputs,
  wranglerConfigFromDomain,
} from "./init.ts";
export type { ResolvedScaffoldOptions, ScaffoldOptions, ServiceType } from "./options.ts";
export {
  COMPATIBILITY_DATE,
  DEFAULT_ENVIRONMENTS,
  deriveHostname,
  isServiceType,
  parseHostnames,
  parseList,
  resolveScaffoldOptions,
  SERVICE_TYPE_DESCRIPTIONS,
  SERVICE_TYPES,
  TOOL_VERSIONS,
} from "./options.ts";
export type { PlannedFile, ScaffoldPlan } from "./plan.ts";
export { DEFAULT_RUNTIME_VERSION, planScaffold } from "./plan.ts";
export type { InitPortfolioOptions, InitPortfolioResult, SeedDomain } from "./portfolio.ts";
export { initPortfolio, PORTFOLIO_CONFIG_FILES, parseSeedDomains } from "./portfolio.ts";
export type { AskOptions, TerminalInfo } from "./prompter.ts";
export {
  askChoice,
  askUser,
  askYesNo,
  canPrompt,
  createInquirerPrompter,
  createTerminalPrompter,
  isCi,
} from "./prompter.ts";
export type { ScaffoldResult } from "./write.ts";
export { nonEmptyEntries, scaffoldService, writeScaffold } from "./write.ts";
