import type { AssetManifest } from "../../state/assets.ts";
import type { VersionAssets, VersionRecord } from "../../state/types.ts";
import { requireAccount } from "../account.ts";
import { type ApiRequest, contentType, jsonBody, ok } from "../context.ts";
import { CfApiError, CfCode } from "../envelope.ts";
import { parseFormData } from "../multipart.ts";
import type { Route } from "../router.ts";
import { scriptParam } from "./shared.ts";

/** The path of the bulk upload: authenticated by the session's JWT, not the API token. */
export const ASSETS_UPLOAD_PATH = /^\/accounts\/[^/]+\/workers\/assets\/upload(\/[^/]+)?\/?$/;

function bearer(req: ApiRequest): string {
  const auth = req.headers.authorization;
  return typeof auth === "string" ? auth.replace(/^Bearer\s+/i, "").trim() : "";
}

/**
 * The assets of an upload's metadata: `assets.jwt` (a completion token) names a new manifest;
 * `keep_assets: true` without one keeps the previous version's. Undefined: no assets.
 */
export async function assetsFromUpload(
  req: ApiRequest,
  metadata: Record<string, unknown>,
  previous: VersionRecord | undefined,
): Promise<VersionAssets | undefined> {
  const raw = metadata.assets as { jwt?: unknown; config?: Record<string, unknown> } | undefined;
  const config = raw?.config ?? {};
  const pick = (): VersionAssets["config"] => ({
    ...(typeof config.html_handling === "string" ? { html_handling: config.html_handling } : {}),
    ...(typeof config.not_found_handling === "string"
      ? { not_found_handling: config.not_found_handling }
      : {}),
    ...(typeof config.run_worker_first === "boolean" || Array.isArray(config.run_worker_first)
      ? { run_worker_first: config.run_worker_first as boolean | string[] }
      : {}),
    ...(typeof config.base_path === "string" ? { base_path: config.base_path } : {}),
    ...(typeof config._redirects === "string" ? { _redirects: config._redirects } : {}),
    ...(typeof config._headers === "string" ? { _headers: config._headers } : {}),
  });
  if (typeof raw?.jwt === "string") {
    try {
      return { manifest: await req.services.store.assets.redeem(raw.jwt), config: pick() };
    } catch (error) {
      throw new CfApiError(
        400,
        CfCode.ScriptValidation,
        `The assets completion token is not valid: ${(error as Error).message}`,
      );
    }
  }
  if (metadata.keep_assets === true && previous?.assets) {
    return raw?.config ? { ...previous.assets, config: pick() } : previous.assets;
  }
  return undefined;
}

/** Static assets: the upload session and the bulk upload (`wrangler deploy` with `assets`). */
export const assetRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/accounts/:account/workers/scripts/:script/assets-upload-session",
    handler: async (req) => {
      requireAccount(req);
      const name = scriptParam(req);
      const body = jsonBody<{ manifest?: unknown }>(req);
      const manifest = body.manifest;
      if (!manifest || typeof manifest !== "object" || Array.isArray(manifest)) {
        throw new CfApiError(400, CfCode.BadRequest, 'Expected `{ manifest: { "/path": { hash, size } } }`');
      }
      const clean: AssetManifest = {};
      for (const [path, entry] of Object.entries(
        manifest as Record<string, { hash?: unknown; size?: unknown }>,
      )) {
        if (
          !path.startsWith("/") ||
          typeof entry?.hash !== "string" ||
          !/^[0-9a-f]{16,64}$/i.test(entry.hash)
        ) {
          throw new CfApiError(400, CfCode.BadRequest, `Invalid manifest entry ${path}`);
        }
        clean[path] = { hash: entry.hash, size: Number(entry.size ?? 0) };
      }
      return ok(await req.services.store.assets.openSession(name, clean));
    },
  },
  {
    method: "POST",
    pattern: "/accounts/:account/workers/assets/upload",
    handler: async (req) => {
      requireAccount(req);
      const base64 = req.query.get("base64") === "true";
      const form = await parseFormData(req.body, contentType(req));
      const files: Array<{ hash: string; bytes: Uint8Array; contentType: string }> = [];
      for (const [hash, value] of form.entries()) {
        if (typeof value === "string") continue;
        const raw = new Uint8Array(await value.arrayBuffer());
        const bytes = base64 ? new Uint8Array(Buffer.from(Buffer.from(raw).toString("utf8"), "base64")) : raw;
        files.push({ hash, bytes, contentType: value.type });
      }
      return upload(req, files);
    },
  },
  {
    // The single-file mode (a JWT with wrangler_single_asset_uploads): raw bytes, the hash in the path.
    method: "POST",
    pattern: "/accounts/:account/workers/assets/upload/:hash",
    handler: (req) => {
      requireAccount(req);
      const ct = contentType(req) || "application/null";
      return upload(req, [{ hash: req.params.hash ?? "", bytes: req.body, contentType: ct }]);
    },
  },
];

async function upload(
  req: ApiRequest,
  files: Array<{ hash: string; bytes: Uint8Array; contentType: string }>,
) {
  let jwt: string | undefined;
  try {
    jwt = await req.services.store.assets.upload(bearer(req), files);
  } catch (error) {
    throw new CfApiError(
      401,
      CfCode.AuthenticationError,
      `Asset upload refused: ${(error as Error).message}`,
    );
  }
  return jwt ? { result: { jwt }, status: 201 } : { result: {}, status: 202 };
}
