import { nowIso, uuid } from "../../ids.ts";
import { parseCron } from "../../runtime/cron.ts";
import type { VersionRecord } from "../../state/types.ts";
import { requireAccount } from "../account.ts";
import { type ApiRequest, contentType, jsonBody, ok } from "../context.ts";
import { CfApiError, CfCode } from "../envelope.ts";
import { parseFormData } from "../multipart.ts";
import type { Route } from "../router.ts";
import {
  applyRuntime,
  applyScriptSettings,
  newDeployment,
  primaryVersion,
  requireScript,
  scriptParam,
  settingsObject,
} from "./shared.ts";
import { resolveBindings } from "./upload.ts";

/** `PATCH /scripts/:script/settings` (multipart `settings` part, or JSON): may change bindings → new version. */
async function patchSettings(req: ApiRequest) {
  requireAccount(req);
  const name = scriptParam(req);
  const ct = contentType(req);
  let body: Record<string, unknown>;
  if (/multipart\/form-data/i.test(ct)) {
    const form = await parseFormData(req.body, ct);
    const part = form.get("settings");
    if (part === null) throw new CfApiError(400, CfCode.BadRequest, "Missing the `settings` part");
    try {
      body = JSON.parse(typeof part === "string" ? part : await part.text()) as Record<string, unknown>;
    } catch (error) {
      throw new CfApiError(
        400,
        CfCode.BadRequest,
        `The \`settings\` part is not JSON: ${(error as Error).message}`,
      );
    }
  } else {
    body = jsonBody<Record<string, unknown>>(req);
  }
  return req.services.store.mutate(async (draft) => {
    const script = requireScript(draft, name);
    applyScriptSettings(script, body);
    const previous = primaryVersion(script);
    const changesRuntime =
      body.bindings !== undefined ||
      body.compatibility_date !== undefined ||
      body.compatibility_flags !== undefined;
    if (changesRuntime && previous) {
      const mentioned = new Set(
        (Array.isArray(body.bindings) ? (body.bindings as Array<{ name?: string }>) : []).map((b) => b.name),
      );
      const bindings =
        body.bindings === undefined
          ? previous.bindings
          : resolveBindings(draft, name, body.bindings, previous, []);
      // Secrets left out of a bindings list are removed, as Cloudflare does.
      if (Array.isArray(body.bindings)) {
        for (const secretName of Object.keys(draft.secrets[name] ?? {})) {
          if (!mentioned.has(secretName)) delete draft.secrets[name]?.[secretName];
        }
      }
      const version: VersionRecord = {
        ...previous,
        id: uuid(),
        number: (script.versions.at(-1)?.number ?? 0) + 1,
        created_on: nowIso(),
        annotations: { "workers/triggered_by": "secret" },
        bindings,
        compatibility_date:
          typeof body.compatibility_date === "string" ? body.compatibility_date : previous.compatibility_date,
        compatibility_flags: Array.isArray(body.compatibility_flags)
          ? (body.compatibility_flags as string[])
          : previous.compatibility_flags,
      };
      script.versions.push(version);
      script.deployments.push(
        newDeployment(draft, [{ version_id: version.id, percentage: 100 }], {
          "workers/triggered_by": "secret",
        }),
      );
      await applyRuntime(req, draft);
    }
    return ok(settingsObject(draft, script));
  });
}
/** Settings, script-settings, workers.dev subdomains and cron schedules. */
export const settingsRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/settings",
    handler: (req) => {
      const state = requireAccount(req);
      return ok(settingsObject(state, requireScript(state, req.params.script ?? "")));
    },
  },
  { method: "PATCH", pattern: "/accounts/:account/workers/scripts/:script/settings", handler: patchSettings },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/script-settings",
    handler: (req) => {
      const state = requireAccount(req);
      const s = requireScript(state, req.params.script ?? "");
      return ok({ ...s.settings });
    },
  },
  {
    method: "PATCH",
    pattern: "/accounts/:account/workers/scripts/:script/script-settings",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<Record<string, unknown>>(req);
      const name = req.params.script ?? "";
      const result = await req.services.store.mutate((draft) => {
        const s = requireScript(draft, name);
        applyScriptSettings(s, body);
        return { ...s.settings };
      });
      return ok(result);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/subdomain",
    handler: (req) => ok({ subdomain: requireAccount(req).accountSubdomain }),
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/subdomain",
    handler: (req) => {
      const state = requireAccount(req);
      return ok({ ...requireScript(state, req.params.script ?? "").subdomain });
    },
  },
  {
    method: "POST",
    pattern: "/accounts/:account/workers/scripts/:script/subdomain",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ enabled?: unknown; previews_enabled?: unknown }>(req);
      if (typeof body.enabled !== "boolean") {
        throw new CfApiError(400, CfCode.BadRequest, "`enabled` must be a boolean");
      }
      const name = req.params.script ?? "";
      const result = await req.services.store.mutate((draft) => {
        const s = requireScript(draft, name);
        s.subdomain.enabled = body.enabled as boolean;
        s.subdomain.previews_enabled =
          typeof body.previews_enabled === "boolean" ? body.previews_enabled : (body.enabled as boolean);
        return { ...s.subdomain };
      });
      return ok(result);
    },
  },
  {
    method: "DELETE",
    pattern: "/accounts/:account/workers/scripts/:script/subdomain",
    handler: async (req) => {
      requireAccount(req);
      const name = req.params.script ?? "";
      const result = await req.services.store.mutate((draft) => {
        const s = requireScript(draft, name);
        s.subdomain = { enabled: false, previews_enabled: false };
        return { ...s.subdomain };
      });
      return ok(result);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/schedules",
    handler: (req) => {
      const state = requireAccount(req);
      return ok({ schedules: requireScript(state, req.params.script ?? "").schedules ?? [] });
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/scripts/:script/schedules",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<Array<{ cron?: unknown }>>(req);
      if (!Array.isArray(body) || body.some((c) => typeof c.cron !== "string")) {
        throw new CfApiError(400, CfCode.BadRequest, "Expected an array of `{ cron }`");
      }
      for (const c of body) {
        try {
          parseCron(c.cron as string);
        } catch (error) {
          throw new CfApiError(
            400,
            10100,
            `Invalid cron expression "${String(c.cron)}": ${(error as Error).message}`,
          );
        }
      }
      const name = req.params.script ?? "";
      const schedules = await req.services.store.mutate((draft) => {
        const s = requireScript(draft, name);
        const now = nowIso();
        s.schedules = body.map((c) => ({ cron: c.cron as string, created_on: now, modified_on: now }));
        return s.schedules;
      });
      return ok({ schedules });
    },
  },
];
