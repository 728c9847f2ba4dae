import { nowIso, randomHex32 } from "../../ids.ts";
import type { CloudState, DomainRecord } from "../../state/types.ts";
import { ensureZoneForHostname, requireAccount } from "../account.ts";
import { type ApiRequest, jsonBody, ok } from "../context.ts";
import { CfApiError, CfCode, paginate } from "../envelope.ts";
import type { Route } from "../router.ts";
import { requireScript } from "./shared.ts";

function domainObject(d: DomainRecord) {
  return {
    id: d.id,
    zone_id: d.zone_id,
    zone_name: d.zone_name,
    hostname: d.hostname,
    service: d.service,
    environment: d.environment,
    cert_id: d.id,
    enabled: true,
    previews_enabled: false,
  };
}

function upsertDomain(
  draft: CloudState,
  req: ApiRequest,
  hostname: string,
  service: string,
  override: boolean,
): DomainRecord {
  const host = hostname.toLowerCase();
  const existing = draft.domains.find((d) => d.hostname === host);
  if (existing && existing.service !== service && !override) {
    throw new CfApiError(
      409,
      CfCode.DomainConflict,
      `Hostname ${host} is already a Custom Domain of Worker "${existing.service}"`,
    );
  }
  const zone = ensureZoneForHostname(draft, host, req.services.strictZones);
  if (existing) {
    existing.service = service;
    return existing;
  }
  const record: DomainRecord = {
    id: randomHex32(),
    hostname: host,
    service,
    environment: "production",
    zone_id: zone.id,
    zone_name: zone.name,
    created_on: nowIso(),
  };
  draft.domains.push(record);
  return record;
}
/** Custom domains: changeset, records, and the account-level list, attach, get, delete. */
export const domainRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/accounts/:account/workers/scripts/:script/domains/changeset",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      const origins = jsonBody<Array<{ hostname?: string }>>(req);
      if (!Array.isArray(origins))
        throw new CfApiError(400, CfCode.BadRequest, "Expected an array of origins");
      const wanted = new Set(origins.map((o) => String(o.hostname ?? "").toLowerCase()));
      const added: unknown[] = [];
      const updated: unknown[] = [];
      for (const host of wanted) {
        const existing = state.domains.find((d) => d.hostname === host);
        if (!existing) added.push({ hostname: host, previews_enabled: false });
        else updated.push({ ...domainObject(existing), modified: existing.service !== name });
      }
      const removed = state.domains
        .filter((d) => d.service === name && !wanted.has(d.hostname))
        .map(domainObject);
      return ok({ added, removed, updated, conflicting: [] });
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/scripts/:script/domains/records",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{
        override_scope?: boolean;
        override_existing_origin?: boolean;
        origins?: Array<{ hostname?: unknown }>;
      }>(req);
      if (!Array.isArray(body.origins))
        throw new CfApiError(400, CfCode.BadRequest, "Expected `origins`: an array");
      const name = req.params.script ?? "";
      const origins = body.origins;
      const result = await req.services.store.mutate((draft) => {
        requireScript(draft, name);
        const hosts = origins.map((o) => {
          if (typeof o.hostname !== "string" || o.hostname === "") {
            throw new CfApiError(400, CfCode.BadRequest, "Every origin needs a `hostname`");
          }
          return o.hostname.toLowerCase();
        });
        if (body.override_scope) {
          draft.domains = draft.domains.filter((d) => d.service !== name || hosts.includes(d.hostname));
        }
        return hosts.map((h) =>
          domainObject(upsertDomain(draft, req, h, name, body.override_existing_origin === true)),
        );
      });
      return ok(result);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/domains",
    handler: (req) => {
      const state = requireAccount(req);
      const q = req.query;
      const all = state.domains
        .filter((d) => !q.get("hostname") || d.hostname === q.get("hostname"))
        .filter((d) => !q.get("service") || d.service === q.get("service"))
        .filter((d) => !q.get("zone_name") || d.zone_name === q.get("zone_name"))
        .filter((d) => !q.get("zone_id") || d.zone_id === q.get("zone_id"))
        .map(domainObject);
      const { items, info } = paginate(all, q, Number.POSITIVE_INFINITY);
      return ok(items, info);
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/domains",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ hostname?: unknown; service?: unknown }>(req);
      if (typeof body.hostname !== "string" || typeof body.service !== "string") {
        throw new CfApiError(400, CfCode.BadRequest, "A custom domain needs `hostname` and `service`");
      }
      const hostname = body.hostname;
      const service = body.service;
      const rec = await req.services.store.mutate((draft) => {
        requireScript(draft, service);
        return upsertDomain(draft, req, hostname, service, true);
      });
      return ok(domainObject(rec));
    },
  },
  ...[
    "/accounts/:account/workers/domains/:domain",
    "/accounts/:account/workers/domains/records/:domain",
  ].flatMap((pattern): Route[] => [
    {
      method: "GET",
      pattern,
      handler: (req) => {
        const state = requireAccount(req);
        const d = state.domains.find((x) => x.id === req.params.domain);
        if (!d) throw new CfApiError(404, 100114, `Custom domain ${req.params.domain} not found`);
        return ok(domainObject(d));
      },
    },
    {
      method: "DELETE",
      pattern,
      handler: async (req) => {
        requireAccount(req);
        const id = req.params.domain ?? "";
        await req.services.store.mutate((draft) => {
          if (!draft.domains.some((d) => d.id === id)) {
            throw new CfApiError(404, 100114, `Custom domain ${id} not found`);
          }
          draft.domains = draft.domains.filter((d) => d.id !== id);
        });
        return ok(null);
      },
    },
  ]),
];
