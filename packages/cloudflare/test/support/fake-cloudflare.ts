/**
 * A small Cloudflare v4 API on 127.0.0.1:0 for the tests: the state of a ContractFixture, the
 * endpoints the client and the pinned wrangler use, recorded requests, one-shot faults and route
 * overrides. Unknown routes answer 501 naming the method and path, so a gap is loud.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DatabaseSync } from "node:sqlite";
import type { ContractFixture } from "../../src/testing/index.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Fault {
  method?: string;
  path: RegExp;
  /** How many matching requests it answers; default 1. */
  times?: number;
  status: number;
  headers?: Record<string, string>;
  errors?: Array<{ code: number; message: string }>;
  /** Answer 200 with `success: false`. */
  successFalse?: boolean;
  /** Never answer (until the server closes): for cancellation tests. */
  hang?: boolean;
  /** Destroy the socket without an answer. */
  drop?: boolean;
}

type Reply = { status?: number; body: unknown; headers?: Record<string, string> };
type Handler = (req: RecordedRequest, params: string[]) => Reply | undefined | Promise<Reply | undefined>;

interface ScriptState {
  name: string;
  createdOn: string;
  versions: Array<{ id: string; number: number; created_on: string; message?: string | undefined }>;
  deployments: Array<{
    id: string;
    created_on: string;
    versions: Array<{ version_id: string; percentage: number }>;
    message?: string | undefined;
  }>;
  secrets: Map<string, string>;
  subdomain: { enabled: boolean; previews_enabled: boolean };
}

export interface FakeCloudflare {
  baseURL: string;
  port: number;
  fixture: ContractFixture;
  requests: RecordedRequest[];
  /** Scripts by name, with their secrets' values (the fake keeps them to assert on). */
  scripts: Map<string, ScriptState>;
  fault(fault: Fault): void;
  /** A handler tried before the built-in routes (undefined falls through). Returns its remover. */
  route(method: string, path: RegExp, handler: Handler): () => void;
  /** Drops pending faults and route overrides, and forgets recorded requests. */
  reset(): void;
  /** Requests whose path matches. */
  find(method: string, path: RegExp): RecordedRequest[];
  close(): Promise<void>;
}

const envelope = (result: unknown, resultInfo?: unknown) => ({
  success: true,
  errors: [],
  messages: [],
  result,
  ...(resultInfo ? { result_info: resultInfo } : {}),
});
const failure = (status: number, code: number, message: string): Reply => ({
  status,
  body: { success: false, errors: [{ code, message }], messages: [], result: null },
});
const workerMissing = (name: string) =>
  failure(404, 10007, `This Worker does not exist on your account (${name})`);

function paginate<T>(items: T[], query: Record<string, string>, defaultPerPage = 20): Reply {
  const page = Math.max(1, Number(query.page ?? 1));
  const perPage = Math.max(1, Number(query.per_page ?? defaultPerPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return {
    body: envelope(slice, {
      page,
      per_page: perPage,
      count: slice.length,
      total_count: items.length,
      total_pages: Math.ceil(items.length / perPage),
    }),
  };
}

/** Splits SQL on `;` outside quotes and comments. */
function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i] as string;
    if (quote) {
      current += ch;
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === "`") {
      quote = ch;
      current += ch;
      continue;
    }
    if (ch === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? sql.length : end;
      continue;
    }
    if (ch === ";") {
      if (current.trim()) out.push(current.trim());
      current = "";
      continue;
    }
    current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

export async function startFakeCloudflare(fixture: ContractFixture): Promise<FakeCloudflare> {
  const requests: RecordedRequest[] = [];
  const faults: Array<Fault & { left: number }> = [];
  const overrides: Array<{ method: string; path: RegExp; handler: Handler }> = [];
  const hanging = new Set<ServerResponse>();
  const now = () => new Date().toISOString();
  const account = fixture.account.id;

  const scripts = new Map<string, ScriptState>();
  let versionNumber = 0;
  for (const s of fixture.scripts) {
    scripts.set(s.name, {
      name: s.name,
      createdOn: "2026-01-01T00:00:00.000Z",
      versions: s.versions.map((v) => ({
        id: v.id,
        number: ++versionNumber,
        created_on: "2026-01-01T00:00:00.000Z",
        message: v.message,
      })),
      deployments: s.deployments.map((d) => ({
        id: d.id,
        created_on: "2026-01-01T00:00:00.000Z",
        versions: [{ version_id: d.versionId, percentage: 100 }],
      })),
      secrets: new Map(s.secrets.map((n) => [n, "seeded"])),
      subdomain: { enabled: false, previews_enabled: false },
    });
  }
  const databases = fixture.d1.map((d) => ({
    ...d,
    created_at: "2026-01-01T00:00:00.000Z",
    sqlite: new DatabaseSync(":memory:"),
  }));

  const newScript = (name: string): ScriptState => {
    const s: ScriptState = {
      name,
      createdOn: now(),
      versions: [],
      deployments: [],
      secrets: new Map(),
      subdomain: { enabled: false, previews_enabled: false },
    };
    scripts.set(name, s);
    return s;
  };
  const addVersion = (s: ScriptState, message?: string) => {
    const v = { id: randomUUID(), number: ++versionNumber, created_on: now(), message };
    s.versions.push(v);
    return v;
  };
  const deploy = (s: ScriptState, versionId: string, message?: string) => {
    const d = {
      id: randomUUID(),
      created_on: now(),
      versions: [{ version_id: versionId, percentage: 100 }],
      message,
    };
    s.deployments.unshift(d);
    return d;
  };
  const versionJson = (v: ScriptState["versions"][number]) => ({
    id: v.id,
    number: v.number,
    metadata: {
      created_on: v.created_on,
      modified_on: v.created_on,
      source: "wrangler",
      author_email: fixture.user.email,
    },
    annotations: v.message ? { "workers/message": v.message } : {},
    resources: { script: { etag: v.id }, bindings: [] },
    startup_time_ms: 1,
  });
  const deploymentJson = (d: ScriptState["deployments"][number]) => ({
    id: d.id,
    created_on: d.created_on,
    source: "wrangler",
    strategy: "percentage",
    author_email: fixture.user.email,
    versions: d.versions,
    annotations: d.message ? { "workers/message": d.message } : {},
  });
  const findDb = (idOrName: string) => databases.find((d) => d.uuid === idOrName || d.name === idOrName);
  // Queries run per database: a Time Travel bookmark moves on with them, as D1's does with writes.
  const queriesRun = new Map<string, number>();
  const json = (req: RecordedRequest) => (req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {});

  const routes: Array<[string, RegExp, Handler]> = [
    ["GET", /^\/user\/tokens\/verify$/, () => ({ body: envelope({ id: "tok", status: "active" }) })],
    ["GET", /^\/user$/, () => ({ body: envelope(fixture.user) })],
    ["GET", /^\/accounts$/, (req) => paginate([fixture.account], req.query)],
    [
      "GET",
      /^\/memberships$/,
      (req) => paginate([{ id: "m1", account: fixture.account, status: "accepted" }], req.query),
    ],
    [
      "GET",
      /^\/zones$/,
      (req) => {
        const accountFilter = req.query["account.id"];
        const zones = fixture.zones
          .filter((z) => !req.query.name || z.name === req.query.name)
          .filter(() => !accountFilter || accountFilter === account)
          .map((z) => ({ ...z, status: "active", account: { id: account, name: fixture.account.name } }));
        return paginate(zones, req.query);
      },
    ],
    [
      "GET",
      /^\/zones\/([^/]+)\/workers\/routes$/,
      (_req, [zone]) => ({ body: envelope(fixture.routes[zone as string] ?? []) }),
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/scripts$/,
      () => ({
        body: envelope(
          [...scripts.values()].map((s) => ({
            id: s.name,
            created_on: s.createdOn,
            modified_on: s.createdOn,
            etag: s.name,
          })),
        ),
      }),
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/services\/([^/]+)$/,
      (_req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        return {
          body: envelope({
            id: s.name,
            default_environment: {
              environment: "production",
              script: { etag: s.name, last_deployed_from: "wrangler" },
            },
            created_on: s.createdOn,
            modified_on: s.createdOn,
          }),
        };
      },
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/workers\/([^/]+)$/,
      (_req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        return { body: envelope({ id: s.name, name: s.name, subdomain: s.subdomain }) };
      },
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/deployments$/,
      (_req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        return { body: envelope({ deployments: s.deployments.map(deploymentJson) }) };
      },
    ],
    [
      "POST",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/deployments$/,
      (req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        const body = json(req) as {
          versions?: Array<{ version_id: string }>;
          annotations?: Record<string, string>;
        };
        const versionId = body.versions?.[0]?.version_id ?? "";
        return {
          body: envelope(deploymentJson(deploy(s, versionId, body.annotations?.["workers/message"]))),
        };
      },
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/versions$/,
      (req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        const all = [...s.versions].reverse().map(versionJson);
        const page = Math.max(1, Number(req.query.page ?? 1));
        const perPage = Math.max(1, Number(req.query.per_page ?? 10));
        const items = all.slice((page - 1) * perPage, page * perPage);
        return {
          body: envelope(
            { items },
            {
              page,
              per_page: perPage,
              count: items.length,
              total_count: all.length,
              total_pages: Math.ceil(all.length / perPage),
            },
          ),
        };
      },
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/versions\/([^/]+)$/,
      (_req, [, name, id]) => {
        const v = scripts.get(name as string)?.versions.find((x) => x.id === id);
        return v ? { body: envelope(versionJson(v)) } : failure(404, 10310, "Version not found");
      },
    ],
    [
      "POST",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/versions$/,
      (_req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        return { body: envelope(versionJson(addVersion(s))) };
      },
    ],
    [
      "PUT",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)$/,
      (_req, [, name]) => {
        const s = scripts.get(name as string) ?? newScript(name as string);
        const v = addVersion(s);
        deploy(s, v.id);
        return { body: envelope({ id: s.name, etag: v.id, deployment_id: v.id, startup_time_ms: 1 }) };
      },
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/secrets$/,
      (_req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        return { body: envelope([...s.secrets.keys()].map((n) => ({ name: n, type: "secret_text" }))) };
      },
    ],
    [
      "PUT",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/secrets$/,
      (req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        const body = json(req) as { name: string; text: string };
        s.secrets.set(body.name, body.text);
        return { body: envelope({ name: body.name, type: "secret_text" }) };
      },
    ],
    [
      "DELETE",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/secrets\/([^/]+)$/,
      (_req, [, name, secret]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        s.secrets.delete(secret as string);
        return { body: envelope({}) };
      },
    ],
    [
      "PATCH",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/secrets-bulk$/,
      (req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        const body = json(req) as { secrets: Record<string, { text: string } | null> };
        for (const [key, value] of Object.entries(body.secrets ?? {}))
          if (value === null) s.secrets.delete(key);
          else s.secrets.set(key, value.text);
        return { body: envelope({}) };
      },
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/settings$/,
      (_req, [, name]) =>
        scripts.has(name as string) ? { body: envelope({ bindings: [] }) } : workerMissing(name as string),
    ],
    [
      "PATCH",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/script-settings$/,
      () => ({ body: envelope({}) }),
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/subdomain$/,
      (_req, [, name]) => {
        const s = scripts.get(name as string);
        return s ? { body: envelope(s.subdomain) } : workerMissing(name as string);
      },
    ],
    [
      "POST",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/subdomain$/,
      (req, [, name]) => {
        const s = scripts.get(name as string);
        if (!s) return workerMissing(name as string);
        const body = json(req) as { enabled?: boolean; previews_enabled?: boolean };
        s.subdomain = {
          enabled: Boolean(body.enabled),
          previews_enabled: Boolean(body.previews_enabled ?? body.enabled),
        };
        return { body: envelope(s.subdomain) };
      },
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/subdomain$/,
      () => ({ body: envelope({ subdomain: fixture.accountSubdomain }) }),
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/workers\/domains$/,
      (req) => {
        const q = req.query;
        const domains = fixture.domains
          .filter(
            (d) => (!q.hostname || d.hostname === q.hostname) && (!q.service || d.service === q.service),
          )
          .filter(
            (d) =>
              (!q.environment || d.environment === q.environment) && (!q.zone_id || d.zoneId === q.zone_id),
          )
          .map((d) => ({
            id: d.id,
            hostname: d.hostname,
            service: d.service,
            environment: d.environment,
            zone_id: d.zoneId,
            zone_name: d.zoneName,
          }));
        return { body: envelope(domains) };
      },
    ],
    [
      "PUT",
      /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/domains\/records$/,
      () => ({ body: envelope([]) }),
    ],
    ["PUT", /^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)\/routes$/, () => ({ body: envelope([]) })],
    [
      "GET",
      /^\/accounts\/([^/]+)\/d1\/database$/,
      (req) =>
        paginate(
          databases
            .filter((d) => !req.query.name || d.name.includes(req.query.name))
            .map(({ sqlite: _s, ...d }) => d),
          req.query,
          10,
        ),
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/d1\/database\/([^/]+)$/,
      (_req, [, id]) => {
        const db = findDb(id as string);
        if (!db) return failure(404, 7404, `The database ${id} could not be found`);
        const { sqlite: _s, ...rest } = db;
        return { body: envelope(rest) };
      },
    ],
    [
      "POST",
      /^\/accounts\/([^/]+)\/d1\/database$/,
      (req) => {
        const { name } = json(req) as { name: string };
        const db = { uuid: randomUUID(), name, created_at: now(), sqlite: new DatabaseSync(":memory:") };
        databases.push(db);
        const { sqlite: _s, ...rest } = db;
        return { body: envelope(rest) };
      },
    ],
    [
      "GET",
      /^\/accounts\/([^/]+)\/d1\/database\/([^/]+)\/time_travel\/bookmark$/,
      (_req, [, id]) => {
        const db = findDb(id as string);
        if (!db) return failure(404, 7404, `The database ${id} could not be found`);
        const position = (queriesRun.get(db.uuid) ?? 0).toString(16).padStart(8, "0");
        return {
          body: envelope({ bookmark: `${position}-00000000-00000000-${db.uuid.replaceAll("-", "")}` }),
        };
      },
    ],
    [
      "POST",
      /^\/accounts\/([^/]+)\/d1\/database\/([^/]+)\/query$/,
      (req, [, id]) => {
        const db = findDb(id as string);
        if (!db) return failure(404, 7404, `The database ${id} could not be found`);
        const { sql, params } = json(req) as { sql: string; params?: unknown[] };
        queriesRun.set(db.uuid, (queriesRun.get(db.uuid) ?? 0) + 1);
        const results: unknown[] = [];
        try {
          for (const statement of splitStatements(sql)) {
            const started = performance.now();
            const prepared = db.sqlite.prepare(statement);
            const args = (params ?? []) as Array<string | number | null>;
            if (prepared.columns().length > 0) {
              results.push({
                results: prepared.all(...args),
                success: true,
                meta: { duration: performance.now() - started, changes: 0 },
              });
            } else {
              const info = prepared.run(...args);
              results.push({
                results: [],
                success: true,
                meta: {
                  duration: performance.now() - started,
                  changes: Number(info.changes),
                  last_row_id: Number(info.lastInsertRowid),
                },
              });
            }
          }
        } catch (error) {
          return failure(400, 7500, `${(error as Error).message}: SQLITE_ERROR`);
        }
        return { body: envelope(results) };
      },
    ],
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const prefix = "/client/v4";
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || "/" : url.pathname;
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    requests.push(recorded);
    const send = (reply: Reply) => {
      const body = JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
      res.end(body);
    };

    const fault = faults.find(
      (f) => f.left > 0 && (!f.method || f.method === recorded.method) && f.path.test(path),
    );
    if (fault) {
      fault.left--;
      if (fault.hang) {
        hanging.add(res);
        return;
      }
      if (fault.drop) {
        req.socket.destroy();
        return;
      }
      const errors = fault.errors ?? [{ code: 10000 + fault.status, message: `injected ${fault.status}` }];
      return send({
        status: fault.successFalse ? 200 : fault.status,
        headers: fault.headers,
        body: { success: false, errors, messages: [], result: null },
      });
    }

    if (req.headers.authorization !== `Bearer ${fixture.token}`)
      return send(failure(401, 10000, "Authentication error"));

    for (const o of overrides) {
      const m = o.method === recorded.method ? o.path.exec(path) : null;
      if (!m) continue;
      const reply = await o.handler(recorded, m.slice(1));
      if (reply) return send(reply);
    }
    for (const [method, pattern, handler] of routes) {
      const m = method === recorded.method ? pattern.exec(path) : null;
      if (!m) continue;
      const params = m.slice(1).map((p) => decodeURIComponent(p));
      if (params[0] !== undefined && path.startsWith("/accounts/") && params[0] !== account)
        return send(
          failure(404, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`),
        );
      const reply = await handler(recorded, params);
      if (reply) return send(reply);
    }
    send(failure(501, 0, `The fake Cloudflare API does not implement ${recorded.method} ${path}`));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify(failure(500, 0, String(error)).body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    baseURL: `http://127.0.0.1:${port}/client/v4`,
    port,
    fixture,
    requests,
    scripts,
    fault: (f) => faults.push({ ...f, left: f.times ?? 1 }),
    route: (method, path, handler) => {
      const entry = { method, path, handler };
      overrides.push(entry);
      return () => {
        const i = overrides.indexOf(entry);
        if (i >= 0) overrides.splice(i, 1);
      };
    },
    reset: () => {
      faults.length = 0;
      overrides.length = 0;
      requests.length = 0;
    },
    find: (method, path) => requests.filter((r) => r.method === method && path.test(r.path)),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const db of databases) db.sqlite.close();
    },
  };
}
