import { nowIso } from "../../ids.ts";
import { requireAccount } from "../account.ts";
import { type ApiRequest, contentType, ok } from "../context.ts";
import { CfApiError, CfCode, paginate } from "../envelope.ts";
import { parseWorkerUpload } from "../multipart.ts";
import type { Route } from "../router.ts";
import {
  applyRuntime,
  applyScriptSettings,
  mainModuleOf,
  newDeployment,
  newScript,
  primaryVersion,
  requireScript,
  scriptParam,
  scriptSummary,
} from "./shared.ts";
import { versionFromUpload } from "./upload.ts";

/** Upload + deploy at 100% (first deploy `PUT /scripts/:script`, and the draft Worker of `secret put`). */
async function putScript(req: ApiRequest) {
  requireAccount(req);
  const name = scriptParam(req);
  const upload = await parseWorkerUpload(req.body, contentType(req));
  return req.services.store.mutate(async (draft) => {
    const script = draft.scripts[name] ?? newScript(name);
    draft.scripts[name] = script;
    const version = await versionFromUpload(req, draft, script, upload.metadata, upload.parts, "wrangler");
    script.versions.push(version);
    script.deployments.push(
      newDeployment(draft, [{ version_id: version.id, percentage: 100 }], {
        "workers/triggered_by": "upload",
      }),
    );
    script.modified_on = nowIso();
    if (typeof upload.metadata.logpush === "boolean") script.settings.logpush = upload.metadata.logpush;
    if (Array.isArray(upload.metadata.tags)) applyScriptSettings(script, { tags: upload.metadata.tags });
    await applyRuntime(req, draft);
    return ok({ ...scriptSummary(draft, script), deployment_id: version.id, startup_time_ms: 1 });
  });
}

/** `DELETE /scripts/:script` (and `/services/:script`): refuses while bound by another Worker unless forced. */
async function deleteScript(req: ApiRequest) {
  requireAccount(req);
  const name = req.params.script ?? "";
  return req.services.store.mutate(async (draft) => {
    requireScript(draft, name);
    const boundBy = Object.values(draft.scripts).find(
      (s) =>
        s.name !== name &&
        primaryVersion(s)?.bindings.some((b) => b.type === "service" && b.service === name),
    );
    if (boundBy && req.query.get("force") !== "true") {
      throw new CfApiError(
        400,
        CfCode.ServiceBindingTarget,
        `Worker "${name}" is bound by "${boundBy.name}"; delete with ?force=true to remove it anyway`,
      );
    }
    delete draft.scripts[name];
    delete draft.secrets[name];
    draft.routes = draft.routes.filter((r) => r.script !== name);
    draft.domains = draft.domains.filter((d) => d.service !== name);
    await applyRuntime(req, draft);
    return ok({ id: name });
  });
}
/** Services and scripts: list, upload, content, delete, references, the 4.164 Worker object. */
export const scriptRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/accounts/:account/workers/services/:script",
    handler: (req) => {
      const state = requireAccount(req);
      const script = state.scripts[req.params.script ?? ""];
      if (!script) throw new CfApiError(404, CfCode.ServiceNotFound, "workers.api.error.service_not_found");
      const summary = scriptSummary(state, script);
      return ok({
        id: script.name,
        default_environment: {
          environment: "production",
          created_on: script.created_on,
          modified_on: script.modified_on,
          script: summary,
        },
        created_on: script.created_on,
        modified_on: script.modified_on,
        environments: [
          { environment: "production", created_on: script.created_on, modified_on: script.modified_on },
        ],
      });
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts",
    handler: (req) => {
      const state = requireAccount(req);
      const all = Object.values(state.scripts)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((s) => scriptSummary(state, s));
      const { items, info } = paginate(all, req.query, Number.POSITIVE_INFINITY);
      return ok(items, info);
    },
  },
  { method: "PUT", pattern: "/accounts/:account/workers/scripts/:script", handler: putScript },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script",
    handler: async (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      const v = primaryVersion(script);
      const main = v ? mainModuleOf(v) : undefined;
      const body = main ? await req.services.store.getModule(main.sha256) : new Uint8Array();
      return { raw: true, status: 200, headers: { "content-type": "application/javascript" }, body };
    },
  },
  { method: "DELETE", pattern: "/accounts/:account/workers/scripts/:script", handler: deleteScript },
  { method: "DELETE", pattern: "/accounts/:account/workers/services/:script", handler: deleteScript },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/references",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      const incoming = Object.values(state.scripts).flatMap((s) =>
        s.name === name
          ? []
          : (primaryVersion(s)?.bindings ?? [])
              .filter((b) => b.type === "service" && b.service === name)
              .map((b) => ({ service: s.name, environment: "production", name: b.name })),
      );
      return ok({
        services: { incoming, outgoing: [], pages_function: false },
        durable_objects: [],
        dispatch_outbounds: [],
      });
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/tails/by-consumer/:script",
    handler: (req) => {
      requireAccount(req);
      return ok([]);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/workers/:script",
    handler: (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      return ok({
        id: script.tag,
        name: script.name,
        created_on: script.created_on,
        updated_on: script.modified_on,
        logpush: script.settings.logpush,
        observability: script.settings.observability,
        subdomain: script.subdomain,
        tags: script.settings.tags,
        tail_consumers: script.settings.tail_consumers,
      });
    },
  },
];
