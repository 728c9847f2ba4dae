import { nowIso, randomHex32 } from "../ids.ts";
import type { CloudState, KvNamespaceRecord, R2BucketRecord } from "../state/types.ts";
import { requireAccount } from "./account.ts";
import { type ApiRequest, contentType, jsonBody, ok, type RawReply } from "./context.ts";
import { CfApiError, CfCode, paginate } from "./envelope.ts";
import { parseFormData } from "./multipart.ts";
import type { Route } from "./router.ts";

// The slices of the Workers KV and R2 binding APIs the management endpoints use (the admin worker's).
interface KvBinding {
  list(o: { prefix?: string; cursor?: string; limit?: number }): Promise<{
    keys: Array<{ name: string; expiration?: number; metadata?: unknown }>;
    list_complete: boolean;
    cursor?: string;
  }>;
  getWithMetadata(
    key: string,
    type: "arrayBuffer",
  ): Promise<{ value: ArrayBuffer | null; metadata: unknown }>;
  put(key: string, value: Uint8Array | string, o?: Record<string, unknown>): Promise<void>;
  delete(key: string): Promise<void>;
}
interface R2Binding {
  get(key: string): Promise<{
    arrayBuffer(): Promise<ArrayBuffer>;
    httpMetadata?: Record<string, string | undefined>;
    etag: string;
    size: number;
  } | null>;
  put(
    key: string,
    value: Uint8Array,
    o?: Record<string, unknown>,
  ): Promise<{ etag: string; size: number } | null>;
  delete(key: string): Promise<void>;
  list(o?: { limit?: number }): Promise<{ objects: Array<{ key: string }> }>;
}

/** A new R2 bucket record (buckets bound by an upload are created, as wrangler's provisioning does). */
export function newBucket(name: string, location = "enam", storageClass = "Standard"): R2BucketRecord {
  return { name, creation_date: nowIso(), location, storage_class: storageClass };
}

function kvObject(n: KvNamespaceRecord) {
  return { id: n.id, title: n.title, supports_url_encoding: true };
}

function requireNamespace(state: CloudState, id: string): KvNamespaceRecord {
  const ns = (state.kv ?? []).find((n) => n.id === id);
  if (!ns) throw new CfApiError(404, 10013, "list keys: 'namespace not found'");
  return ns;
}

function requireBucket(state: CloudState, name: string): R2BucketRecord {
  const b = (state.r2 ?? []).find((x) => x.name === name);
  if (!b) throw new CfApiError(404, 10006, "The specified bucket does not exist.");
  return b;
}

function kv<T>(req: ApiRequest, id: string, fn: (ns: KvBinding) => Promise<T>): Promise<T> {
  requireNamespace(requireAccount(req), id);
  return req.services.runtime.withStorage({ kv: id }, (b) => fn(b as KvBinding));
}

function r2<T>(req: ApiRequest, name: string, fn: (bucket: R2Binding) => Promise<T>): Promise<T> {
  requireBucket(requireAccount(req), name);
  return req.services.runtime.withStorage({ r2: name }, (b) => fn(b as R2Binding));
}

function putOptions(q: URLSearchParams, metadata?: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (q.get("expiration")) o.expiration = Number(q.get("expiration"));
  if (q.get("expiration_ttl")) o.expirationTtl = Number(q.get("expiration_ttl"));
  if (metadata !== undefined) o.metadata = metadata;
  return o;
}

const NS = "/accounts/:account/storage/kv/namespaces";
const B = "/accounts/:account/r2/buckets";

/** Workers KV management: namespaces (list, create, get, rename, delete), keys, values, bulk. */
export const kvRoutes: Route[] = [
  {
    method: "GET",
    pattern: NS,
    handler: (req) => {
      const state = requireAccount(req);
      const all = [...(state.kv ?? [])].sort((a, b) => a.title.localeCompare(b.title)).map(kvObject);
      const { items, info } = paginate(all, req.query, 20);
      return ok(items, info);
    },
  },
  {
    method: "POST",
    pattern: NS,
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ title?: unknown }>(req);
      if (typeof body.title !== "string" || body.title === "") {
        throw new CfApiError(400, CfCode.BadRequest, "A namespace needs a `title`");
      }
      const title = body.title;
      const ns = await req.services.store.mutate((draft) => {
        draft.kv ??= [];
        if (draft.kv.some((n) => n.title === title)) {
          throw new CfApiError(400, 10014, "A namespace with this account ID and title already exists");
        }
        const rec = { id: randomHex32(), title, created_on: nowIso() };
        draft.kv.push(rec);
        return rec;
      });
      return ok(kvObject(ns));
    },
  },
  {
    method: "GET",
    pattern: `${NS}/:ns`,
    handler: (req) => ok(kvObject(requireNamespace(requireAccount(req), req.params.ns ?? ""))),
  },
  {
    method: "PUT",
    pattern: `${NS}/:ns`,
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ title?: unknown }>(req);
      if (typeof body.title !== "string" || body.title === "") {
        throw new CfApiError(400, CfCode.BadRequest, "A namespace needs a `title`");
      }
      const title = body.title;
      const ns = await req.services.store.mutate((draft) => {
        const rec = requireNamespace(draft, req.params.ns ?? "");
        rec.title = title;
        return rec;
      });
      return ok(kvObject(ns));
    },
  },
  {
    method: "DELETE",
    pattern: `${NS}/:ns`,
    handler: async (req) => {
      requireAccount(req);
      const id = req.params.ns ?? "";
      await kv(req, id, async (ns) => {
        for (;;) {
          const page = await ns.list({ limit: 1000 });
          for (const k of page.keys) await ns.delete(k.name);
          if (page.list_complete) break;
        }
      });
      await req.services.store.mutate((draft) => {
        requireNamespace(draft, id);
        draft.kv = (draft.kv ?? []).filter((n) => n.id !== id);
      });
      return ok({});
    },
  },
  {
    method: "GET",
    pattern: `${NS}/:ns/keys`,
    handler: async (req) => {
      const limit = Math.min(Math.max(Number(req.query.get("limit") ?? 1000) || 1000, 10), 1000);
      const page = await kv(req, req.params.ns ?? "", (ns) =>
        ns.list({
          limit,
          ...(req.query.get("prefix") ? { prefix: req.query.get("prefix") as string } : {}),
          ...(req.query.get("cursor") ? { cursor: req.query.get("cursor") as string } : {}),
        }),
      );
      const keys = page.keys.map((k) => ({
        name: k.name,
        ...(k.expiration ? { expiration: k.expiration } : {}),
        ...(k.metadata !== undefined && k.metadata !== null ? { metadata: k.metadata } : {}),
      }));
      return ok(keys, { count: keys.length, cursor: page.list_complete ? "" : (page.cursor ?? "") } as never);
    },
  },
  {
    method: "GET",
    pattern: `${NS}/:ns/values/*key`,
    handler: async (req): Promise<RawReply> => {
      const key = req.params.key ?? "";
      const got = await kv(req, req.params.ns ?? "", (ns) => ns.getWithMetadata(key, "arrayBuffer"));
      if (got.value === null) throw new CfApiError(404, 10009, "get: 'key not found'");
      return {
        raw: true,
        status: 200,
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array(got.value),
      };
    },
  },
  {
    method: "GET",
    pattern: `${NS}/:ns/metadata/*key`,
    handler: async (req) => {
      const key = req.params.key ?? "";
      const got = await kv(req, req.params.ns ?? "", (ns) => ns.getWithMetadata(key, "arrayBuffer"));
      if (got.value === null) throw new CfApiError(404, 10009, "get: 'key not found'");
      return ok(got.metadata ?? null);
    },
  },
  {
    method: "PUT",
    pattern: `${NS}/:ns/values/*key`,
    handler: async (req) => {
      const key = req.params.key ?? "";
      let value: Uint8Array | string = req.body;
      let metadata: unknown;
      if (/multipart\/form-data/i.test(contentType(req))) {
        const form = await parseFormData(req.body, contentType(req));
        const v = form.get("value");
        value = v === null ? "" : typeof v === "string" ? v : new Uint8Array(await v.arrayBuffer());
        const m = form.get("metadata");
        if (m !== null) metadata = JSON.parse(typeof m === "string" ? m : await m.text());
      }
      await kv(req, req.params.ns ?? "", (ns) => ns.put(key, value, putOptions(req.query, metadata)));
      return ok({});
    },
  },
  {
    method: "DELETE",
    pattern: `${NS}/:ns/values/*key`,
    handler: async (req) => {
      const key = req.params.key ?? "";
      await kv(req, req.params.ns ?? "", (ns) => ns.delete(key));
      return ok({});
    },
  },
  {
    method: "PUT",
    pattern: `${NS}/:ns/bulk`,
    handler: async (req) => {
      const body = jsonBody<Array<Record<string, unknown>>>(req);
      if (!Array.isArray(body))
        throw new CfApiError(400, CfCode.BadRequest, "Expected an array of key-value pairs");
      await kv(req, req.params.ns ?? "", async (ns) => {
        for (const kvp of body) {
          if (typeof kvp.key !== "string" || typeof kvp.value !== "string") {
            throw new CfApiError(400, CfCode.BadRequest, "Every pair needs a string `key` and `value`");
          }
          const value = kvp.base64 === true ? new Uint8Array(Buffer.from(kvp.value, "base64")) : kvp.value;
          const o: Record<string, unknown> = {};
          if (typeof kvp.expiration === "number") o.expiration = kvp.expiration;
          if (typeof kvp.expiration_ttl === "number") o.expirationTtl = kvp.expiration_ttl;
          if (kvp.metadata !== undefined) o.metadata = kvp.metadata;
          await ns.put(kvp.key, value, o);
        }
      });
      return ok({ successful_key_count: body.length, unsuccessful_keys: [] });
    },
  },
  ...(["DELETE", "POST"] as const).map(
    (method): Route => ({
      method,
      pattern: method === "DELETE" ? `${NS}/:ns/bulk` : `${NS}/:ns/bulk/delete`,
      handler: async (req) => {
        const keys = jsonBody<unknown[]>(req);
        if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
          throw new CfApiError(400, CfCode.BadRequest, "Expected an array of key names");
        }
        await kv(req, req.params.ns ?? "", async (ns) => {
          for (const k of keys as string[]) await ns.delete(k);
        });
        return ok({ successful_key_count: keys.length, unsuccessful_keys: [] });
      },
    }),
  ),
  {
    method: "POST",
    pattern: `${NS}/:ns/bulk/get`,
    handler: async (req) => {
      const body = jsonBody<{ keys?: unknown; type?: unknown; withMetadata?: unknown }>(req);
      if (!Array.isArray(body.keys))
        throw new CfApiError(400, CfCode.BadRequest, "Expected `{ keys: [...] }`");
      const keys = body.keys.filter((k): k is string => typeof k === "string");
      const values: Record<string, unknown> = {};
      await kv(req, req.params.ns ?? "", async (ns) => {
        for (const k of keys) {
          const got = await ns.getWithMetadata(k, "arrayBuffer");
          const text = got.value === null ? null : Buffer.from(got.value).toString("utf8");
          const value = body.type === "json" && text !== null ? JSON.parse(text) : text;
          values[k] = body.withMetadata === true ? { value, metadata: got.metadata ?? null } : value;
        }
      });
      return ok({ values });
    },
  },
];

/** R2 management: buckets (list, create, get, delete) and objects (get, put, delete). */
export const r2Routes: Route[] = [
  {
    method: "GET",
    pattern: B,
    handler: (req) => {
      const state = requireAccount(req);
      const buckets = [...(state.r2 ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      return ok({ buckets });
    },
  },
  {
    method: "POST",
    pattern: B,
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ name?: unknown; locationHint?: unknown; storageClass?: unknown }>(req);
      const name = typeof body.name === "string" ? body.name : "";
      if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
        throw new CfApiError(400, 10005, "The bucket name is not valid (3-63 lowercase letters, digits, -)");
      }
      const bucket = await req.services.store.mutate((draft) => {
        draft.r2 ??= [];
        if (draft.r2.some((b) => b.name === name)) {
          throw new CfApiError(409, 10004, "The bucket you tried to create already exists, and you own it.");
        }
        const b = newBucket(
          name,
          typeof body.locationHint === "string" ? body.locationHint : "enam",
          typeof body.storageClass === "string" ? body.storageClass : "Standard",
        );
        draft.r2.push(b);
        return b;
      });
      return ok(bucket);
    },
  },
  {
    method: "GET",
    pattern: `${B}/:bucket`,
    handler: (req) => ok(requireBucket(requireAccount(req), req.params.bucket ?? "")),
  },
  {
    method: "DELETE",
    pattern: `${B}/:bucket`,
    handler: async (req) => {
      const name = req.params.bucket ?? "";
      const listed = await r2(req, name, (b) => b.list({ limit: 1 }));
      if (listed.objects.length > 0) {
        throw new CfApiError(409, 10008, "The bucket you tried to delete is not empty.");
      }
      await req.services.store.mutate((draft) => {
        requireBucket(draft, name);
        draft.r2 = (draft.r2 ?? []).filter((b) => b.name !== name);
      });
      return ok({});
    },
  },
  {
    method: "GET",
    pattern: `${B}/:bucket/objects/*key`,
    handler: async (req): Promise<RawReply> => {
      const key = req.params.key ?? "";
      const out = await r2(req, req.params.bucket ?? "", async (b) => {
        const obj = await b.get(key);
        return obj
          ? { bytes: new Uint8Array(await obj.arrayBuffer()), meta: obj.httpMetadata, etag: obj.etag }
          : null;
      });
      if (!out) throw new CfApiError(404, 10007, "The specified key does not exist.");
      return {
        raw: true,
        status: 200,
        headers: {
          "content-type": out.meta?.contentType ?? "application/octet-stream",
          etag: `"${out.etag}"`,
        },
        body: out.bytes,
      };
    },
  },
  {
    method: "PUT",
    pattern: `${B}/:bucket/objects/*key`,
    handler: async (req) => {
      const key = req.params.key ?? "";
      const httpMetadata: Record<string, string> = {};
      const h = req.headers;
      if (typeof h["content-type"] === "string") httpMetadata.contentType = h["content-type"];
      if (typeof h["content-disposition"] === "string")
        httpMetadata.contentDisposition = h["content-disposition"];
      if (typeof h["content-encoding"] === "string") httpMetadata.contentEncoding = h["content-encoding"];
      if (typeof h["cache-control"] === "string") httpMetadata.cacheControl = h["cache-control"];
      const put = await r2(req, req.params.bucket ?? "", (b) => b.put(key, req.body, { httpMetadata }));
      return ok({ key, etag: put?.etag ?? "", size: put?.size ?? req.body.byteLength, uploaded: nowIso() });
    },
  },
  {
    method: "DELETE",
    pattern: `${B}/:bucket/objects/*key`,
    handler: async (req) => {
      const key = req.params.key ?? "";
      await r2(req, req.params.bucket ?? "", (b) => b.delete(key));
      return ok({});
    },
  },
];
