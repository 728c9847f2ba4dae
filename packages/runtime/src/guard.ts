import type { FeatureFlagManager } from "./flags.ts";

/** A fetch-style handler: `(request, env, ctx) => Response`. */
export type Handler<E = unknown, C = unknown> = (
  request: Request,
  env: E,
  ctx: C,
) => Response | Promise<Response>;

/** What `createFeatureGuard(flag)` returns: wraps a handler into one that checks the flag first. */
export type FeatureGuard = <E extends object, C>(handler: Handler<E, C>) => Handler<E, C>;

/** Options of `createFeatureGuard`. */
export interface FeatureGuardOptions {
  /**
   * Status when the flag is off: 404 (default: the route does not exist for this caller, and the flag's
   * name is not disclosed) or 403 (the route exists but is not enabled).
   */
  status?: 403 | 404 | undefined;
  /** `error.code` of the answer. Default `NOT_FOUND` (404) or `FEATURE_DISABLED` (403). */
  code?: string | undefined;
  /** `error.message` of the answer. Default `Not found` (404) or `The "<flag>" feature is not enabled` (403). */
  message?: string | undefined;
  /** Where the flags come from; default: `initializeService(env, request).features`. */
  features?: ((request: Request, env: object) => FeatureFlagManager<string>) | undefined;
}

/** The JSON answer of a guard whose flag is off. */
export function featureDisabledResponse(flag: string, options: FeatureGuardOptions = {}): Response {
  const status = options.status ?? 404;
  const body = {
    error: {
      code: options.code ?? (status === 403 ? "FEATURE_DISABLED" : "NOT_FOUND"),
      message: options.message ?? (status === 403 ? `The "${flag}" feature is not enabled` : "Not found"),
    },
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/** The guard itself, given where flags come from (the exported createFeatureGuard supplies the default). */
export function createFeatureGuard(
  flag: string,
  options: FeatureGuardOptions & { features: NonNullable<FeatureGuardOptions["features"]> },
): FeatureGuard {
  const features = options.features;
  return (handler) => (request, env, ctx) =>
    features(request, env).isEnabled(flag)
      ? handler(request, env, ctx)
      : featureDisabledResponse(flag, options);
}
