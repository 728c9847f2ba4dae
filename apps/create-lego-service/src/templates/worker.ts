import type { ResolvedScaffoldOptions } from "../options.ts";

const HEADER = (imports: string[]) => `import { createService, RuntimeConfigError } from "@lego/runtime";
import { domains } from "../config/domains";
import { FEATURES } from "../config/features";
${imports.join("\n")}

// The domain config bound to the runtime helpers: \`initializeService\` resolves this service, its
// environment (the ENVIRONMENT var) and its feature flags; \`createFeatureGuard\` answers 404 when a flag is off.
const lego = createService(domains);
`;

const FOOTER = (envType: string) => `
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
} satisfies ExportedHandler<${envType}>;
`;

const HEALTH = `/**
 * \`/health\`: what is deployed where. \`version\` is the SERVICE_VERSION var; \`versionId\` is the id of the
 * Worker version serving (the CF_VERSION_METADATA binding), which \`lego deploy\` waits to see after an upload.
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
`;

function dataService(): string {
  return `${HEALTH}
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
  const match = /^\\/notes\\/([^/]+)$/.exec(url.pathname);
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
`;
}

function authService(): string {
  return `${HEALTH}
const DEFAULT_TTL_SECONDS = 3600;
const MAX_TTL_SECONDS = 86_400;

const issueGuard = lego.createFeatureGuard(FEATURES.TOKEN_ISSUING);

/** The signing secret, or a 503 naming what is missing (never its value). */
function signingSecret(env: Env): string | Response {
  const secret = env.JWT_SECRET;
  if (!secret) return error(503, "SECRET_MISSING", "JWT_SECRET is not set for this environment");
  if (secret.length < MIN_SECRET_LENGTH) {
    return error(503, "SECRET_TOO_SHORT", \`JWT_SECRET must be at least \${MIN_SECRET_LENGTH} characters\`);
  }
  return secret;
}

/**
 * Decides who a token is for. The template trusts the subject the caller names: put your credential
 * check (a password, a client secret, an upstream identity provider) here before serving real users.
 */
function checkTokenRequest(body: Record<string, unknown>): { subject: string; ttl: number } | Response {
  const subject = body.subject;
  if (typeof subject !== "string" || !/^[A-Za-z0-9._@-]{1,128}$/.test(subject)) {
    return error(400, "INVALID_SUBJECT", "subject must be 1-128 letters, digits or . _ @ -");
  }
  const ttl = body.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
    return error(400, "INVALID_TTL", \`ttlSeconds must be an integer from 1 to \${MAX_TTL_SECONDS}\`);
  }
  return { subject, ttl };
}

async function issueToken(request: Request, env: Env): Promise<Response> {
  const secret = signingSecret(env);
  if (secret instanceof Response) return secret;
  const body = await readJsonObject(request);
  if (body instanceof Response) return body;
  const checked = checkTokenRequest(body);
  if (checked instanceof Response) return checked;
  const now = Math.floor(Date.now() / 1000);
  const issuer = lego.initializeService(env, request).name;
  const token = await signToken(
    { sub: checked.subject, iss: issuer, iat: now, exp: now + checked.ttl },
    secret,
  );
  return json({ token, tokenType: "Bearer", expiresIn: checked.ttl });
}

async function me(request: Request, env: Env): Promise<Response> {
  const secret = signingSecret(env);
  if (secret instanceof Response) return secret;
  const token = bearerToken(request);
  const claims = token ? await verifyToken(token, secret, Math.floor(Date.now() / 1000)) : undefined;
  if (!claims) {
    return json({ error: { code: "UNAUTHORIZED", message: "A valid bearer token is required" } }, 401, {
      "www-authenticate": 'Bearer realm="api"',
    });
  }
  return json({
    subject: claims.sub,
    issuer: claims.iss,
    issuedAt: new Date(claims.iat * 1000).toISOString(),
    expiresAt: new Date(claims.exp * 1000).toISOString(),
  });
}

async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/health") return health(request, env);
  if (url.pathname === "/token") {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    return issueGuard(issueToken)(request, env, ctx);
  }
  if (url.pathname === "/me") {
    if (request.method !== "GET") return methodNotAllowed(["GET"]);
    return me(request, env);
  }
  return notFound(request);
}
`;
}

function apiGateway(o: ResolvedScaffoldOptions): string {
  const entries = o.upstreams.map(
    (u) =>
      `  {
    prefix: ${JSON.stringify(u.prefix)},
    service: ${JSON.stringify(u.service)},
    binding: (env: Env) => env.${u.binding},
    guard: lego.createFeatureGuard(FEATURES.${u.binding === "AUTH" ? "AUTH_PROXY" : "DATA_PROXY"}),
  },`,
  );
  return `${HEALTH}
/** Path prefix -> bound service. Each is behind its own flag, so one can be switched off per environment. */
const UPSTREAMS = [
${entries.join("\n")}
];

async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/health") return health(request, env);
  if (url.pathname === "/") {
    const service = lego.initializeService(env, request);
    return json({
      service: service.name,
      environment: service.environment,
      upstreams: UPSTREAMS.map((u) => ({ prefix: \`\${u.prefix}/*\`, service: u.service })),
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
`;
}

function staticSite(): string {
  return `${HEALTH}
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
`;
}

/** `src/worker/index.ts`: the Worker entry, using `initializeService` and a feature guard from `@lego/runtime`. */
export function renderWorker(o: ResolvedScaffoldOptions): string {
  switch (o.type) {
    case "data-service":
      return `${HEADER([
        'import { error, json, methodNotAllowed, notFound } from "./http";',
        'import { createNote, deleteNote, getNote, listNotes, parseId, updateNote } from "./notes";',
      ])}
${dataService()}${FOOTER("Env")}`;
    case "auth-service":
      return `${HEADER([
        'import { error, json, methodNotAllowed, notFound, readJsonObject } from "./http";',
        'import { bearerToken, MIN_SECRET_LENGTH, signToken, verifyToken } from "./tokens";',
      ])}
${authService()}${FOOTER("Env")}`;
    case "api-gateway":
      return `${HEADER([
        'import { error, json, notFound } from "./http";',
        'import { forward, matchesPrefix } from "./proxy";',
      ])}
${apiGateway(o)}${FOOTER("Env")}`;
    case "static-site":
      return `${HEADER([
        'import { error, json, methodNotAllowed } from "./http";',
        'import { betaPage, homePage, html, notFoundPage, type PageContext } from "./page";',
      ])}
${staticSite()}${FOOTER("Env")}`;
  }
}
