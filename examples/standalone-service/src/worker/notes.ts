import { error, json, readJsonObject } from "./http";

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
      return error(400, "INVALID_NOTE", `title must be 1 to ${MAX_TITLE} characters`);
    }
    out.title = input.title.trim();
  }
  if (input.body !== undefined) {
    if (typeof input.body !== "string" || input.body.length > MAX_BODY) {
      return error(400, "INVALID_NOTE", `body must be a string of at most ${MAX_BODY} characters`);
    }
    out.body = input.body;
  }
  if (partial && out.title === undefined && out.body === undefined) {
    return error(400, "INVALID_NOTE", "Give a title, a body or both");
  }
  return out;
}

/** Parses the id in `/notes/:id`, or undefined when it is not a positive integer. */
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

/** POST /notes `{ title, body? }` -> 201 with the note. */
export async function createNote(db: D1Database, request: Request): Promise<Response> {
  const body = await readJsonObject(request);
  if (body instanceof Response) return body;
  const input = parseInput(body, false);
  if (input instanceof Response) return input;
  const row = await db
    .prepare("INSERT INTO notes (title, body) VALUES (?, ?) RETURNING *")
    .bind(input.title, input.body ?? "")
    .first<NoteRow>();
  return json({ note: toNote(row!) }, 201, { location: `/notes/${row!.id}` });
}

/** GET /notes/:id. */
export async function getNote(db: D1Database, id: number): Promise<Response> {
  const row = await db.prepare("SELECT * FROM notes WHERE id = ?").bind(id).first<NoteRow>();
  return row ? json({ note: toNote(row) }) : error(404, "NOTE_NOT_FOUND", `No note ${id}`);
}

/** PUT or PATCH /notes/:id `{ title?, body? }`. */
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
  return row ? json({ note: toNote(row) }) : error(404, "NOTE_NOT_FOUND", `No note ${id}`);
}

/** DELETE /notes/:id -> 204. */
export async function deleteNote(db: D1Database, id: number): Promise<Response> {
  const result = await db.prepare("DELETE FROM notes WHERE id = ?").bind(id).run();
  return result.meta.changes > 0
    ? new Response(null, { status: 204 })
    : error(404, "NOTE_NOT_FOUND", `No note ${id}`);
}
