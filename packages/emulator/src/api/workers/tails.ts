import { requireAccount } from "../account.ts";
import { ok } from "../context.ts";
import { CfApiError } from "../envelope.ts";
import type { Route } from "../router.ts";
import { requireScript } from "./shared.ts";

/** `wrangler tail`: create a tail (a `trace-v1` WebSocket URL on this server), list, delete. */
export const tailRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/accounts/:account/workers/scripts/:script/tails",
    handler: async (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      const { id, expires_at } = req.services.tails.open(script.name);
      await req.services.applyTails();
      const url = `${req.services.origin().replace(/^http/, "ws")}/__lego/tail/${id}`;
      return ok({ id, url, expires_at });
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/tails",
    handler: (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      return ok(req.services.tails.list(script.name));
    },
  },
  {
    method: "DELETE",
    pattern: "/accounts/:account/workers/scripts/:script/tails/:tail",
    handler: async (req) => {
      requireAccount(req);
      if (!req.services.tails.close(req.params.tail ?? "")) {
        throw new CfApiError(404, 10057, `Tail ${req.params.tail} not found`);
      }
      await req.services.applyTails();
      return ok(null);
    },
  },
];
