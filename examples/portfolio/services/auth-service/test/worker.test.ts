import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/worker/index";
import { signToken } from "../src/worker/tokens";

const BASE = "https://service.test";

/** A request through the Worker as deployed here (the top-level `development` environment of wrangler.jsonc). */
function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

/** A request through the Worker with changed bindings, e.g. another ENVIRONMENT or a FEATURE_* override. */
async function callWith(
  bindings: Record<string, unknown>,
  path: string,
  init?: RequestInit,
): Promise<Response> {
  // The handler's request type also carries the `cf` object the edge adds; a test has none.
  const request = new Request(`${BASE}${path}`, init) as Parameters<typeof worker.fetch>[0];
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ...bindings } as never, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const jsonBody = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function issue(subject: string): Promise<string> {
  const response = await call("/token", jsonBody({ subject }));
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; tokenType: string; expiresIn: number };
  expect(body.tokenType).toBe("Bearer");
  expect(body.expiresIn).toBe(3600);
  return body.token;
}

const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

describe("auth-service", () => {
  it("answers /health with the service, environment and version", async () => {
    const response = await call("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      service: "auth-service",
      environment: "development",
      version: "0.1.0",
      versionId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    });
  });

  it("reports the environment it is deployed to", async () => {
    const response = await callWith({ ENVIRONMENT: "production" }, "/health");
    expect(await response.json()).toMatchObject({ environment: "production" });
  });

  it("answers an unknown route with a JSON 404", async () => {
    const response = await call("/no-such-route");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it("says what is wrong when ENVIRONMENT names an environment the domain config lacks", async () => {
    const response = await callWith({ ENVIRONMENT: "nowhere" }, "/health");
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_RUNTIME_ENV_UNKNOWN" } });
  });

  it("issues a signed token that /me accepts", async () => {
    const token = await issue("alice");
    expect(token.split(".")).toHaveLength(3);
    const me = await call("/me", bearer(token));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ subject: "alice", issuer: "auth-service" });
  });

  it("refuses /me without a token, with a tampered one, and with an expired one", async () => {
    const missing = await call("/me");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");

    const token = await issue("bob");
    const [header, payload, signature] = token.split(".");
    const forged = btoa(JSON.stringify({ sub: "admin", iss: "x", iat: 0, exp: 4_102_444_800 }))
      .replace(/=+$/, "")
      .replace(/\+/g, "-")
      .replace(/\//g, "_");
    expect((await call("/me", bearer(`${header}.${forged}.${signature}`))).status).toBe(401);
    expect((await call("/me", bearer(`${header}.${payload}.${signature}x`))).status).toBe(401);

    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = await signToken(
      { sub: "carol", iss: "x", iat: past - 60, exp: past },
      String(env.JWT_SECRET),
    );
    expect((await call("/me", bearer(expired))).status).toBe(401);
  });

  it("does not accept a token signed with another secret", async () => {
    const now = Math.floor(Date.now() / 1000);
    const other = await signToken(
      { sub: "mallory", iss: "x", iat: now, exp: now + 60 },
      "another-secret-that-is-long-enough-123",
    );
    expect((await call("/me", bearer(other))).status).toBe(401);
  });

  it("answers 503 naming JWT_SECRET when it is not set, without leaking anything", async () => {
    const response = await callWith({ JWT_SECRET: undefined }, "/token", jsonBody({ subject: "alice" }));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: { code: "SECRET_MISSING", message: "JWT_SECRET is not set for this environment" },
    });
  });

  it("validates the token request", async () => {
    expect((await call("/token", jsonBody({ subject: "" }))).status).toBe(400);
    expect((await call("/token", jsonBody({ subject: "a", ttlSeconds: 0 }))).status).toBe(400);
    expect((await call("/token")).status).toBe(405);
  });

  it("stops issuing tokens when the tokenIssuing flag is off", async () => {
    const response = await callWith(
      { FEATURE_TOKENISSUING: "false" },
      "/token",
      jsonBody({ subject: "alice" }),
    );
    expect(response.status).toBe(404);
  });
});
