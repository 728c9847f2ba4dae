import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the fake account holds. */
export interface FakeAccountState {
  tokenStatus?: string;
  accounts: Array<{ id: string; name: string }>;
  zones: Array<{ id: string; name: string; accountId: string }>;
  d1: Array<{ uuid: string; name: string }>;
  scripts: Array<{
    id: string;
    deployments?: Array<{
      id: string;
      created_on: string;
      versions: Array<{ version_id: string; percentage: number }>;
    }>;
    secrets?: string[];
  }>;
}

/** A route answered with an error instead, e.g. `{ "GET /accounts/:a/d1/database": 403 }` (path with ids as written). */
export type FakeFailures = Record<string, number>;

export interface FakeCloudflare {
  baseURL: string;
  /** `METHOD path?query` of every request, in order. */
  requests: string[];
  /** The Authorization header of every request. */
  authorizations: string[];
  state: FakeAccountState;
  failures: FakeFailures;
  /** The most requests in flight at once (observable with `delayMs`). */
  readonly maxConcurrent: number;
  close(): Promise<void>;
}

const ok = (result: unknown, list = false) => ({
  success: true,
  errors: [],
  messages: [],
  result,
  ...(list && Array.isArray(result)
    ? {
        result_info: {
          page: 1,
          per_page: 100,
          count: result.length,
          total_count: result.length,
          total_pages: 1,
        },
      }
    : {}),
});

/**
 * A small stand-in for the Cloudflare v4 API on 127.0.0.1:0: the read endpoints account discovery and
 * validation call, in the envelope shapes `wrangler-traffic.md` records. Used until `@lego/emulator`'s
 * local cloud can serve these tests.
 */
export async function startFakeCloudflare(
  state: FakeAccountState,
  failures: FakeFailures = {},
  options: { delayMs?: number } = {},
): Promise<FakeCloudflare> {
  const requests: string[] = [];
  let inFlight = 0;
  let maxConcurrent = 0;
  const authorizations: string[] = [];
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    maxConcurrent = Math.max(maxConcurrent, inFlight);
    res.on("close", () => inFlight--);
    if (options.delayMs) setTimeout(() => handle(req, res), options.delayMs);
    else handle(req, res);
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.replace(/^\/client\/v4/, "");
    requests.push(`${req.method} ${path}${url.search}`);
    authorizations.push(String(req.headers.authorization ?? ""));
    const failure = failures[`${req.method} ${path}`];
    if (failure) {
      const code = failure === 401 ? 10000 : failure === 403 ? 10000 : 7000;
      return send(res, failure, {
        success: false,
        errors: [{ code, message: failure === 403 ? "Authentication error" : "Failure" }],
        messages: [],
        result: null,
      });
    }
    if (req.method !== "GET")
      return send(res, 501, { success: false, errors: [{ code: 501, message: `${req.method} ${path}` }] });
    if (path === "/user/tokens/verify")
      return send(res, 200, ok({ id: "tok1", status: state.tokenStatus ?? "active" }));
    if (path === "/accounts") return send(res, 200, ok(state.accounts, true));
    if (path === "/zones") {
      const name = url.searchParams.get("name");
      const account = url.searchParams.get("account.id");
      const zones = state.zones
        .filter((z) => (name ? z.name === name : true) && (account ? z.accountId === account : true))
        .map((z) => ({ id: z.id, name: z.name, status: "active", account: { id: z.accountId } }));
      return send(res, 200, ok(zones, true));
    }
    if (/^\/accounts\/[^/]+\/d1\/database$/.test(path)) return send(res, 200, ok(state.d1, true));
    if (/^\/accounts\/[^/]+\/workers\/scripts$/.test(path)) {
      return send(
        res,
        200,
        ok(state.scripts.map((s) => ({ id: s.id, modified_on: "2026-11-01T00:00:00Z" }))),
      );
    }
    const m = path.match(/^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/(deployments|secrets)$/);
    if (m) {
      const script = state.scripts.find((s) => s.id === decodeURIComponent(m[1]!));
      if (!script)
        return send(res, 404, {
          success: false,
          errors: [{ code: 10007, message: "workers.api.error.script_not_found" }],
          messages: [],
          result: null,
        });
      if (m[2] === "deployments") return send(res, 200, ok({ deployments: script.deployments ?? [] }));
      return send(res, 200, ok((script.secrets ?? []).map((name) => ({ name, type: "secret_text" }))));
    }
    return send(res, 501, {
      success: false,
      errors: [{ code: 501, message: `Not implemented: GET ${path}` }],
      messages: [],
      result: null,
    });
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/client/v4`,
    requests,
    authorizations,
    state,
    failures,
    get maxConcurrent() {
      return maxConcurrent;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export const ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
