import { randomHex32 } from "../../ids.ts";
import type { RouteRecord } from "../../state/types.ts";
import { ensureZoneForHostname, requireAccount, requireZone } from "../account.ts";
import { jsonBody, ok } from "../context.ts";
import { CfApiError, CfCode } from "../envelope.ts";
import type { Route } from "../router.ts";
import { requireScript } from "./shared.ts";

function routeObject(r: RouteRecord) {
  return { id: r.id, pattern: r.pattern, script: r.script, zone_id: r.zone_id, zone_name: r.zone_name };
}

function routeHostname(pattern: string): string {
  const noScheme = pattern.replace(/^https?:\/\//i, "");
  return (noScheme.split("/")[0] ?? "").toLowerCase();
}
/** Zone routes: a script's routes and the zone-level CRUD. */
export const routeRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/routes",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      return ok(state.routes.filter((r) => r.script === name).map(routeObject));
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/scripts/:script/routes",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<Array<{ pattern?: unknown; zone_id?: unknown; zone_name?: unknown }>>(req);
      if (!Array.isArray(body)) throw new CfApiError(400, CfCode.BadRequest, "Expected an array of routes");
      const name = req.params.script ?? "";
      const result = await req.services.store.mutate((draft) => {
        requireScript(draft, name);
        draft.routes = draft.routes.filter((r) => r.script !== name);
        const out: RouteRecord[] = [];
        for (const r of body) {
          if (typeof r.pattern !== "string" || r.pattern === "") {
            throw new CfApiError(400, CfCode.BadRequest, "Every route needs a `pattern`");
          }
          const zone =
            (typeof r.zone_id === "string" ? draft.zones.find((z) => z.id === r.zone_id) : undefined) ??
            (typeof r.zone_name === "string" ? draft.zones.find((z) => z.name === r.zone_name) : undefined) ??
            ensureZoneForHostname(draft, routeHostname(r.pattern), req.services.strictZones);
          const taken = draft.routes.find((x) => x.pattern === r.pattern && x.script !== name);
          if (taken) {
            throw new CfApiError(
              409,
              10020,
              `Route ${r.pattern} is already assigned to Worker "${taken.script}"`,
            );
          }
          const rec: RouteRecord = {
            id: randomHex32(),
            pattern: r.pattern,
            script: name,
            zone_id: zone.id,
            zone_name: zone.name,
          };
          draft.routes.push(rec);
          out.push(rec);
        }
        return out.map(routeObject);
      });
      return ok(result);
    },
  },
  {
    method: "GET",
    pattern: "/zones/:zone/workers/routes",
    handler: (req) => {
      const state = req.services.store.state;
      const zone = requireZone(state, req.params.zone ?? "");
      return ok(state.routes.filter((r) => r.zone_id === zone.id).map(routeObject));
    },
  },
  {
    method: "POST",
    pattern: "/zones/:zone/workers/routes",
    handler: async (req) => {
      const body = jsonBody<{ pattern?: unknown; script?: unknown }>(req);
      if (typeof body.pattern !== "string")
        throw new CfApiError(400, CfCode.BadRequest, "A route needs a `pattern`");
      const pattern = body.pattern;
      const rec = await req.services.store.mutate((draft) => {
        const zone = requireZone(draft, req.params.zone ?? "");
        if (draft.routes.some((r) => r.pattern === pattern)) {
          throw new CfApiError(409, 10020, `Route ${pattern} already exists`);
        }
        const r: RouteRecord = {
          id: randomHex32(),
          pattern,
          script: typeof body.script === "string" ? body.script : "",
          zone_id: zone.id,
          zone_name: zone.name,
        };
        draft.routes.push(r);
        return r;
      });
      return ok(routeObject(rec));
    },
  },
  {
    method: "DELETE",
    pattern: "/zones/:zone/workers/routes/:route",
    handler: async (req) => {
      const id = req.params.route ?? "";
      await req.services.store.mutate((draft) => {
        requireZone(draft, req.params.zone ?? "");
        if (!draft.routes.some((r) => r.id === id)) throw new CfApiError(404, 10019, `Route ${id} not found`);
        draft.routes = draft.routes.filter((r) => r.id !== id);
      });
      return ok({ id });
    },
  },
];
