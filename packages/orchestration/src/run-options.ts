import type { OrchestrationContext } from "./deploy.ts";
import type { RunOptions } from "./run.ts";

/** A run's options: what the caller names, plus what the orchestration context provides. */
export function runOptions(
  ctx: Pick<OrchestrationContext, "cloud" | "audit" | "clock" | "redactor" | "signal">,
  own: Omit<RunOptions, "target" | "audit" | "clock" | "redactor" | "signal">,
): RunOptions {
  return {
    ...own,
    target: ctx.cloud.target,
    audit: ctx.audit,
    clock: ctx.clock,
    redactor: ctx.redactor,
    signal: ctx.signal,
  };
}
