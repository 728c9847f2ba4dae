import type { ModuleType } from "../state/types.ts";
import { CfApiError, CfCode } from "./envelope.ts";

/** A file part of a Worker upload. */
export interface UploadedPart {
  name: string;
  contentType: string;
  bytes: Uint8Array;
}

/** A parsed Worker upload: the `metadata` JSON and the module parts in upload order. */
export interface ParsedUpload {
  metadata: Record<string, unknown>;
  parts: UploadedPart[];
}

/** Parses `multipart/form-data` with the platform's parser; a malformed body is a Cloudflare 400. */
export async function parseFormData(body: Uint8Array, contentType: string): Promise<FormData> {
  if (!/^multipart\/form-data\s*;/i.test(contentType) || !/boundary=/i.test(contentType)) {
    throw new CfApiError(400, CfCode.BadRequest, "Expected a multipart/form-data body with a boundary");
  }
  try {
    return await new Response(body, { headers: { "content-type": contentType } }).formData();
  } catch (error) {
    throw new CfApiError(400, CfCode.BadRequest, `Malformed multipart body: ${(error as Error).message}`);
  }
}

/**
 * Parses a Worker upload (PUT script, POST versions): a `metadata` field holding JSON (a plain field or a
 * file part) and one file part per module.
 */
export async function parseWorkerUpload(body: Uint8Array, contentType: string): Promise<ParsedUpload> {
  const form = await parseFormData(body, contentType);
  const rawMeta = form.get("metadata");
  if (rawMeta === null)
    throw new CfApiError(400, CfCode.BadRequest, "Missing the `metadata` part of the upload");
  let metadata: unknown;
  try {
    metadata = JSON.parse(typeof rawMeta === "string" ? rawMeta : await rawMeta.text());
  } catch (error) {
    throw new CfApiError(
      400,
      CfCode.BadRequest,
      `The \`metadata\` part is not JSON: ${(error as Error).message}`,
    );
  }
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new CfApiError(400, CfCode.BadRequest, "The `metadata` part must be a JSON object");
  }
  const parts: UploadedPart[] = [];
  for (const [field, value] of form.entries()) {
    if (field === "metadata" || typeof value === "string") continue;
    parts.push({
      name: value.name || field,
      contentType: value.type,
      bytes: new Uint8Array(await value.arrayBuffer()),
    });
  }
  return { metadata: metadata as Record<string, unknown>, parts };
}

/**
 * Maps a part's Content-Type to a Miniflare module type (wrangler-traffic.md §4). Unknown types are a 400.
 */
export function moduleTypeOf(contentType: string, name: string): ModuleType {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  switch (type) {
    case "application/javascript+module":
      return "esm";
    case "application/javascript":
    case "text/javascript":
      return name.endsWith(".mjs") ? "esm" : "cjs";
    case "application/wasm":
      return "wasm";
    case "text/plain":
      return "text";
    case "application/octet-stream":
    case "":
      return "data";
    case "application/json":
      return "json";
    case "application/source-map":
      return "sourcemap";
    default:
      throw new CfApiError(
        400,
        CfCode.ScriptValidation,
        `Unsupported module type "${type}" for module "${name}" (the local cloud runs JavaScript, Wasm, text, data and JSON modules)`,
      );
  }
}
