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

describe("data-service", () => {
  it("answers /health with the service, environment and version", async () => {
    const response = await call("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      service: "data-service",
      environment: "development",
      version: "0.1.0",
      versionId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      database: "ok",
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

  it("answers /health with 503 until the migrations have run", async () => {
    await env.DB.exec("ALTER TABLE notes RENAME TO notes_moved");
    try {
      const response = await call("/health");
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ ok: false, database: "not migrated" });
    } finally {
      await env.DB.exec("ALTER TABLE notes_moved RENAME TO notes");
    }
  });

  it("creates, reads, updates, lists and deletes notes in D1", async () => {
    const created = await call("/notes", jsonBody({ title: "First", body: "hello" }));
    expect(created.status).toBe(201);
    const { note } = (await created.json()) as { note: { id: number; title: string; body: string } };
    expect(note).toMatchObject({ title: "First", body: "hello" });
    expect(created.headers.get("location")).toBe(`/notes/${note.id}`);

    expect(await (await call(`/notes/${note.id}`)).json()).toMatchObject({
      note: { id: note.id, title: "First" },
    });

    const updated = await call(`/notes/${note.id}`, { ...jsonBody({ body: "changed" }), method: "PATCH" });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ note: { title: "First", body: "changed" } });

    const rows = await env.DB.prepare("SELECT title, body FROM notes WHERE id = ?").bind(note.id).first();
    expect(rows).toEqual({ title: "First", body: "changed" });

    const list = (await (await call("/notes")).json()) as { notes: Array<{ id: number }> };
    expect(list.notes.map((n) => n.id)).toContain(note.id);

    expect((await call(`/notes/${note.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/notes/${note.id}`)).status).toBe(404);
    expect((await call(`/notes/${note.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("rejects invalid input with a 400 naming the problem", async () => {
    const noTitle = await call("/notes", jsonBody({ body: "no title" }));
    expect(noTitle.status).toBe(400);
    expect(await noTitle.json()).toMatchObject({ error: { code: "INVALID_NOTE" } });
    const notJson = await call("/notes", { method: "POST", body: "{" });
    expect(await notJson.json()).toMatchObject({ error: { code: "BAD_JSON" } });
    expect((await call("/notes/abc")).status).toBe(400);
    expect((await call("/notes", { method: "DELETE" })).status).toBe(405);
  });

  it("keeps writes behind the notesWrite flag while reads stay on", async () => {
    const off = { FEATURE_NOTESWRITE: "false" };
    const refused = await callWith(off, "/notes", jsonBody({ title: "Nope" }));
    expect(refused.status).toBe(404);
    expect((await callWith(off, "/notes")).status).toBe(200);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM notes WHERE title = 'Nope'").first();
    expect(count).toEqual({ n: 0 });
  });
});
