/** A JSON response. */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return Response.json(body, { status, headers });
}

/** An error response in the shape every Lego service uses: `{ error: { code, message } }`. */
export function error(status: number, code: string, message: string): Response {
  return json({ error: { code, message } }, status);
}

/** 404 for a path this service does not serve. */
export function notFound(request: Request): Response {
  return error(404, "NOT_FOUND", `No route for ${request.method} ${new URL(request.url).pathname}`);
}

/** 405 naming the methods the path accepts. */
export function methodNotAllowed(allowed: string[]): Response {
  return json({ error: { code: "METHOD_NOT_ALLOWED", message: `Use ${allowed.join(", ")}` } }, 405, {
    allow: allowed.join(", "),
  });
}

/** Reads a JSON object body, or returns a 400 response. */
export async function readJsonObject(request: Request): Promise<Record<string, unknown> | Response> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return error(400, "BAD_JSON", "The request body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return error(400, "BAD_JSON", "The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}
