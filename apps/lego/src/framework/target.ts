import { type LegoEnv, LegoError, type Logger } from "@lego/core";

/** What the target resolver is given: everything comes from the command context. */
export interface TargetInputs {
  env: LegoEnv;
  legoHome: string;
  cwd: string;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * A lazy, memoised target resolver for `ctx.target()`. It loads `@lego/cloudflare` on first use
 * (commands that never touch a target do not pay for it) and calls its `resolveTarget`.
 */
export function createTargetResolver(inputs: TargetInputs): () => Promise<unknown> {
  let pending: Promise<unknown> | undefined;
  return () => {
    pending ??= (async () => {
      const cloudflare = (await import("@lego/cloudflare")) as Record<string, unknown>;
      const resolveTarget = cloudflare.resolveTarget;
      if (typeof resolveTarget !== "function") {
        throw new LegoError({
          code: "ERR_COMMAND_UNAVAILABLE",
          message: "This build of lego cannot resolve a target: @lego/cloudflare has no resolveTarget yet",
          hint: "Rebuild lego from a checkout where @lego/cloudflare exports resolveTarget.",
          kind: "system",
        });
      }
      return (resolveTarget as (options: TargetInputs) => Promise<unknown>)(inputs);
    })();
    return pending;
  };
}
