import type { Portfolio, PortfolioService } from "@lego/discovery";
import { defineCommand } from "../framework/define.ts";
import type { Ui } from "../framework/ui.ts";
import { openPortfolio, rootArg } from "../wiring.ts";

/** What `lego list` returns: the services (filtered to `--env` when given) and the deploy order. */
export interface ListResult {
  root: string;
  configFile?: string | undefined;
  services: PortfolioService[];
  /** Dependencies first. */
  order: string[];
  /** Dependency cycles, each as `a -> b -> a`. */
  cycles: string[];
  skipped: Portfolio["skipped"];
  cache: Portfolio["source"];
}

function onlyEnvironment(service: PortfolioService, env: string): PortfolioService | undefined {
  const environment = service.environments[env];
  if (!environment) return undefined;
  return { ...service, environmentNames: [env], environments: { [env]: environment } };
}

/** `lego list`: the services of the portfolio, from their parsed configs (the seed's `list`). */
export const listCommand = defineCommand({
  meta: {
    name: "list",
    aliases: ["ls"],
    description: "List the portfolio's services with their environments, hostnames and Worker scripts",
    examples: ["lego list", "lego list --env staging", "lego list --json --root ./portfolio"],
  },
  args: {
    env: { type: "string", description: "Only this environment" },
    refresh: {
      type: "boolean",
      description: "Ignore the discovery cache (.lego/cache) and read every config again",
    },
    ...rootArg,
  },
  async run(ctx, args): Promise<ListResult> {
    const portfolio = await openPortfolio(ctx, args.root, args.refresh);
    if (args.env !== undefined && !portfolio.services.some((s) => s.environments[args.env!])) {
      const { UsageError } = await import("@lego/core");
      const known = [...new Set(portfolio.services.flatMap((s) => s.environmentNames))].sort();
      throw new UsageError({
        code: "ERR_ENVIRONMENT_NOT_FOUND",
        message: `--env ${args.env}: no service of ${portfolio.root} has that environment`,
        hint: `The environments are ${known.join(", ") || "none"}; \`lego list\` without --env shows them all.`,
        details: { environment: args.env, environments: known },
      });
    }
    const services = args.env
      ? portfolio.services.flatMap((s) => {
          const one = onlyEnvironment(s, args.env!);
          return one ? [one] : [];
        })
      : portfolio.services;
    const names = new Set(services.map((s) => s.name));
    return {
      root: portfolio.root,
      ...(portfolio.configFile ? { configFile: portfolio.configFile } : {}),
      services,
      order: portfolio.graph.order.filter((n) => names.has(n)),
      cycles: portfolio.graph.cycles.map((c) => c.join(" -> ")),
      skipped: portfolio.skipped,
      cache: portfolio.source,
    };
  },
  human(result, ui) {
    renderList(result, ui);
  },
});

function renderList(result: ListResult, ui: Ui): void {
  const rows: string[][] = [["SERVICE", "ENV", "HOSTNAME", "WORKER", "FOLDER"]];
  for (const s of result.services) {
    for (const name of s.environmentNames) {
      const e = s.environments[name]!;
      rows.push([
        s.name,
        name,
        e.hostnames.join(", ") || (e.workersDev ? "(workers.dev)" : "-"),
        e.scriptName,
        s.dir,
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  rows.forEach((row, index) => {
    const line = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ");
    ui.print(index === 0 ? ui.style("dim", line) : line);
  });
  ui.print();
  ui.print(
    `${result.services.length} service${result.services.length === 1 ? "" : "s"}; deploy order: ${result.order.join(", ") || "-"}`,
  );
  for (const cycle of result.cycles) ui.warn(`Dependency cycle: ${cycle}`);
  for (const s of result.skipped) ui.warn(`Skipped ${s.dir}: ${s.reason}`);
}
