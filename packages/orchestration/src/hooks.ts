import type { Cloud } from "@lego/cloudflare";
import type { AuditLog, Clock, Logger, Prompter, RunJournal } from "@lego/core";
import type { DeployHooks, DeploymentPlan, PlannedService, ValidationLevel } from "@lego/deployment";
import type { Portfolio } from "@lego/discovery";

/** What the deploy hooks act through. */
export interface DeployHooksContext {
  portfolio: Portfolio;
  cloud: Pick<Cloud, "client" | "wrangler" | "target">;
  journal: RunJournal;
  audit: AuditLog;
  logger?: Logger | undefined;
  prompter?: Prompter | undefined;
  clock?: Clock | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Plugs the other bricks into a deploy: validation (`DeploymentValidator` of @lego/discovery, run
 * once for the whole plan, consulted per service), the required-secrets check (@lego/secrets), and
 * D1 migrations with a backup first (@lego/database). Each library loads when the deploy needs it.
 */
export async function createDeployHooks(plan: DeploymentPlan, c: DeployHooksContext): Promise<DeployHooks> {
  const [{ DeploymentValidator, validationError }, { createDeployMigrationHook, fromCloudflare }] =
    await Promise.all([import("@lego/discovery"), import("@lego/database")]);
  const migrate = createDeployMigrationHook(
    c.portfolio,
    {
      root: c.portfolio.root,
      ...fromCloudflare({ client: c.cloud.client, wrangler: c.cloud.wrangler }),
      logger: c.logger,
      prompter: c.prompter,
      clock: c.clock,
      runId: c.journal.runId,
      journal: c.journal,
      audit: c.audit,
      target: c.cloud.target.kind,
      signal: c.signal,
    },
    {
      // While a canary runs, old and new versions serve from one database: only expand, never contract.
      ...(plan.options.strategy?.kind === "canary" && !plan.options.force
        ? { refuseBreaking: "during a canary deploy (both versions serve from this database)" }
        : {}),
    },
  );
  const validator = new DeploymentValidator({
    client: c.cloud.client,
    wrangler: c.cloud.wrangler,
    ...(c.logger ? { logger: c.logger } : {}),
  });
  const order = plan.services.map((s) => s.service);
  // One validation of the whole plan (account discovery runs once), consulted per service.
  let report: ReturnType<typeof validator.validateDeployment> | undefined;
  return {
    async validate(service: PlannedService, level: ValidationLevel) {
      report ??= validator.validateDeployment({
        portfolio: c.portfolio,
        services: order,
        environment: plan.environment,
        level,
        ...(c.signal ? { signal: c.signal } : {}),
      });
      const full = await report;
      const mine = full.checks.filter((x) => x.service === undefined || x.service === service.service);
      const failed = mine.filter((x) => !x.ok && x.severity === "error");
      if (failed.length > 0)
        throw validationError({ ...full, ok: false, checks: mine, errors: failed.length });
    },
    migrate,
    async checkSecrets(service: PlannedService) {
      const { checkRequiredSecrets } = await import("@lego/secrets");
      return checkRequiredSecrets({
        service,
        client: c.cloud.client,
        ...(c.signal ? { signal: c.signal } : {}),
      });
    },
  };
}
