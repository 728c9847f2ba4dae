import { createService, RuntimeConfigError } from "@lego/runtime";
import { domains } from "../config/domains";
import { FEATURES } from "../config/features";
import { error, json, methodNotAllowed } from "./http";
import { betaPage, homePage, html, notFoundPage, type PageContext } from "./page";

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

const betaGuard = lego.createFeatureGuard(FEATURES.BETA_PREVIEW);

function pageContext(request: Request, env: Env): PageContext {
  const service = lego.initializeService(env, request);
  return {
    title: service.displayName,
    service: service.name,
    environment: service.environment,
    version: env.SERVICE_VERSION,
  };
}

async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/health") return health(request, env);
  if (request.method !== "GET" && request.method !== "HEAD") return methodNotAllowed(["GET", "HEAD"]);
  if (url.pathname === "/" || url.pathname === "/index.html") {
    return html(homePage(pageContext(request, env)));
  }
  if (url.pathname === "/beta") {
    return betaGuard((req: Request, e: Env) => html(betaPage(pageContext(req, e))))(request, env, ctx);
  }
  return html(notFoundPage(pageContext(request, env), url.pathname), 404);
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
