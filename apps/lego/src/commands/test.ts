import { OperationError } from "@lego/core";
import type { TestReport } from "@lego/deployment";
import { defineCommand } from "../framework/define.ts";
import { openCloud, openPortfolio, pickServices, rootArg, testSecrets } from "../wiring.ts";

/** `lego test`: the production tests a service declares, run against what is live. */
export const testCommand = defineCommand({
  meta: {
    name: "test",
    description: "Run a service's production tests against its live deployment",
    examples: ["lego test api-gateway --env staging", "lego test staging-api.example.com --json"],
  },
  args: {
    services: {
      type: "positional",
      multiple: true,
      required: false,
      description: "Services to test (name, hostname or script name)",
    },
    env: {
      type: "string",
      alias: ["environment"],
      description: "Environment (default: production, or the one a hostname names)",
    },
    all: { type: "boolean", description: "Test every service" },
    ...rootArg,
  },
  async run(ctx, args) {
    const { ProductionTester, planDeployment, defaultDeployOptions, urlForHostname } = await import(
      "@lego/deployment"
    );
    const portfolio = await openPortfolio(ctx, args.root);
    const picked = await pickServices(ctx, portfolio, args.services ?? [], { all: args.all, what: "test" });
    const environment = args.env ?? picked.environment ?? "production";
    const plan = planDeployment(
      portfolio,
      picked.services.map((s) => s.name),
      { ...defaultDeployOptions, environment },
    );
    const cloud = await openCloud(ctx, portfolio.root, portfolio);
    await cloud.dispose();
    const secrets = testSecrets(ctx, environment);
    const results: Array<{ service: string; environment: string; url: string; report: TestReport }> = [];
    const tasks = ctx.ui.tasks();
    for (const service of plan.services) {
      if (!service.primaryHostname) continue;
      const url = urlForHostname(cloud.target.workersUrlPattern, service.primaryHostname);
      const tester = new ProductionTester({
        clock: ctx.clock,
        signal: ctx.signal,
        secret: (name) => secrets(service.service, name),
      });
      const report = await tasks.run(`Test ${service.service} (${environment}) at ${url}`, () =>
        tester.runProductionTests(url, service.tests),
      );
      results.push({ service: service.service, environment, url, report });
    }
    tasks.end();
    const failed = results.filter((r) => !r.report.ok);
    if (failed.length > 0) {
      throw new OperationError({
        code: "ERR_TESTS_FAILED",
        message: `Production tests failed: ${failed
          .map(
            (f) =>
              `${f.service} (${f.report.checks
                .filter((c) => !c.ok)
                .map((c) => c.message)
                .join("; ")})`,
          )
          .join(", ")}`,
        hint: "Fix the service, or roll back with `lego rollback <service> --env <env>`.",
        kind: "user",
        details: { results: failed.map((f) => ({ service: f.service, checks: f.report.checks })) },
      });
    }
    return { environment, target: cloud.target.kind, ok: true, results };
  },
  human(result, ui) {
    for (const r of result.results) {
      ui.print(`${ui.style("green", "✔")} ${r.service} (${r.environment}) ${ui.style("cyan", r.url)}`);
      for (const c of r.report.checks)
        ui.print(`    ${c.ok ? ui.style("green", "pass") : ui.style("red", "FAIL")} ${c.id}: ${c.message}`);
    }
  },
});
