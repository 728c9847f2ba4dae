// `lego init` (the seed's `lego-init`): fills in what an existing Worker folder is missing, or with
// --portfolio-name (the seed's `lego-portfolio init --portfolio-name x`) makes a new portfolio.
import { resolve } from "node:path";
import type { InitPortfolioResult, InitResult } from "create-lego-service";
import { defineCommand } from "../framework/define.ts";

/** `lego init [dir]`: the domain config from the wrangler config (or the reverse), and the variables it needs. */
export const initCommand = defineCommand({
  meta: {
    name: "init",
    description:
      "Add what a Worker folder is missing (domain config or wrangler config) and list its variables",
    examples: [
      "lego init services/legacy",
      "lego init --domain api.example.com",
      "lego init --force --from wrangler",
      "lego init services/new --type data-service",
      'lego init services/api --type api-gateway --domains "api.example.com,staging-api.example.com"',
      "lego init --portfolio-name my-enterprise --root my-enterprise",
      "lego init --portfolio-name shop --service api --type api-gateway",
      "lego-portfolio init --portfolio-name my-enterprise",
    ],
  },
  args: {
    dir: { type: "positional", required: false, default: ".", description: "The service folder" },
    force: { type: "boolean", description: "Overwrite the config named by --from's counterpart" },
    from: {
      type: "enum",
      options: ["wrangler", "domains"],
      description:
        "With --force: regenerate the domain config from wrangler's (wrangler) or the reverse (domains)",
    },
    domain: {
      type: "string",
      description: "Production hostname, when the wrangler config has no routes",
      valueHint: "host",
    },
    name: {
      type: "string",
      description: "Which entry of a domain config with several",
      valueHint: "service",
    },
    type: {
      type: "enum",
      options: ["api-gateway", "data-service", "auth-service", "static-site"],
      description: "In an empty folder: create a new service of this type",
    },
    env: {
      type: "string",
      description:
        "With --type: deployed environments (default staging,production); development always exists",
    },
    domains: {
      type: "string",
      description: "With --type: hostnames per environment, the seed's host[:account[:zone]],…",
      valueHint: "host:account:zone,…",
    },
    "portfolio-name": {
      type: "string",
      description: "Make a new portfolio of this name (lego.config.json, services/, README, .gitignore)",
      valueHint: "name",
    },
    service: {
      type: "string",
      description: "With --portfolio-name: also create this first service (of --type)",
      valueHint: "name",
    },
    root: {
      type: "string",
      description: "The folder [dir] is relative to; with --portfolio-name, the portfolio folder",
      valueHint: "path",
    },
  },
  async run(ctx, args): Promise<InitResult | InitPortfolioResult> {
    const { initService, initPortfolio } = await import("create-lego-service");
    const base = resolve(ctx.cwd, args.root ?? ".");
    if (args.portfolioName !== undefined) {
      return initPortfolio({
        root: args.dir,
        cwd: base,
        name: args.portfolioName,
        ...(args.service
          ? { service: { name: args.service, type: args.type ?? "api-gateway", domain: args.domain } }
          : {}),
      });
    }
    if (args.service !== undefined) {
      const { UsageError } = await import("@lego/core");
      throw new UsageError({
        code: "ERR_USAGE",
        message: "--service names the first service of a new portfolio; it needs --portfolio-name",
        hint: "For one service, pass its folder: `lego init services/<name> --type <type>`.",
        details: { flag: "service" },
      });
    }
    return initService({
      dir: args.dir,
      cwd: base,
      domains: args.domains,
      force: args.force,
      from: args.from,
      domain: args.domain,
      name: args.name,
      type: args.type,
      environments: deployedEnvironments(args.env),
      // Only whether variables are set is reported, never a value.
      env: ctx.env as Record<string, string | undefined>,
    });
  },
  human(result, ui) {
    if (result.action === "portfolio") {
      ui.print(
        `${ui.style("green", "✔")} Portfolio ${result.name} in ${result.root}: ${result.written.join(", ")}`,
      );
      ui.print("Next:");
      for (const step of result.nextSteps) ui.print(`  ${step}`);
      return;
    }
    const verb = { scaffold: "Created", generate: "Generated", regenerate: "Regenerated", check: "Checked" }[
      result.action
    ];
    if (result.written.length > 0) {
      ui.print(`${ui.style("green", "✔")} ${verb} in ${result.dir}: ${result.written.join(", ")}`);
    } else {
      ui.print(`${ui.style("green", "✔")} ${result.read.join(" and ")} agree; nothing to write`);
    }
    for (const warning of result.warnings) ui.warn(warning);
    if (result.variables.length > 0) {
      ui.print("Variables and secrets:");
      for (const v of result.variables) {
        const state =
          v.set === true ? ui.style("green", "set") : v.set === false ? ui.style("yellow", "missing") : "?";
        ui.print(
          `  ${v.name.padEnd(24)} ${state.padEnd(8)} ${ui.style("dim", v.where)}${v.note ? ` (${v.note})` : ""}`,
        );
      }
    }
    ui.print("Next:");
    for (const step of result.nextSteps) ui.print(`  ${step}`);
  },
});

/**
 * `--env` of a new service: its deployed environments. `development` (the seed's `lego-init … --env
 * development`) is the wrangler config's top level, which every service has: it is not listed, and
 * alone it means the default deployed environments.
 */
function deployedEnvironments(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(/[,\s]+/).filter((n) => n !== "" && n !== "development");
  return names.length > 0 ? names : undefined;
}
