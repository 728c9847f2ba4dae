import { makeZone } from "../state/store.ts";
import type { CloudState, ZoneRecord } from "../state/types.ts";
import { type ApiRequest, jsonBody, ok } from "./context.ts";
import { CfApiError, CfCode, paginate } from "./envelope.ts";
import type { Route } from "./router.ts";

/** Throws Cloudflare's 403 unless `:account` is the local account. */
export function requireAccount(req: ApiRequest): CloudState {
  const state = req.services.store.state;
  const account = req.params.account;
  if (account !== undefined && !servesAccount(state, account)) {
    throw new CfApiError(
      403,
      CfCode.Unauthorized,
      `Unauthorized to access requested resource: account ${account} is not the local cloud's account (${state.account.id})`,
    );
  }
  return state;
}

/** Whether `id` is the local account or one adopted from a portfolio. */
export function servesAccount(state: CloudState, id: string): boolean {
  return id === state.account.id || (state.accounts ?? []).some((a) => a.id === id);
}

function allAccounts(state: CloudState): Array<{ id: string; name: string }> {
  return [state.account, ...(state.accounts ?? [])];
}

function accountObject(account: { id: string; name: string }) {
  return {
    id: account.id,
    name: account.name,
    type: "standard",
    settings: { enforce_twofactor: false, api_access_enabled: null, use_account_custom_ns_by_default: false },
    created_on: "2026-01-01T00:00:00.000000Z",
  };
}

/** The public shape of a zone. */
export function zoneObject(state: CloudState, z: ZoneRecord) {
  return {
    id: z.id,
    name: z.name,
    status: "active",
    paused: false,
    type: "full",
    development_mode: 0,
    name_servers: ["lego.ns.localhost", "cloud.ns.localhost"],
    original_name_servers: null,
    created_on: z.created_on,
    modified_on: z.created_on,
    activated_on: z.created_on,
    account: allAccounts(state).find((a) => a.id === (z.account_id ?? state.account.id)) ?? state.account,
    owner: { id: null, type: "user", email: state.email },
    permissions: ["#zone:read", "#zone:edit", "#worker:read", "#worker:edit"],
    plan: {
      id: "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
      name: "Free Website",
      price: 0,
      currency: "USD",
      is_subscribed: true,
    },
    meta: { phishing_detected: false },
  };
}

/** Finds a zone by id or throws Cloudflare's 404. */
export function requireZone(state: CloudState, id: string): ZoneRecord {
  const zone = state.zones.find((z) => z.id === id);
  if (!zone) throw new CfApiError(404, CfCode.ZoneNotFound, `Could not find zone ${id}`);
  return zone;
}

/** The zone whose name is `hostname` or a parent of it (the longest match). */
export function zoneForHostname(state: CloudState, hostname: string): ZoneRecord | undefined {
  const host = hostname.toLowerCase().replace(/^\*\./, "");
  return state.zones
    .filter((z) => host === z.name || host.endsWith(`.${z.name}`))
    .sort((a, b) => b.name.length - a.name.length)[0];
}

/**
 * The zone for `hostname`; when none matches and zones are not strict, the zone of its last two labels is
 * created (the local cloud's stand-in for "this account owns the domain").
 */
export function ensureZoneForHostname(draft: CloudState, hostname: string, strict: boolean): ZoneRecord {
  const found = zoneForHostname(draft, hostname);
  if (found) return found;
  if (strict) {
    throw new CfApiError(
      400,
      CfCode.ZoneNotFound,
      `Could not find a zone for hostname ${hostname} in the account; add it with \`lego local up --zone\``,
    );
  }
  const labels = hostname.toLowerCase().replace(/^\*\./, "").split(".");
  const zone = makeZone(labels.slice(-2).join("."));
  draft.zones.push(zone);
  return zone;
}

/** User, token, account, membership and zone endpoints. */
export const accountRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/user/tokens/verify",
    handler: () =>
      ok({ id: "10ca1c10d0000000000000000000700e", status: "active", not_before: null, expires_on: null }),
  },
  {
    method: "GET",
    pattern: "/accounts/:account/tokens/verify",
    handler: (req) => {
      requireAccount(req);
      return ok({ id: "10ca1c10d0000000000000000000700e", status: "active" });
    },
  },
  {
    method: "GET",
    pattern: "/user",
    handler: (req) => {
      const s = req.services.store.state;
      return ok({
        id: "10ca1c10d00000000000000000005e00",
        email: s.email,
        first_name: "Lego",
        last_name: "Local",
        username: "lego-local",
        telephone: null,
        country: null,
        zipcode: null,
        two_factor_authentication_enabled: false,
        two_factor_authentication_locked: false,
        has_pro_zones: false,
        has_business_zones: false,
        has_enterprise_zones: false,
        suspended: false,
        organizations: [],
        betas: [],
        created_on: "2026-01-01T00:00:00.000000Z",
        modified_on: "2026-01-01T00:00:00.000000Z",
      });
    },
  },
  {
    method: "GET",
    pattern: "/accounts",
    handler: (req) => {
      const s = req.services.store.state;
      const all = allAccounts(s)
        .map(accountObject)
        .filter((a) => !req.query.get("name") || a.name === req.query.get("name"));
      const { items, info } = paginate(all, req.query, 20);
      return ok(items, info);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account",
    handler: (req) => {
      const state = requireAccount(req);
      return ok(accountObject(allAccounts(state).find((a) => a.id === req.params.account) ?? state.account));
    },
  },
  {
    method: "GET",
    pattern: "/memberships",
    handler: (req) => {
      const s = req.services.store.state;
      const all = allAccounts(s).map((account, i) => ({
        id: `10ca1c10d000000000000000000e3b${i.toString(16).padStart(2, "0")}`,
        status: "accepted",
        account: accountObject(account),
        permissions: {},
        roles: ["Super Administrator - All Privileges"],
      }));
      const { items, info } = paginate(all, req.query, 20);
      return ok(items, info);
    },
  },
  {
    method: "GET",
    pattern: "/zones",
    handler: (req) => {
      const s = req.services.store.state;
      const name = req.query.get("name")?.toLowerCase();
      const accountId = req.query.get("account.id");
      const all = s.zones
        .filter((z) => (name ? z.name === name : true))
        // Adopted accounts share the local account's resources: any account the cloud serves sees every zone.
        .filter(() => (accountId ? servesAccount(s, accountId) : true))
        .map((z) => zoneObject(s, z));
      const { items, info } = paginate(all, req.query, 20);
      return ok(items, info);
    },
  },
  {
    method: "POST",
    pattern: "/zones",
    handler: async (req) => {
      const body = jsonBody<{ name?: string; account?: { id?: string } }>(req);
      if (!body.name || !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(body.name)) {
        throw new CfApiError(400, 1097, "Invalid zone name: expected a domain such as example.com");
      }
      const name = body.name.toLowerCase();
      const s = req.services.store.state;
      if (s.zones.some((z) => z.name === name)) {
        throw new CfApiError(400, 1061, `${name} already exists`);
      }
      const owner = body.account?.id;
      if (owner !== undefined && !servesAccount(s, owner)) {
        throw new CfApiError(403, CfCode.Unauthorized, `Unauthorized to access account ${owner}`);
      }
      const zone = await req.services.store.mutate((draft) => {
        const z = makeZone(name);
        if (owner && owner !== draft.account.id) z.account_id = owner;
        draft.zones.push(z);
        return z;
      });
      return ok(zoneObject(req.services.store.state, zone));
    },
  },
  {
    method: "GET",
    pattern: "/zones/:zone",
    handler: (req) => {
      const s = req.services.store.state;
      return ok(zoneObject(s, requireZone(s, req.params.zone ?? "")));
    },
  },
];
