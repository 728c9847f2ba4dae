import type { ResolvedScaffoldOptions } from "../options.ts";
import { INITIAL_VERSION } from "./wrangler.ts";

/** `test/apply-migrations.ts` (D1 types): applies `migrations/` to the test database before each file. */
export function renderMigrationsSetup(): string {
  return `import { applyD1Migrations, env } from "cloudflare:test";

// Runs before each test file, inside workerd: the same migrations \`wrangler d1 migrations apply\` runs.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
`;
}

const prelude = (
  imports: string[] = [],
  withJsonBody = true,
) => `import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/worker/index";
${imports.join("\n")}${imports.length ? "\n" : ""}
const BASE = "https://service.test";

/** A request through the Worker as deployed here (the top-level \`development\` environment of wrangler.jsonc). */
function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(\`\${BASE}\${path}\`, init));
}

/** A request through the Worker with changed bindings, e.g. another ENVIRONMENT or a FEATURE_* override. */
async function callWith(
  bindings: Record<string, unknown>,
  path: string,
  init?: RequestInit,
): Promise<Response> {
  // The handler's request type also carries the \`cf\` object the edge adds; a test has none.
  const request = new Request(\`\${BASE}\${path}\`, init) as Parameters<typeof worker.fetch>[0];
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ...bindings } as never, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}
${
  withJsonBody
    ? `
const jsonBody = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
`
    : ""
}`;

function healthTest(o: ResolvedScaffoldOptions, extra = "", jsonNotFound = true): string {
  return `  it("answers /health with the service, environment and version", async () => {
    const response = await call("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      service: ${JSON.stringify(o.name)},
      environment: "development",
      version: ${JSON.stringify(INITIAL_VERSION)},
      versionId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),${extra}
    });
  });

  it("reports the environment it is deployed to", async () => {
    const response = await callWith({ ENVIRONMENT: ${JSON.stringify(o.environments.at(-1))} }, "/health");
    expect(await response.json()).toMatchObject({ environment: ${JSON.stringify(o.environments.at(-1))} });
  });

${
  jsonNotFound
    ? `  it("answers an unknown route with a JSON 404", async () => {
    const response = await call("/no-such-route");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

`
    : ""
}  it("says what is wrong when ENVIRONMENT names an environment the domain config lacks", async () => {
    const response = await callWith({ ENVIRONMENT: "nowhere" }, "/health");
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "ERR_RUNTIME_ENV_UNKNOWN" } });
  });
`;
}

function dataServiceTests(o: ResolvedScaffoldOptions): string {
  return `${prelude()}
describe(${JSON.stringify(o.name)}, () => {
${healthTest(o, '\n      database: "ok",')}
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
    expect(created.headers.get("location")).toBe(\`/notes/\${note.id}\`);

    expect(await (await call(\`/notes/\${note.id}\`)).json()).toMatchObject({
      note: { id: note.id, title: "First" },
    });

    const updated = await call(\`/notes/\${note.id}\`, { ...jsonBody({ body: "changed" }), method: "PATCH" });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ note: { title: "First", body: "changed" } });

    const rows = await env.DB.prepare("SELECT title, body FROM notes WHERE id = ?").bind(note.id).first();
    expect(rows).toEqual({ title: "First", body: "changed" });

    const list = (await (await call("/notes")).json()) as { notes: Array<{ id: number }> };
    expect(list.notes.map((n) => n.id)).toContain(note.id);

    expect((await call(\`/notes/\${note.id}\`, { method: "DELETE" })).status).toBe(204);
    expect((await call(\`/notes/\${note.id}\`)).status).toBe(404);
    expect((await call(\`/notes/\${note.id}\`, { method: "DELETE" })).status).toBe(404);
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
`;
}

function authServiceTests(o: ResolvedScaffoldOptions): string {
  return `${prelude(['import { signToken } from "../src/worker/tokens";'])}
async function issue(subject: string): Promise<string> {
  const response = await call("/token", jsonBody({ subject }));
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; tokenType: string; expiresIn: number };
  expect(body.tokenType).toBe("Bearer");
  expect(body.expiresIn).toBe(3600);
  return body.token;
}

const bearer = (token: string): RequestInit => ({ headers: { authorization: \`Bearer \${token}\` } });

describe(${JSON.stringify(o.name)}, () => {
${healthTest(o)}
  it("issues a signed token that /me accepts", async () => {
    const token = await issue("alice");
    expect(token.split(".")).toHaveLength(3);
    const me = await call("/me", bearer(token));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ subject: "alice", issuer: ${JSON.stringify(o.name)} });
  });

  it("refuses /me without a token, with a tampered one, and with an expired one", async () => {
    const missing = await call("/me");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");

    const token = await issue("bob");
    const [header, payload, signature] = token.split(".");
    const forged = btoa(JSON.stringify({ sub: "admin", iss: "x", iat: 0, exp: 4_102_444_800 }))
      .replace(/=+$/, "")
      .replace(/\\+/g, "-")
      .replace(/\\//g, "_");
    expect((await call("/me", bearer(\`\${header}.\${forged}.\${signature}\`))).status).toBe(401);
    expect((await call("/me", bearer(\`\${header}.\${payload}.\${signature}x\`))).status).toBe(401);

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
`;
}

function apiGatewayTests(o: ResolvedScaffoldOptions): string {
  const [auth, data] = o.upstreams;
  return `${prelude()}
describe(${JSON.stringify(o.name)}, () => {
${healthTest(o)}
  it("lists its upstreams at /", async () => {
    expect(await (await call("/")).json()).toMatchObject({
      service: ${JSON.stringify(o.name)},
      upstreams: [
        { prefix: "/auth/*", service: ${JSON.stringify(auth!.service)} },
        { prefix: "/data/*", service: ${JSON.stringify(data!.service)} },
      ],
    });
  });

  it("forwards /auth/* to the auth service without the prefix, with headers and query", async () => {
    const response = await call("/auth/me?x=1", { headers: { authorization: "Bearer abc" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      upstream: ${JSON.stringify(auth!.service)},
      method: "GET",
      path: "/me?x=1",
      body: "",
    });
  });

  it("forwards /data/* to the data service with the method and body", async () => {
    const response = await call("/data/notes", jsonBody({ title: "via gateway" }));
    expect(await response.json()).toEqual({
      upstream: ${JSON.stringify(data!.service)},
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
`;
}

function staticSiteTests(o: ResolvedScaffoldOptions): string {
  const off = o.environments.find((e) => e !== "staging");
  return `${prelude([], false)}
describe(${JSON.stringify(o.name)}, () => {
${healthTest(o, "", false)}
  it("serves the home page as HTML", async () => {
    const response = await call("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const page = await response.text();
    expect(page).toContain("<h1>${o.displayName}</h1>");
    expect(page).toContain("development");
  });

  it("serves /beta where betaPreview is on (development, staging)${off ? ` and 404 in ${off}` : ""}", async () => {
    expect((await call("/beta")).status).toBe(200);${
      off
        ? `\n    expect((await callWith({ ENVIRONMENT: ${JSON.stringify(off)} }, "/beta")).status).toBe(404);`
        : ""
    }
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
`;
}

/** `test/env.d.ts`: the bindings only the tests have (vitest.config.ts adds them), when the type needs any. */
export function renderTestEnv(o: ResolvedScaffoldOptions): string | undefined {
  if (o.type !== "data-service") return undefined;
  return `// Bindings only the tests have, on top of src/worker/env.d.ts.
declare namespace Cloudflare {
  interface Env {
    /** The migrations of ./migrations, read by vitest.config.ts. */
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
`;
}

/** `test/worker.test.ts`: the service's own tests, run inside workerd. */
export function renderWorkerTest(o: ResolvedScaffoldOptions): string {
  switch (o.type) {
    case "data-service":
      return dataServiceTests(o);
    case "auth-service":
      return authServiceTests(o);
    case "api-gateway":
      return apiGatewayTests(o);
    case "static-site":
      return staticSiteTests(o);
  }
}
