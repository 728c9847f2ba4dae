import { createService, RuntimeConfigError } from "@lego/runtime";
import { domains } from "../config/domains";
import { FEATURES } from "../config/features";
import { error, json, methodNotAllowed, notFound, readJsonObject } from "./http";
import { bearerToken, MIN_SECRET_LENGTH, signToken, verifyToken } from "./tokens";

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

const DEFAULT_TTL_SECONDS = 3600;
const MAX_TTL_SECONDS = 86_400;

const issueGuard = lego.createFeatureGuard(FEATURES.TOKEN_ISSUING);

/** The signing secret, or a 503 naming what is missing (never its value). */
function signingSecret(env: Env): string | Response {
  const secret = env.JWT_SECRET;
  if (!secret) return error(503, "SECRET_MISSING", "JWT_SECRET is not set for this environment");
  if (secret.length < MIN_SECRET_LENGTH) {
    return error(503, "SECRET_TOO_SHORT", `JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
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
    return error(400, "INVALID_TTL", `ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}`);
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
