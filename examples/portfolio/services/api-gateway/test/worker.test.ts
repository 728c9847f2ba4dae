import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/worker/index";

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

describe("api-gateway", () => {
  it("answers /health with the service, environment and version", async () => {
    const response = await call("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      service: "api-gateway",
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

  it("lists its upstreams at /", async () => {
    expect(await (await call("/")).json()).toMatchObject({
      service: "api-gateway",
      upstreams: [
        { prefix: "/auth/*", service: "auth-service" },
        { prefix: "/data/*", service: "data-service" },
      ],
    });
  });

  it("forwards /auth/* to the auth service without the prefix, with headers and query", async () => {
    const response = await call("/auth/me?x=1", { headers: { authorization: "Bearer abc" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      upstream: "auth-service",
      method: "GET",
      path: "/me?x=1",
      body: "",
    });
  });

  it("forwards /data/* to the data service with the method and body", async () => {
    const response = await call("/data/notes", jsonBody({ title: "via gateway" }));
    expect(await response.json()).toEqual({
      upstream: "data-service",
      method: "POST",
      path: "/notes",
      body: JSON.stringify({ title: "via gateway" }),
    });
  });

  it("matches whole path segments only", async () => {
    expect((await call("/authx")).status).toBe(404);
    expect((await call("/data")).status).toBe(200);
  });

  it("stops forwarding /data/* when the dataProxy flag is off, and keeps /auth/*", async () => {
    const off = { FEATURE_DATAPROXY: "false" };
    expect((await callWith(off, "/data/notes")).status).toBe(404);
    expect((await callWith(off, "/auth/me")).status).toBe(200);
  });
});
