import { type AuditEvent, AuditLog, type AuditLogOptions } from "@lego/core";

export type { AuditEvent } from "@lego/core";
export { resolveActor } from "@lego/core";

/** Options of {@link DeploymentAuditor}: those of `@lego/core`'s `AuditLog`. */
export type DeploymentAuditorOptions = AuditLogOptions;

/**
 * The seed's name for the audit trail (`.lego/audit.jsonl`). It is `@lego/core`'s `AuditLog`, the one
 * writer every brick uses, plus the seed's `logDeployment(deploymentId, status, data)`.
 *
 * @example
 * const auditor = new DeploymentAuditor({ root });
 * await auditor.record({ runId, action: "deploy.finished", service: "api", environment: "staging", result: "ok" });
 * await auditor.logDeployment(runId, "started", { domains: ["api", "auth"] }); // the seed's form
 */
export class DeploymentAuditor extends AuditLog {
  /** With no options (the seed's `new DeploymentAuditor()`): the audit trail of the current folder. */
  constructor(options: Partial<DeploymentAuditorOptions> = {}) {
    super({ ...options, root: options.root ?? process.cwd() });
  }

  /** The seed's `logDeployment(deploymentId, status, data)`. */
  logDeployment(
    deploymentId: string,
    status: string,
    data: Record<string, unknown> = {},
  ): Promise<AuditEvent> {
    return this.record({ runId: deploymentId, action: `deployment.${status}`, details: data });
  }
}
