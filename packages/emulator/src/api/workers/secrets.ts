import { nowIso } from "../../ids.ts";
import { activeDeployment } from "../../runtime/plan.ts";
import { requireAccount } from "../account.ts";
import { type ApiRequest, jsonBody, ok } from "../context.ts";
import { CfApiError, CfCode } from "../envelope.ts";
import type { Route } from "../router.ts";
import { applyRuntime, requireScript } from "./shared.ts";

async function changeSecrets(
  req: ApiRequest,
  name: string,
  change: (secrets: Record<string, { type: string; text: string }>) => void,
) {
  return req.services.store.mutate(async (draft) => {
    const script = requireScript(draft, name);
    draft.secrets[name] ??= {};
    change(draft.secrets[name] as Record<string, { type: string; text: string }>);
    script.modified_on = nowIso();
    if (activeDeployment(script)) await applyRuntime(req, draft);
  });
}
/** Secrets of a script: list, get, put, delete, bulk merge-patch. */
export const secretRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/secrets",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      return ok(Object.entries(state.secrets[name] ?? {}).map(([n, s]) => ({ name: n, type: s.type })));
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/secrets/:secret",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      const s = state.secrets[name]?.[req.params.secret ?? ""];
      if (!s) throw new CfApiError(404, CfCode.SecretNotFound, `Secret ${req.params.secret} not found`);
      return ok({ name: req.params.secret, type: s.type });
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/scripts/:script/secrets",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ name?: unknown; text?: unknown; type?: unknown }>(req);
      if (typeof body.name !== "string" || body.name === "" || typeof body.text !== "string") {
        throw new CfApiError(400, CfCode.BadRequest, "A secret needs a string `name` and `text`");
      }
      const type = typeof body.type === "string" ? body.type : "secret_text";
      if (type !== "secret_text") {
        throw new CfApiError(
          400,
          CfCode.BadRequest,
          `Unsupported secret type "${type}" (the local cloud stores secret_text)`,
        );
      }
      const secretName = body.name;
      const text = body.text;
      await changeSecrets(req, req.params.script ?? "", (secrets) => {
        secrets[secretName] = { type, text };
      });
      return ok({ name: secretName, type });
    },
  },
  {
    method: "DELETE",
    pattern: "/accounts/:account/workers/scripts/:script/secrets/:secret",
    handler: async (req) => {
      requireAccount(req);
      const secretName = req.params.secret ?? "";
      await changeSecrets(req, req.params.script ?? "", (secrets) => {
        if (!secrets[secretName])
          throw new CfApiError(404, CfCode.SecretNotFound, `Secret ${secretName} not found`);
        delete secrets[secretName];
      });
      return ok(null);
    },
  },
  {
    method: "PATCH",
    pattern: "/accounts/:account/workers/scripts/:script/secrets-bulk",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{
        secrets?: Record<string, { name?: string; text?: string; type?: string } | null>;
      }>(req);
      if (!body.secrets || typeof body.secrets !== "object") {
        throw new CfApiError(
          400,
          CfCode.BadRequest,
          "Expected `{ secrets: { NAME: {name, text, type} | null } }`",
        );
      }
      const entries = Object.entries(body.secrets);
      for (const [key, value] of entries) {
        if (value !== null && (typeof value !== "object" || typeof value.text !== "string")) {
          throw new CfApiError(
            400,
            CfCode.BadRequest,
            `Secret ${key} needs a string \`text\` (or null to delete it)`,
          );
        }
      }
      await changeSecrets(req, req.params.script ?? "", (secrets) => {
        for (const [key, value] of entries) {
          if (value === null) delete secrets[key];
          else secrets[value.name ?? key] = { type: value.type ?? "secret_text", text: value.text as string };
        }
      });
      return ok({});
    },
  },
];
