import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "@lego/core";
import { randomHex32, sha256Hex } from "../ids.ts";

/** One file of an asset manifest: its content hash (wrangler's) and content type. */
export interface AssetEntry {
  hash: string;
  size: number;
  contentType?: string | undefined;
}

/** path (`/index.html`) → file. */
export type AssetManifest = Record<string, AssetEntry>;

/** An open upload session: the manifest wrangler sent and the hashes still missing. */
interface UploadSession {
  id: string;
  script: string;
  manifest: AssetManifest;
  missing: Set<string>;
  expires: number;
}

const SESSION_TTL_S = 3600;

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

/**
 * Workers static assets: the upload sessions wrangler opens, content-addressed blobs under
 * `<stateDir>/assets/blobs/<hash>`, completed manifests under `assets/manifests/<id>.json`, and the
 * folder each manifest is laid out in for workerd (`assets/sites/<id>/…`), written once.
 *
 * Tokens are real HS256 JWTs (wrangler decodes their payload for `exp`), signed with a key that lives
 * as long as the process: an upload session does not survive a restart, a completed manifest does.
 */
export class AssetStore {
  readonly #dir: string;
  readonly #key = randomBytes(32);
  readonly #sessions = new Map<string, UploadSession>();

  constructor(stateDir: string) {
    this.#dir = join(stateDir, "assets");
  }

  /** Opens a session for `manifest`; returns the upload JWT and the buckets of hashes to upload. */
  async openSession(script: string, manifest: AssetManifest): Promise<{ jwt: string; buckets: string[][] }> {
    const missing = new Set<string>();
    for (const entry of Object.values(manifest)) {
      if (!existsSync(this.#blob(entry.hash))) missing.add(entry.hash);
    }
    const id = randomHex32();
    const exp = Math.floor(Date.now() / 1000) + SESSION_TTL_S;
    this.#sessions.set(id, { id, script, manifest, missing, expires: exp * 1000 });
    if (missing.size === 0) return { jwt: await this.#complete(id), buckets: [] };
    const hashes = [...missing];
    const buckets: string[][] = [];
    for (let i = 0; i < hashes.length; i += 10) buckets.push(hashes.slice(i, i + 10));
    return { jwt: this.#sign({ kind: "upload", sid: id, exp }), buckets };
  }

  /**
   * Stores uploaded files of the session the upload JWT names. Returns the completion JWT once every
   * file of the manifest is there, else undefined. Throws when the JWT is not one of ours.
   */
  async upload(jwt: string, files: Array<{ hash: string; bytes: Uint8Array; contentType: string }>) {
    const claims = this.#verify(jwt, "upload");
    const session = this.#sessions.get(String(claims.sid));
    if (!session || session.expires < Date.now()) throw new Error("The upload session expired");
    for (const f of files) {
      if (!session.missing.has(f.hash)) continue;
      await mkdir(join(this.#dir, "blobs"), { recursive: true });
      await writeFileAtomic(this.#blob(f.hash), f.bytes);
      for (const entry of Object.values(session.manifest)) {
        if (entry.hash === f.hash && f.contentType !== "application/null") entry.contentType = f.contentType;
      }
      session.missing.delete(f.hash);
    }
    return session.missing.size === 0 ? this.#complete(session.id) : undefined;
  }

  /** The manifest id a completion JWT names (checked), or throws. */
  async redeem(jwt: string): Promise<string> {
    const claims = this.#verify(jwt, "completion");
    const id = String(claims.mid);
    if (!existsSync(this.#manifestPath(id))) throw new Error("Unknown asset manifest");
    return id;
  }

  /**
   * The folder a manifest is laid out in, for Miniflare's `assets.directory`, with the version's
   * `_redirects` and `_headers` beside the files (where Miniflare's asset router reads them); written on
   * first use.
   */
  async site(
    manifestId: string,
    meta: { redirects?: string | undefined; headers?: string | undefined } = {},
  ) {
    const suffix =
      meta.redirects !== undefined || meta.headers !== undefined
        ? `-${sha256Hex(JSON.stringify([meta.redirects ?? null, meta.headers ?? null])).slice(0, 16)}`
        : "";
    const dir = join(this.#dir, "sites", `${manifestId}${suffix}`);
    if (existsSync(dir)) return dir;
    const manifest = (await readJsonFile<AssetManifest>(this.#manifestPath(manifestId))) ?? {};
    const tmp = `${dir}.tmp-${randomHex32()}`;
    for (const [path, entry] of Object.entries(manifest)) {
      const target = join(tmp, ...path.split("/").filter(Boolean));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, await readFile(this.#blob(entry.hash)));
    }
    await mkdir(tmp, { recursive: true });
    if (meta.redirects !== undefined) await writeFile(join(tmp, "_redirects"), meta.redirects);
    if (meta.headers !== undefined) await writeFile(join(tmp, "_headers"), meta.headers);
    await mkdir(dirname(dir), { recursive: true });
    try {
      await rename(tmp, dir);
    } catch {
      await rm(tmp, { recursive: true, force: true });
    }
    return dir;
  }

  async #complete(sessionId: string): Promise<string> {
    const session = this.#sessions.get(sessionId);
    if (!session) throw new Error("Unknown upload session");
    this.#sessions.delete(sessionId);
    const mid = randomHex32();
    await mkdir(join(this.#dir, "manifests"), { recursive: true });
    await writeJsonAtomic(this.#manifestPath(mid), session.manifest);
    return this.#sign({ kind: "completion", mid, exp: Math.floor(Date.now() / 1000) + SESSION_TTL_S });
  }

  #blob(hash: string): string {
    if (!/^[0-9a-f]{16,64}$/i.test(hash)) throw new Error(`Invalid asset hash ${hash}`);
    return join(this.#dir, "blobs", hash);
  }

  #manifestPath(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`Invalid manifest id ${id}`);
    return join(this.#dir, "manifests", `${id}.json`);
  }

  #sign(claims: Record<string, unknown>): string {
    const head = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
    return `${head}.${createHmac("sha256", this.#key).update(head).digest("base64url")}`;
  }

  #verify(jwt: string, kind: string): Record<string, unknown> {
    const [h, p, s] = jwt.split(".");
    if (!h || !p || !s) throw new Error("Malformed token");
    const expected = createHmac("sha256", this.#key).update(`${h}.${p}`).digest();
    const got = Buffer.from(s, "base64url");
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new Error("Invalid token");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>;
    if (claims.kind !== kind) throw new Error(`Expected a ${kind} token`);
    if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) throw new Error("Expired token");
    return claims;
  }
}
