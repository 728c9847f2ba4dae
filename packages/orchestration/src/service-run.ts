import type { Portfolio } from "@lego/discovery";
import { executeRun, type Run, type RunOptions, type RunResult } from "./run.ts";

/** Options of {@link executeServiceRun}: a run's, with the portfolio its services are read from. */
export interface ServiceRunOptions extends RunOptions {
  portfolio: Pick<Portfolio, "services">;
}

/**
 * A run whose work acts on whole services at once, with no steps of its own (a database migration, a
 * secrets push): every service it touches is reported `ok` when the work resolves, `failed` when it
 * throws. The engine records the failure, writes the report, then throws it.
 *
 * @example
 * const { result } = await executeServiceRun({ ...options, portfolio, services: ["api"] }, (run) => migrate(run.journal));
 */
export function executeServiceRun<T>(
  options: ServiceRunOptions,
  work: (run: Run) => Promise<T>,
): Promise<RunResult<T>> {
  const { portfolio, ...runOptions } = options;
  const environment = options.environment ?? "";
  const entries = (ok: boolean) =>
    options.services.map((name) => ({
      service: name,
      environment,
      scriptName:
        portfolio.services.find((s) => s.name === name)?.environments[environment]?.scriptName ?? name,
      ok,
      status: ok ? ("ok" as const) : ("failed" as const),
      steps: [],
    }));
  return executeRun(runOptions, async (run) => {
    try {
      return { services: entries(true), result: await work(run) };
    } catch (error) {
      return { services: entries(false), result: undefined as T, failure: error };
    }
  });
}
