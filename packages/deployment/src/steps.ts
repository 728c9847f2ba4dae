import { type Clock, type RunJournal, toLegoError } from "@lego/core";
import type { DeployProgress } from "./apply.ts";
import type { StepName } from "./plan.ts";
import type { StepRecord } from "./report.ts";

/**
 * Runs the named steps of one service's run and records each the same way for deploys and rollbacks:
 * `step.started`/`step.finished` in the journal, progress events for the task list, and a
 * {@link StepRecord} (status, duration, message) for the run report. A failing step is recorded, then
 * its error is rethrown unchanged.
 */
export function createStepRecorder(o: {
  service: string;
  journal: RunJournal;
  clock: Clock;
  onProgress?: ((event: DeployProgress) => void) | undefined;
}): {
  steps: StepRecord[];
  step<T>(name: StepName, fn: () => Promise<{ value: T; message?: string }>): Promise<T>;
} {
  const steps: StepRecord[] = [];
  const { service, journal, clock, onProgress } = o;
  async function step<T>(name: StepName, fn: () => Promise<{ value: T; message?: string }>): Promise<T> {
    const at = clock.now();
    onProgress?.({ type: "step", service, step: name, status: "running" });
    await journal.append("step.started", { service, step: name });
    let status: StepRecord["status"] = "failed";
    let message: string | undefined;
    try {
      const out = await fn();
      status = "ok";
      message = out.message;
      return out.value;
    } catch (error) {
      message = toLegoError(error).message;
      throw error;
    } finally {
      steps.push({
        name,
        status,
        startedAt: new Date(at).toISOString(),
        durationMs: clock.now() - at,
        ...(message ? { message } : {}),
      });
      await journal.append("step.finished", { service, step: name, status, message });
      onProgress?.({ type: "step", service, step: name, status, ...(message ? { message } : {}) });
    }
  }
  return { steps, step };
}
