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

describe("website", () => {
  it("answers /health with the service, environment and version", async () => {
    const response = await call("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      service: "website",
      environment: "development",
      version: "0.1.0",
      versionId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    });
  });

  it("reports the environment it is deployed to", async () => {
    const response = await callWith({ ENVIRONMENT: "production" }, "/health");
    expect(await response.json()).toMatchObject({ environment: "production" });
  });

  it("says what is wrong when ENVIRONMENT names an environment the domain config lacks", async () => {
    const response = await callWith({ ENVIRONMENT: "nowhere" }, "/health");
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_RUNTIME_ENV_UNKNOWN" } });
  });

  it("serves the home page as HTML", async () => {
    const response = await call("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const page = await response.text();
    expect(page).toContain("<h1>Website</h1>");
    expect(page).toContain("development");
  });

  it("serves /beta where betaPreview is on (development, staging) and 404 in production", async () => {
    expect((await call("/beta")).status).toBe(200);
    expect((await callWith({ ENVIRONMENT: "production" }, "/beta")).status).toBe(404);
  });

  it("answers an unknown page with an HTML 404", async () => {
    const response = await call("/missing<script>");
    expect(response.status).toBe(404);
    const page = await response.text();
    expect(page).toContain("Not found");
    expect(page).not.toContain("<script>");
  });

  it("accepts only GET and HEAD for pages", async () => {
    expect((await call("/", { method: "POST" })).status).toBe(405);
  });
});
