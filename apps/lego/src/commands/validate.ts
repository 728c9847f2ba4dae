import type { ValidationLevel, ValidationReport } from "@lego/discovery";
import { defineCommand } from "../framework/define.ts";
import type { Ui } from "../framework/ui.ts";
import { type Cloud, openCloud, openPortfolio, pickServices, rootArg } from "../wiring.ts";

const LEVELS = ["basic", "standard", "comprehensive"] as const;

/** `lego validate <service|hostname>`: the seed's pre-deploy validation, at three levels. */
export const validateCommand = defineCommand({
  meta: {
    name: "validate",
    description:
      "Check that services are ready to deploy: configs agree, account, zones, bindings, build, secrets",
    examples: [
      "lego validate data-service.greatidude.com",
      "lego validate api-gateway --env staging --validation standard",
      "lego validate --all --validation basic --json",
    ],
  },
  args: {
    services: {
      type: "positional",
      multiple: true,
      required: false,
      description: "Services to validate (name, hostname or script name)",
    },
    env: { type: "string", description: "Environment (default: all, or the one a hostname names)" },
    // Spelled as deploy's --validation; --level works too (framework/args.ts standardFlagAliases).
    validation: { type: "enum", options: LEVELS, default: "standard", description: "How far to check" },
    all: { type: "boolean", description: "Validate every service of the portfolio" },
    refresh: { type: "boolean", description: "Ignore the discovery cache and read every config again" },
    ...rootArg,
  },
  async run(ctx, args): Promise<ValidationReport> {
    const { DeploymentValidator, validationError } = await import("@lego/discovery");
    const { LegoError } = await import("@lego/core");
    const portfolio = await openPortfolio(ctx, args.root, args.refresh);
    const picked = await pickServices(ctx, portfolio, args.services ?? [], {
      all: args.all,
      what: "validate",
    });
    const level = args.validation as ValidationLevel;
    const environment = args.env ?? picked.environment;
    const cloud: Cloud | undefined =
      level === "basic" ? undefined : await openCloud(ctx, portfolio.root, portfolio);
    try {
      const validator = new DeploymentValidator({
        ...(cloud ? { client: cloud.client, wrangler: cloud.wrangler } : {}),
        logger: ctx.logger,
      });
      const report = await validator.validateDeployment({
        portfolio,
        services: picked.services.map((s) => s.name),
        ...(environment ? { environment } : {}),
        level,
        signal: ctx.signal,
      });
      if (!report.ok) {
        if (!ctx.json) renderReport(report, ctx.ui);
        const error = validationError(report);
        throw new LegoError({
          code: error.code,
          message: error.message,
          hint: error.hint,
          exitCode: error.exitCode,
          details: { ...error.details, report },
        });
      }
      return report;
    } finally {
      await cloud?.dispose();
    }
  },
  human(report, ui) {
    renderReport(report, ui);
  },
});

function renderReport(report: ValidationReport, ui: Ui): void {
  for (const c of report.checks) {
    const where = c.service ? `${c.service}${c.environment ? ` (${c.environment})` : ""}: ` : "";
    const mark = c.ok
      ? ui.style("green", "✓")
      : c.severity === "error"
        ? ui.style("red", "✗")
        : ui.style("yellow", "!");
    ui.print(`${mark} ${ui.style("dim", `[${c.id}]`)} ${where}${c.message}`);
    if (!c.ok && c.hint) ui.print(`    ${ui.style("dim", c.hint)}`);
  }
  ui.print();
  const summary = `${report.level} validation: ${report.errors} error${report.errors === 1 ? "" : "s"}, ${report.warnings} warning${report.warnings === 1 ? "" : "s"}`;
  ui.print(report.ok ? ui.style("green", summary) : ui.style("red", summary));
}
