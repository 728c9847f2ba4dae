// Assembles the real I/O the portfolio commands act through: the portfolio scan, the target's API
// client and wrangler runner, and the deploy hooks of the other bricks. Apps are the only place that
// builds these; libraries receive them as arguments.
import { isAbsolute, join, resolve } from "node:path";
import type { Target } from "@lego/cloudflare";
import { UsageError } from "@lego/core";
import type { Portfolio, PortfolioService } from "@lego/discovery";
import type { CommandContext } from "./framework/define.ts";

/** The `--root` flag every portfolio command takes. */
export const rootArg = {
  root: { type: "string", description: "Portfolio root (default: the current folder)" },
} as const;

/** Scans the portfolio at `--root` (or the cwd). */
export async function openPortfolio(
  ctx: CommandContext,
  root: string | undefined,
  refresh = false,
): Promise<Portfolio> {
  const { scanPortfolio } = await import("@lego/discovery");
  if (root !== undefined && root.trim() === "") {
    throw new UsageError({
      code: "ERR_BAD_FLAG",
      message: "--root is empty",
      hint: "Pass the portfolio folder (--root ./portfolio), or leave --root out to use the current folder.",
    });
  }
  const dir = root ? (isAbsolute(root) ? root : resolve(ctx.cwd, root)) : ctx.cwd;
  const portfolio = await scanPortfolio({ root: dir, logger: ctx.logger, refresh, clock: ctx.clock });
  if (portfolio.services.length === 0) {
    throw new UsageError({
      code: "ERR_NO_SERVICES",
      message: `No services found under ${dir} (looked in ${portfolio.patterns.join(", ")})`,
      hint: "Pass --root <portfolio folder>, or create one with `lego create <name> --type api-gateway`.",
    });
  }
  return portfolio;
}

/**
 * Secret values the production tests may use (`{{secret:NAME}}`, `{ secret: NAME }`): the values
 * `lego secrets generate --persist` keeps encrypted in the vault. The vault is opened only when a test
 * asks for one, and every value read is registered with the redactor before anything can print it.
 */
export function testSecrets(
  ctx: CommandContext,
  environment: string,
): (service: string, name: string) => Promise<string | undefined> {
  return async (service, name) => {
    const persisted = await (await ctx.vault()).getSecrets({ service, env: environment });
    const value = persisted.find((s) => s.name === name)?.value;
    if (value !== undefined) ctx.redactor.add(value);
    return value;
  };
}

/**
 * Resolves the services named on the command line (names, hostnames or script names). A hostname or
 * script name pins the environment; two that pin different ones are a usage error.
 */
export async function pickServices(
  ctx: CommandContext,
  portfolio: Portfolio,
  names: readonly string[],
  options: { all?: boolean; what: string },
): Promise<{ services: PortfolioService[]; environment?: string }> {
  const { assertServicesReady, resolveService } = await import("@lego/discovery");
  if (options.all && names.length > 0) {
    throw new UsageError({
      code: "ERR_BAD_FLAG",
      message: `--all cannot be combined with service names (${names.join(", ")})`,
      hint: `Name the services to ${options.what}, or pass --all alone for every service.`,
    });
  }
  if (options.all) {
    assertServicesReady(portfolio.services);
    return { services: portfolio.services };
  }
  if (names.length === 0) {
    const picked = await ctx.prompter.select({
      message: `Which service do you want to ${options.what}?`,
      flag: "<service> (or --all)",
      choices: portfolio.services.map((s) => ({
        value: s.name,
        name: s.name,
        description: Object.values(s.environments)
          .flatMap((e) => e.hostnames)
          .join(", "),
      })),
    });
    const services = portfolio.services.filter((s) => s.name === picked);
    assertServicesReady(services);
    return { services };
  }
  const resolved = names.map((n) => resolveService(portfolio, n));
  const pinned = [...new Set(resolved.map((r) => r.environment).filter((e): e is string => e !== undefined))];
  if (pinned.length > 1) {
    throw new UsageError({
      code: "ERR_ENVIRONMENT_CONFLICT",
      message: `The arguments name different environments: ${pinned.join(", ")}`,
      hint: "Deploy one environment at a time, or name services rather than hostnames and pass --env.",
    });
  }
  const services = [...new Map(resolved.map((r) => [r.service.name, r.service])).values()];
  // Configs that point to missing files (main, migrations_dir) stop here, named, before any cloud call.
  assertServicesReady(services);
  return { services, ...(pinned[0] ? { environment: pinned[0] } : {}) };
}

/** The target's API client and wrangler runner (`openCloud` of @lego/cloudflare). Dispose when done. */
export type Cloud = import("@lego/cloudflare").Cloud;

/**
 * Opens the target (starting the local cloud when it is the target and not running). On the local
 * cloud, the zones the portfolio's hostnames need are seeded first, as an account would already have
 * them; on Cloudflare nothing is created. The client and runner come from @lego/cloudflare's one factory.
 */
export async function openCloud(ctx: CommandContext, cwd: string, portfolio?: Portfolio): Promise<Cloud> {
  const { openCloud: open } = await import("@lego/cloudflare");
  // ctx.target() registers the token with the redactor and prints the one-line target note.
  const target = (await ctx.target()) as Target;
  if (target.kind === "local" && portfolio) {
    const [{ portfolioZones }, { addLocalCloudZones, portfolioAdoption }] = await Promise.all([
      import("@lego/discovery"),
      import("@lego/emulator/lifecycle"),
    ]);
    const zones = portfolioZones(portfolio);
    // The accounts and zone ids the domain configs name are adopted, so the portfolio deploys unchanged.
    const adopted = portfolioAdoption(portfolio);
    // ctx.target() has just found (or started) the cloud: add what it lacks, nothing more.
    if ((zones.length > 0 || adopted.accounts.length > 0 || adopted.d1.length > 0) && target.accountId)
      await addLocalCloudZones(
        { apiBaseUrl: target.apiBaseUrl, token: target.token, accountId: target.accountId },
        [...zones, ...adopted.zones],
        adopted.accounts,
        adopted.d1,
      );
  }
  return open({
    target,
    cwd,
    logger: ctx.logger,
    clock: ctx.clock,
    signal: ctx.signal,
    stateDir: join(ctx.legoHome, "wrangler"),
    // wrangler needs PATH and HOME; credentials in the ambient environment are dropped by the runner.
    baseEnv: process.env,
    ...(ctx.env.LEGO_WRANGLER_BIN ? { wranglerBin: ctx.env.LEGO_WRANGLER_BIN } : {}),
    ...(ctx.env.LEGO_WRANGLER_REUSE !== undefined ? { reuseProcesses: ctx.env.LEGO_WRANGLER_REUSE } : {}),
  });
}
