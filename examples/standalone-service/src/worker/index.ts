import { createService, RuntimeConfigError } from "@lego/runtime";
import { domains } from "../config/domains";
import { FEATURES } from "../config/features";
import { error, json, methodNotAllowed, notFound } from "./http";
import { createNote, deleteNote, getNote, listNotes, parseId, updateNote } from "./notes";

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

const writeGuard = lego.createFeatureGuard(FEATURES.NOTES_WRITE);

async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/health") {
    // Ready means the schema is there too: a deploy whose migrations did not run is not live.
    const database = await env.DB.prepare("SELECT 1 FROM notes LIMIT 1")
      .first()
      .then(
        () => "ok",
        (e: unknown) => (String(e).includes("no such table") ? "not migrated" : "unreachable"),
      );
    if (database !== "ok") {
      const service = lego.initializeService(env, request);
      return json(
        {
          ok: false,
          service: service.name,
          environment: service.environment,
          version: env.SERVICE_VERSION,
          versionId: env.CF_VERSION_METADATA.id,
          database,
        },
        503,
      );
    }
    return health(request, env, { database });
  }
  if (url.pathname === "/notes") {
    if (request.method === "GET") return listNotes(env.DB, url);
    if (request.method === "POST") {
      return writeGuard((req: Request, e: Env) => createNote(e.DB, req))(request, env, ctx);
    }
    return methodNotAllowed(["GET", "POST"]);
  }
  const match = /^\/notes\/([^/]+)$/.exec(url.pathname);
  if (match) {
    const id = parseId(match[1]!);
    if (id === undefined) return error(400, "INVALID_ID", "A note id is a positive integer");
    switch (request.method) {
      case "GET":
        return getNote(env.DB, id);
      case "PUT":
      case "PATCH":
        return writeGuard((req: Request, e: Env) => updateNote(e.DB, id, req))(request, env, ctx);
      case "DELETE":
        return writeGuard((_req: Request, e: Env) => deleteNote(e.DB, id))(request, env, ctx);
      default:
        return methodNotAllowed(["GET", "PUT", "PATCH", "DELETE"]);
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
