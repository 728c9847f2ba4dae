// The type-specific modules of a generated Worker. Each is plain Workers code: no Lego import, so a team
// can read (and replace) its business logic without learning the framework.

/** `src/worker/notes.ts` (data-service): CRUD on the `notes` table over D1. */
export function renderNotesModule(): string {
  return `import { error, json, readJsonObject } from "./http";

interface NoteRow {
  id: number;
  title: string;
  body: string;
  created_at: string;
  updated_at: string;
}

/** A note as the API returns it. */
export interface Note {
  id: number;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

const MAX_TITLE = 200;
const MAX_BODY = 10_000;

function toNote(row: NoteRow): Note {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function parseInput(
  input: Record<string, unknown>,
  partial: boolean,
): { title?: string; body?: string } | Response {
  const out: { title?: string; body?: string } = {};
  if (input.title !== undefined || !partial) {
    if (typeof input.title !== "string" || input.title.trim() === "" || input.title.length > MAX_TITLE) {
      return error(400, "INVALID_NOTE", \`title must be 1 to \${MAX_TITLE} characters\`);
    }
    out.title = input.title.trim();
  }
  if (input.body !== undefined) {
    if (typeof input.body !== "string" || input.body.length > MAX_BODY) {
      return error(400, "INVALID_NOTE", \`body must be a string of at most \${MAX_BODY} characters\`);
    }
    out.body = input.body;
  }
  if (partial && out.title === undefined && out.body === undefined) {
    return error(400, "INVALID_NOTE", "Give a title, a body or both");
  }
  return out;
}

/** Parses the id in \`/notes/:id\`, or undefined when it is not a positive integer. */
export function parseId(segment: string): number | undefined {
  return /^[1-9][0-9]{0,15}$/.test(segment) ? Number(segment) : undefined;
}

/** GET /notes?limit=50: the newest notes first. */
export async function listNotes(db: D1Database, url: URL): Promise<Response> {
  const requested = Number(url.searchParams.get("limit") ?? "50");
  const limit = Number.isInteger(requested) ? Math.min(Math.max(requested, 1), 100) : 50;
  const { results } = await db
    .prepare("SELECT * FROM notes ORDER BY id DESC LIMIT ?")
    .bind(limit)
    .all<NoteRow>();
  return json({ notes: results.map(toNote) });
}

/** POST /notes \`{ title, body? }\` -> 201 with the note. */
export async function createNote(db: D1Database, request: Request): Promise<Response> {
  const body = await readJsonObject(request);
  if (body instanceof Response) return body;
  const input = parseInput(body, false);
  if (input instanceof Response) return input;
  const row = await db
    .prepare("INSERT INTO notes (title, body) VALUES (?, ?) RETURNING *")
    .bind(input.title, input.body ?? "")
    .first<NoteRow>();
  return json({ note: toNote(row!) }, 201, { location: \`/notes/\${row!.id}\` });
}

/** GET /notes/:id. */
export async function getNote(db: D1Database, id: number): Promise<Response> {
  const row = await db.prepare("SELECT * FROM notes WHERE id = ?").bind(id).first<NoteRow>();
  return row ? json({ note: toNote(row) }) : error(404, "NOTE_NOT_FOUND", \`No note \${id}\`);
}

/** PUT or PATCH /notes/:id \`{ title?, body? }\`. */
export async function updateNote(db: D1Database, id: number, request: Request): Promise<Response> {
  const body = await readJsonObject(request);
  if (body instanceof Response) return body;
  const input = parseInput(body, true);
  if (input instanceof Response) return input;
  const row = await db
    .prepare(
      "UPDATE notes SET title = COALESCE(?, title), body = COALESCE(?, body), updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? RETURNING *",
    )
    .bind(input.title ?? null, input.body ?? null, id)
    .first<NoteRow>();
  return row ? json({ note: toNote(row) }) : error(404, "NOTE_NOT_FOUND", \`No note \${id}\`);
}

/** DELETE /notes/:id -> 204. */
export async function deleteNote(db: D1Database, id: number): Promise<Response> {
  const result = await db.prepare("DELETE FROM notes WHERE id = ?").bind(id).run();
  return result.meta.changes > 0
    ? new Response(null, { status: 204 })
    : error(404, "NOTE_NOT_FOUND", \`No note \${id}\`);
}
`;
}

/** `src/worker/tokens.ts` (auth-service): HMAC-SHA-256 signed tokens (JWT, HS256) with Web Crypto. */
export function renderTokensModule(): string {
  return `const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The claims a token carries. */
export interface TokenClaims {
  /** Who the token is for. */
  sub: string;
  /** The service that issued it. */
  iss: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
}

/** The shortest JWT_SECRET accepted: HS256 keys should carry at least 256 bits. */
export const MIN_SECRET_LENGTH = 32;

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function importKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

const HEADER = toBase64Url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

/** Signs \`claims\` into a compact JWT. */
export async function signToken(claims: TokenClaims, secret: string): Promise<string> {
  const payload = toBase64Url(encoder.encode(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign(
    "HMAC",
    await importKey(secret),
    encoder.encode(\`\${HEADER}.\${payload}\`),
  );
  return \`\${HEADER}.\${payload}.\${toBase64Url(new Uint8Array(signature))}\`;
}

/**
 * The claims of a token signed with \`secret\` and not expired at \`nowSeconds\`, or undefined.
 * The signature check is Web Crypto's \`verify\`, which compares in constant time.
 */
export async function verifyToken(
  token: string,
  secret: string,
  nowSeconds: number,
): Promise<TokenClaims | undefined> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
  const signature = fromBase64Url(parts[2]!);
  const payload = fromBase64Url(parts[1]!);
  if (!signature || !payload) return undefined;
  const valid = await crypto.subtle.verify(
    "HMAC",
    await importKey(secret),
    signature,
    encoder.encode(\`\${parts[0]}.\${parts[1]}\`),
  );
  if (!valid) return undefined;
  let claims: TokenClaims;
  try {
    claims = JSON.parse(decoder.decode(payload)) as TokenClaims;
  } catch {
    return undefined;
  }
  if (typeof claims.sub !== "string" || typeof claims.exp !== "number") return undefined;
  return claims.exp > nowSeconds ? claims : undefined;
}

/** The token in an \`Authorization: Bearer <token>\` header, or undefined. */
export function bearerToken(request: Request): string | undefined {
  const match = /^Bearer\\s+(\\S+)$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1];
}
`;
}

/** `src/worker/proxy.ts` (api-gateway): forwards a path prefix to a service binding. */
export function renderProxyModule(): string {
  return `/** One upstream of the gateway: requests under \`prefix\` go to the bound service with the prefix removed. */
export interface Upstream {
  prefix: string;
  binding: Fetcher;
}

/** True when \`pathname\` is \`prefix\` or below it (\`/auth\`, \`/auth/token\`, not \`/authx\`). */
export function matchesPrefix(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(\`\${prefix}/\`);
}

/**
 * Forwards \`request\` to the upstream: \`/auth/token?x=1\` reaches the auth service as \`/token?x=1\`, with the
 * method, headers and body unchanged, plus \`x-forwarded-host\` naming the host the client called.
 */
export function forward(request: Request, upstream: Upstream): Promise<Response> {
  const url = new URL(request.url);
  const rest = url.pathname.slice(upstream.prefix.length) || "/";
  const target = new URL(rest + url.search, url.origin);
  const forwarded = new Request(target, request);
  forwarded.headers.set("x-forwarded-host", url.host);
  return upstream.binding.fetch(forwarded);
}
`;
}

/** `src/worker/page.ts` (static-site): the HTML the site serves. */
export function renderPageModule(): string {
  return `const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** What a page shows about the deployment it came from. */
export interface PageContext {
  title: string;
  service: string;
  environment: string;
  version: string;
}

/** An HTML response. */
export function html(body: string, status = 200): Response {
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

function layout(ctx: PageContext, heading: string, content: string): string {
  return \`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>\${escapeHtml(heading)} · \${escapeHtml(ctx.title)}</title>
  <style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}footer{color:#666;font-size:.85rem}</style>
</head>
<body>
  <h1>\${escapeHtml(heading)}</h1>
  \${content}
  <footer>\${escapeHtml(ctx.service)} · \${escapeHtml(ctx.environment)} · v\${escapeHtml(ctx.version)}</footer>
</body>
</html>
\`;
}

/** The home page. */
export function homePage(ctx: PageContext): string {
  return layout(ctx, ctx.title, "<p>Served by a Cloudflare Worker, scaffolded with Lego.</p>");
}

/** The page behind the \`betaPreview\` flag. */
export function betaPage(ctx: PageContext): string {
  return layout(ctx, "Beta preview", "<p>This page is only served where the betaPreview flag is on.</p>");
}

/** The 404 page. */
export function notFoundPage(ctx: PageContext, path: string): string {
  return layout(ctx, "Not found", \`<p>Nothing at <code>\${escapeHtml(path)}</code>.</p>\`);
}
`;
}
