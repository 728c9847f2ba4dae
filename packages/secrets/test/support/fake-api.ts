// A small Cloudflare v4 API on 127.0.0.1:0 for the secrets tests: a script's secret names, and the bulk
// PATCH `wrangler secret bulk` sends. It keeps values so tests can assert on them. A missing script is
// 404 with code 10007, as Cloudflare answers; unknown routes are 501 naming the method and path.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The account id the fake serves. */
export const FAKE_ACCOUNT = "0123456789abcdef0123456789abcdef";
/** The one bearer token it accepts. */
export const FAKE_TOKEN = "fake-api-token-for-tests-0001";

/** The running fake. */
export interface FakeApi {
  server: Server;
  baseURL: string;
  /** Script name → secret name → value. */
  secrets: Map<string, Map<string, string>>;
  requests: Array<{ method: string; path: string; body: string }>;
  /** Answers `method path` (path under /client/v4, no query) with `result`; a list is paginated. */
  route(method: string, path: string, result: unknown): void;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  result: unknown,
  errors: unknown[] = [],
  extra: Record<string, unknown> = {},
): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ success: status < 400, errors, messages: [], result, ...extra }));
}

/** Starts the fake with the given scripts (and their secrets). */
export async function startFakeApi(scripts: Record<string, Record<string, string>> = {}): Promise<FakeApi> {
  const secrets = new Map(Object.entries(scripts).map(([k, v]) => [k, new Map(Object.entries(v))]));
  const requests: FakeApi["requests"] = [];
  const routes = new Map<string, unknown>();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const path = url.pathname.replace(/^\/client\/v4/, "");
      requests.push({ method: req.method ?? "", path, body });
      if (req.headers.authorization !== `Bearer ${FAKE_TOKEN}`)
        return send(res, 401, null, [{ code: 1000, message: "Invalid API Token" }]);
      const fixed = routes.get(`${req.method} ${path}`);
      if (fixed !== undefined) {
        if (!Array.isArray(fixed)) return send(res, 200, fixed);
        const page = Number(url.searchParams.get("page") ?? 1);
        const perPage = Number(url.searchParams.get("per_page") ?? 50);
        const items = fixed.slice((page - 1) * perPage, page * perPage);
        return send(res, 200, items, [], {
          result_info: { page, per_page: perPage, count: items.length, total_count: fixed.length },
        });
      }
      const list = /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets$/.exec(path);
      const bulk = /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets-bulk$/.exec(path);
      const script = decodeURIComponent((list ?? bulk)?.[1] ?? "");
      const s = secrets.get(script);
      if ((list || bulk) && !s)
        return send(res, 404, null, [{ code: 10007, message: "workers.api.error.script_not_found" }]);
      if (req.method === "GET" && list && s)
        return send(
          res,
          200,
          [...s.keys()].map((name) => ({ name, type: "secret_text" })),
        );
      if (req.method === "PATCH" && bulk && s) {
        const parsed = JSON.parse(body) as { secrets: Record<string, { text: string } | null> };
        for (const [k, v] of Object.entries(parsed.secrets))
          if (v === null) s.delete(k);
          else s.set(k, v.text);
        return send(res, 200, {});
      }
      return send(res, 501, null, [
        { code: 501, message: `${req.method} ${path} is not implemented by the fake` },
      ]);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    baseURL: `http://127.0.0.1:${port}/client/v4`,
    secrets,
    requests,
    route: (method, path, result) => {
      routes.set(`${method} ${path}`, result);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
