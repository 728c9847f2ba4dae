import { createService, RuntimeConfigError } from "@lego/runtime";
import { domains } from "../config/domains";
import { FEATURES } from "../config/features";
import { error, json, notFound } from "./http";
import { forward, matchesPrefix } from "./proxy";

// The domain config bound to the runtime helpers: `initializeService` resolves this service, its
// environment (the ENVIRONMENT var) and its feature flags; `createFeatureGuard` answers 404 when a flag is off.
const lego = createService(domains);

/**
 * `/health`: what is deployed where. `version` is the SERVICE_VERSION var; `versionId` is the id of the
 * Worker version serving (the CF_VERSION_METADATA binding), which `lego deploy` waits to see after an upload.
 */
function health(request: Request, env: Env, extra: Record<string, unknown> = {}): Response {
  const service = lego.initializeService(env, request);
  return json({
    ok: true,
    service: service.name,
    environment: service.environment,
    version: env.SERVICE_VERSION,
    versionId: env.CF_VERSION_METADATA.id,
    ...extra,
  });
}

/** Path prefix -> bound service. Each is behind its own flag, so one can be switched off per environment. */
const UPSTREAMS = [
  {
    prefix: "/auth",
    service: "auth-service",
    binding: (env: Env) => env.AUTH,
    guard: lego.createFeatureGuard(FEATURES.AUTH_PROXY),
  },
  {
    prefix: "/data",
    service: "data-service",
    binding: (env: Env) => env.DATA,
    guard: lego.createFeatureGuard(FEATURES.DATA_PROXY),
  },
];

async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/health") return health(request, env);
  if (url.pathname === "/") {
    const service = lego.initializeService(env, request);
    return json({
      service: service.name,
      environment: service.environment,
      upstreams: UPSTREAMS.map((u) => ({ prefix: `${u.prefix}/*`, service: u.service })),
    });
  }
  for (const upstream of UPSTREAMS) {
    if (matchesPrefix(url.pathname, upstream.prefix)) {
      return upstream.guard((req: Request, e: Env) =>
        forward(req, { prefix: upstream.prefix, binding: upstream.binding(e) }),
      )(request, env, ctx);
    }
  }
  return notFound(request);
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    try {
      return await route(request, env, ctx);
    } catch (thrown) {
      // A misconfigured Worker (unknown ENVIRONMENT, bad FEATURE_* var) says what to fix; nothing secret is in it.
      if (thrown instanceof RuntimeConfigError) return error(500, thrown.code, thrown.message);
      throw thrown;
    }
  },
} satisfies ExportedHandler<Env>;
