// A small Cloudflare v4 API for the secrets and token tests: token verify, accounts, the token's own
// policies, a script's secret names, and `wrangler secret bulk`'s PATCH. Values are kept to assert on.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The account the fake API serves. */
export const ACCOUNT = "0123456789abcdef0123456789abcdef";
/** The only bearer token the fake API accepts. */
export const TOKEN = "cf-api-token-under-test-0123456789";

/** The fake API: its base URL, the secrets it holds (values, to assert on) and the requests it saw. */
export interface SecretsApi {
  server: Server;
  close(): Promise<void>;
  baseURL: string;
  secrets: Map<string, Map<string, string>>;
  requests: Array<{ method: string; path: string; auth: string | undefined }>;
}

/**
 * Starts it on 127.0.0.1:0. Unknown routes answer 501 naming the method and path, so a gap is loud.
 */
export async function startSecretsApi(): Promise<SecretsApi> {
  const secrets = new Map<string, Map<string, string>>();
  const requests: SecretsApi["requests"] = [];
  const send = (res: ServerResponse, status: number, result: unknown, errors: unknown[] = []) => {
    res.statusCode = status;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ success: status < 400, errors, messages: [], result }));
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]?.replace(/^\/client\/v4/, "") as string;
      requests.push({ method: req.method ?? "", path, auth: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${TOKEN}`)
        return send(res, 401, null, [{ code: 1000, message: "Invalid API Token" }]);
      const list = /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets$/.exec(path);
      const bulk = /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets-bulk$/.exec(path);
      if (req.method === "GET" && path === "/user/tokens/verify")
        return send(res, 200, { id: "tok-1", status: "active", expires_on: "2030-01-01T00:00:00Z" });
      if (req.method === "GET" && path === "/accounts")
        return send(res, 200, [{ id: ACCOUNT, name: "Test Account" }]);
      if (req.method === "GET" && path === "/user/tokens/tok-1")
        return send(res, 200, {
          id: "tok-1",
          policies: [{ effect: "allow", permission_groups: [{ name: "Workers Scripts Write" }] }],
        });
      if (req.method === "GET" && list) {
        const s = secrets.get(list[1] as string);
        if (!s) return send(res, 404, null, [{ code: 10007, message: "workers.api.error.script_not_found" }]);
        return send(
          res,
          200,
          [...s.keys()].map((name) => ({ name, type: "secret_text" })),
        );
      }
      if (req.method === "PATCH" && bulk) {
        const s = secrets.get(bulk[1] as string) ?? new Map<string, string>();
        for (const [k, v] of Object.entries(
          (JSON.parse(body) as { secrets: Record<string, { text: string }> }).secrets,
        ))
          s.set(k, v.text);
        secrets.set(bulk[1] as string, s);
        return send(res, 200, {});
      }
      return send(res, 501, null, [{ code: 501, message: `${req.method} ${path}` }]);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    baseURL: `http://127.0.0.1:${port}/client/v4`,
    secrets,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
