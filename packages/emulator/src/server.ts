import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import {
  createNullLogger,
  type LocalCloudInfo,
  type Logger,
  localCloudInfoPath,
  writeJsonAtomic,
} from "@lego/core";
import { accountRoutes } from "./api/account.ts";
import type { ApiReply, CloudServices, Presigned, RawReply } from "./api/context.ts";
import { d1Routes, handlePresigned } from "./api/d1.ts";
import { CfApiError, CfCode, type CfMessage } from "./api/envelope.ts";
import { queueRoutes } from "./api/queues.ts";
import { Router } from "./api/router.ts";
import { kvRoutes, r2Routes } from "./api/storage.ts";
import { ASSETS_UPLOAD_PATH } from "./api/workers/assets.ts";
import { workersRoutes } from "./api/workers/index.ts";
import { TimeTravelStore } from "./d1/time-travel.ts";
import { emulatorError } from "./errors.ts";
import { FaultInjector, type FaultRule } from "./faults.ts";
import { nowIso } from "./ids.ts";
import { cronMatches, parseCron } from "./runtime/cron.ts";
import { resolveHost } from "./runtime/host-routing.ts";
import { pickVersion, versionOverrideFor } from "./runtime/plan.ts";
import { type Generation, LOCAL_CF, Runtime } from "./runtime/runner.ts";
import { StateStore, type ZoneSeed } from "./state/store.ts";
import { TailHub } from "./tail.ts";

/** The account id of the local cloud unless one is given: fixed, so configs can name it. */
export const DEFAULT_ACCOUNT_ID = "10ca1c10d0000000000000000000001e";
/** The workers.dev subdomain of the local account unless one is given. */
export const DEFAULT_ACCOUNT_SUBDOMAIN = "lego-local";
/** This package's version (from its package.json), reported by the health endpoint and server.json. */
export const EMULATOR_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const MAX_BODY = 256 * 1024 * 1024;

/** Options of {@link startLocalCloud}. */
export interface LocalCloudOptions {
  /** Folder for everything persisted. Required: state survives a restart. */
  stateDir: string;
  /** Port on `host`; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /**
   * Zones the account owns (e.g. from the portfolio's domain configs): names, or `{ name, id, accountId }`
   * to adopt a zone under the id a portfolio's configs give it.
   */
  zones?: ReadonlyArray<string | ZoneSeed>;
  /**
   * More account ids the cloud serves (a portfolio's real `accountId`s): listed by `/accounts`, accepted
   * in every `/accounts/:id/…` path, sharing the local account's resources.
   */
  accounts?: readonly string[];
  /** D1 databases that exist from the start, so configs with a fixed `database_id` work. */
  d1Databases?: ReadonlyArray<{ uuid: string; name: string }>;
  /** Account id of a fresh state; default {@link DEFAULT_ACCOUNT_ID}. */
  accountId?: string;
  /** workers.dev subdomain of a fresh state; default {@link DEFAULT_ACCOUNT_SUBDOMAIN}. */
  accountSubdomain?: string;
  /** The bearer token the API accepts; random when omitted. */
  token?: string;
  /** Tokens that may only read (GET): their writes get Cloudflare's 403, for permission tests. */
  readOnlyTokens?: readonly string[];
  /** Fault rules, off by default. */
  faults?: readonly FaultRule[];
  /** Seed of the fault PRNG and of percentage-deployment routing. Default 1. */
  seed?: number;
  /**
   * How long a swap waits for requests in flight on the old version before it takes over anyway (new
   * requests wait meanwhile). Default 5,000 ms. WebSockets are not waited for: a deploy closes them.
   */
  drainTimeoutMs?: number;
  /** Refuse custom domains and routes outside the account's zones instead of creating the zone. */
  strictZones?: boolean;
  logger?: Logger;
}

/** One API request as recorded by the local cloud (never with headers or bodies). */
export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  at: string;
  /** Time the local cloud spent answering, in ms. */
  durationMs: number;
}

/** A running local cloud. */
export interface LocalCloud {
  /** e.g. http://127.0.0.1:8787 */
  url: string;
  /** e.g. http://127.0.0.1:8787/client/v4 — wrangler's CLOUDFLARE_API_BASE_URL, the SDK's baseURL. */
  apiBaseUrl: string;
  port: number;
  host: string;
  accountId: string;
  token: string;
  accountSubdomain: string;
  stateDir: string;
  /** `http://{host}.localhost:<port>`: replace `{host}`. */
  workersUrlPattern: string;
  /** The URL a hostname answers at, e.g. `http://api.example.com.localhost:8787/`. */
  workersUrl(hostname: string): string;
  /** API requests seen so far (the last 5,000). */
  readonly requests: readonly RecordedRequest[];
  /** Replaces the fault rules at runtime; `seed` restarts the sequence. */
  setFaults(rules: readonly FaultRule[], seed?: number): void;
  /** Stops serving and disposes workerd. */
  close(): Promise<void>;
}

function envelope(result: unknown, extra: Record<string, unknown> = {}) {
  return { success: true, errors: [] as CfMessage[], messages: [] as unknown[], result, ...extra };
}

function errorEnvelope(errors: CfMessage[]) {
  return { success: false, errors, messages: [], result: null };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new CfApiError(413, CfCode.BadRequest, "Request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on("error", reject);
  });
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The client address as Cloudflare reports it: IPv4-mapped IPv6 (`::ffff:127.0.0.1`) unwrapped. */
function clientIp(address: string | undefined): string {
  if (!address) return "127.0.0.1";
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}

const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);

/**
 * Makes `cloud` the local cloud Lego finds under `legoHome`: writes `$LEGO_HOME/local/server.json` (0600,
 * atomically) with this process's pid, which its health check answers with. The background daemon does
 * it for `lego local up`; a test or a bench that starts the cloud in its own process does it too, so the
 * built CLI deploys to the cloud whose faults and records it holds. Returns what it wrote.
 *
 * @example
 * const cloud = await startLocalCloud({ stateDir, zones: ["example.com"] });
 * await registerLocalCloud(legoHome, cloud);
 */
export async function registerLocalCloud(
  legoHome: string,
  cloud: Pick<
    LocalCloud,
    "port" | "apiBaseUrl" | "token" | "accountId" | "accountSubdomain" | "workersUrlPattern" | "stateDir"
  >,
  version: string = EMULATOR_VERSION,
): Promise<LocalCloudInfo> {
  const info: LocalCloudInfo = {
    pid: process.pid,
    port: cloud.port,
    apiBaseUrl: cloud.apiBaseUrl,
    token: cloud.token,
    accountId: cloud.accountId,
    accountSubdomain: cloud.accountSubdomain,
    workersUrlPattern: cloud.workersUrlPattern,
    stateDir: cloud.stateDir,
    startedAt: new Date().toISOString(),
    version,
  };
  await writeJsonAtomic(localCloudInfoPath(legoHome), info, { mode: 0o600 });
  return info;
}

/**
 * Starts the local cloud: Cloudflare's v4 API under `/client/v4` and the deployed Workers, on one port.
 *
 * @example
 * const cloud = await startLocalCloud({ stateDir, zones: ["example.com"] });
 * // wrangler: CLOUDFLARE_API_BASE_URL=cloud.apiBaseUrl CLOUDFLARE_API_TOKEN=cloud.token
 * //           CLOUDFLARE_ACCOUNT_ID=cloud.accountId
 * await fetch(cloud.workersUrl("api.example.com"));
 * await cloud.close();
 */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const logger = options.logger ?? createNullLogger();
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? `lego-local-${randomBytes(24).toString("hex")}`;
  const readOnly = [...(options.readOnlyTokens ?? [])];
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  if (!/^[0-9a-f]{32}$/.test(accountId)) {
    throw emulatorError("ERR_LOCAL_CLOUD_OPTIONS", `accountId must be 32 lowercase hex characters`, {
      hint: `Omit it to use ${DEFAULT_ACCOUNT_ID}.`,
    });
  }
  const store = await StateStore.open(options.stateDir, {
    accountId,
    accountName: "Lego local account",
    accountSubdomain: options.accountSubdomain ?? DEFAULT_ACCOUNT_SUBDOMAIN,
    email: "local@lego.localhost",
  });
  await store.adopt({
    accounts: options.accounts ?? [],
    zones: options.zones ?? [],
    d1: options.d1Databases ?? [],
  });
  const faults = new FaultInjector(options.faults ?? [], options.seed ?? 1);
  let routingSeed = (options.seed ?? 1) * 7919;
  const roll = () => {
    routingSeed = (routingSeed * 1103515245 + 12345) % 2147483648;
    return (routingSeed / 2147483648) * 100;
  };
  // Closing an orphaned tail takes the tail consumer away again (services is assigned below).
  const tails = new TailHub(() => {
    void services
      .applyTails()
      .catch((error: unknown) => logger.warn("tail change failed", { error: String(error) }));
  });
  const runtime = new Runtime({
    store,
    logger,
    drainTimeoutMs: options.drainTimeoutMs ?? 5_000,
    onTail: (script, event) => tails.publish(script, event),
  });
  const presigned = new Map<string, Presigned>();
  let origin = "";
  const services: CloudServices = {
    store,
    runtime,
    logger,
    origin: () => origin,
    presigned,
    strictZones: options.strictZones ?? false,
    timeTravel: new TimeTravelStore(store.stateDir),
    tails,
    applyTails: async () => {
      if (runtime.setTailing(tails.scripts())) await store.mutate((draft) => runtime.apply(draft));
    },
  };
  const router = new Router()
    .add(accountRoutes)
    .add(workersRoutes)
    .add(d1Routes)
    .add(kvRoutes)
    .add(r2Routes)
    .add(queueRoutes);
  const requests: RecordedRequest[] = [];
  const cfBlob = JSON.stringify(LOCAL_CF);
  // Ray ids: 16 hex digits, unique per request (a random prefix per process and a counter).
  const rayPrefix = randomBytes(4).toString("hex");
  let rayCounter = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  const record = (method: string, path: string, status: number, started: number) => {
    requests.push({ method, path, status, at: nowIso(), durationMs: performance.now() - started });
    if (requests.length > 5000) requests.splice(0, requests.length - 5000);
  };

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    rawPath: string,
    query: URLSearchParams,
  ) {
    const method = (req.method ?? "GET").toUpperCase();
    const path = rawPath.slice("/client/v4".length) || "/";
    const started = performance.now();
    let status = 500;
    try {
      const decision = faults.decide(method, path);
      if (decision?.delayMs) await new Promise((r) => setTimeout(r, decision.delayMs));
      if (decision?.action?.kind === "drop") {
        status = 0;
        req.socket.destroy();
        return;
      }
      if (decision?.action?.kind === "429") {
        status = 429;
        send(
          res,
          429,
          errorEnvelope([{ code: 971, message: "Please wait and consider throttling your request speed" }]),
          {
            "retry-after": String(decision.action.retryAfter),
          },
        );
        return;
      }
      if (decision?.action?.kind === "5xx") {
        status = decision.action.status;
        send(
          res,
          status,
          errorEnvelope([{ code: 10013, message: "An unknown error has occurred (injected fault)" }]),
        );
        return;
      }
      const match = router.match(method, path);
      // The assets upload is authenticated by the upload session's JWT (checked by its handler).
      const sessionAuth = match !== undefined && ASSETS_UPLOAD_PATH.test(path);
      const auth = req.headers.authorization;
      const bearer =
        typeof auth === "string" && /^Bearer\s+/i.test(auth)
          ? auth.replace(/^Bearer\s+/i, "").trim()
          : undefined;
      if (!bearer) {
        throw new CfApiError(401, CfCode.AuthenticationError, "Authentication error");
      }
      const isWriter = sessionAuth || sameSecret(bearer, token);
      const isReader = !isWriter && readOnly.some((t) => sameSecret(bearer, t));
      if (!isWriter && !isReader) {
        if (path === "/user/tokens/verify")
          throw new CfApiError(401, CfCode.InvalidToken, "Invalid API Token");
        throw new CfApiError(403, CfCode.AuthenticationError, "Authentication error");
      }
      if (isReader && method !== "GET")
        throw new CfApiError(403, CfCode.AuthenticationError, "Authentication error");
      if (!match) {
        throw new CfApiError(
          501,
          CfCode.NotImplemented,
          `The local cloud does not implement ${method} ${path}. See @lego/emulator's README for what is emulated.`,
        );
      }
      const body = method === "GET" || method === "HEAD" ? new Uint8Array() : await readBody(req);
      const lost = decision?.action?.kind === "lost";
      const reply = await match.handler({
        method,
        path,
        params: match.params,
        query,
        headers: req.headers,
        body,
        services,
      });
      if (lost) {
        // Applied, then the answer is lost on the way back: the socket closes without a response.
        status = 0;
        req.socket.destroy();
        return;
      }
      if ("raw" in reply) {
        status = reply.status;
        writeRaw(res, reply);
        return;
      }
      const r = reply as ApiReply;
      status = r.status ?? 200;
      send(
        res,
        status,
        envelope(r.result, { ...(r.resultInfo ? { result_info: r.resultInfo } : {}), ...r.extra }),
      );
    } catch (error) {
      if (error instanceof CfApiError) {
        status = error.status;
        send(res, error.status, errorEnvelope(error.errors), error.headers);
      } else {
        status = 500;
        logger.error("local cloud API error", { method, path, error: String(error) });
        send(
          res,
          500,
          errorEnvelope([
            {
              code: 10002,
              message: `Internal error in the local cloud: ${(error as Error).message ?? String(error)}`,
            },
          ]),
        );
      }
    } finally {
      record(method, path, status, started);
    }
  }

  /**
   * `POST /__lego/scripts/<script>/scheduled?cron=` (the API token): fires the script's `scheduled`
   * handler now (`lego local trigger`). Without `cron`, the script's first cron trigger.
   */
  async function fireNow(req: IncomingMessage, res: ServerResponse, script: string, cron?: string) {
    const auth = req.headers.authorization;
    const bearer = typeof auth === "string" ? auth.replace(/^Bearer\s+/i, "").trim() : "";
    if (!sameSecret(bearer, token)) {
      send(res, 403, errorEnvelope([{ code: CfCode.AuthenticationError, message: "Authentication error" }]));
      return;
    }
    const record = store.state.scripts[script];
    if (!record) {
      send(
        res,
        404,
        errorEnvelope([{ code: CfCode.WorkerNotFound, message: `Worker "${script}" does not exist` }]),
      );
      return;
    }
    const expression = cron ?? record.schedules?.[0]?.cron ?? "* * * * *";
    try {
      parseCron(expression);
      const outcome = await runtime.scheduled(script, expression);
      if (outcome === undefined) {
        send(
          res,
          409,
          errorEnvelope([{ code: 10000409, message: `Worker "${script}" has no running deployment` }]),
        );
        return;
      }
      send(res, 200, envelope({ script, cron: expression, outcome }));
    } catch (error) {
      send(res, 400, errorEnvelope([{ code: CfCode.BadRequest, message: (error as Error).message }]));
    }
  }

  /** Fires the cron triggers due at `at` (a minute boundary), each on its script's primary version. */
  function fireDue(at: Date) {
    for (const script of Object.values(store.state.scripts)) {
      for (const s of script.schedules ?? []) {
        let due = false;
        try {
          due = cronMatches(parseCron(s.cron), at);
        } catch {
          due = false;
        }
        if (!due) continue;
        void runtime.scheduled(script.name, s.cron, at).then(
          (outcome) => logger.debug("cron trigger fired", { script: script.name, cron: s.cron, outcome }),
          (error: unknown) =>
            logger.warn("cron trigger failed", { script: script.name, cron: s.cron, error: String(error) }),
        );
      }
    }
  }

  /**
   * `POST /__lego/adopt { accounts, zones }` (the API token): what `addLocalCloudZones` calls to adopt a
   * portfolio's accounts and zones into a running cloud in one request.
   */
  async function adopt(req: IncomingMessage, res: ServerResponse) {
    const auth = req.headers.authorization;
    const bearer = typeof auth === "string" ? auth.replace(/^Bearer\s+/i, "").trim() : "";
    if (!sameSecret(bearer, token)) {
      send(res, 403, errorEnvelope([{ code: CfCode.AuthenticationError, message: "Authentication error" }]));
      return;
    }
    try {
      const body = JSON.parse(Buffer.from(await readBody(req)).toString("utf8") || "{}") as {
        accounts?: unknown;
        zones?: unknown;
        d1?: unknown;
      };
      const d1 = Array.isArray(body.d1)
        ? body.d1.filter(
            (d): d is { uuid: string; name: string } =>
              typeof d === "object" && d !== null && typeof d.uuid === "string" && typeof d.name === "string",
          )
        : [];
      const accounts = Array.isArray(body.accounts)
        ? body.accounts.filter((a): a is string => typeof a === "string")
        : [];
      const zones = Array.isArray(body.zones)
        ? body.zones.filter(
            (z): z is string | ZoneSeed =>
              typeof z === "string" || (typeof z === "object" && z !== null && typeof z.name === "string"),
          )
        : [];
      const result = await store.adopt({ accounts, zones, d1 });
      send(res, 200, envelope(result));
    } catch (error) {
      send(res, 400, errorEnvelope([{ code: CfCode.BadRequest, message: String(error) }]));
    }
  }

  function writeRaw(res: ServerResponse, reply: RawReply) {
    const body = typeof reply.body === "string" ? Buffer.from(reply.body) : Buffer.from(reply.body);
    res.writeHead(reply.status, { ...reply.headers, "content-length": body.length });
    res.end(body);
  }

  function proxyHeaders(req: IncomingMessage, hostname: string): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers))
      if (!HOP_HEADERS.has(k) && v !== undefined) headers[k] = v;
    // As Cloudflare's edge delivers a request to a Worker: the hostname the client asked for (never a
    // forwarding header of the local hop: OpenAuth and others trust x-forwarded-host), the client's IP,
    // a ray id, the country and scheme, and request.cf (Miniflare's cf blob header).
    const ip = clientIp(req.socket.remoteAddress);
    headers.host = hostname;
    delete headers["x-forwarded-host"];
    headers["x-forwarded-proto"] = "http";
    headers["x-real-ip"] = ip;
    headers["cf-connecting-ip"] = ip;
    headers["cf-ipcountry"] = LOCAL_CF.country;
    headers["cf-ray"] =
      `${rayPrefix}${(rayCounter++ & 0xffffffff).toString(16).padStart(8, "0")}-${LOCAL_CF.colo}`;
    headers["cf-visitor"] = '{"scheme":"http"}';
    headers["mf-cf-blob"] = cfBlob;
    return headers;
  }

  async function pickTarget(
    script: string,
    req: IncomingMessage,
  ): Promise<{ gen: Generation; url: URL } | undefined> {
    const gen = await runtime.acquire();
    if (!gen) return undefined;
    const versions = gen.versionsByScript.get(script) ?? [];
    const override = versionOverrideFor(
      req.headers["cloudflare-workers-version-overrides"] as string | undefined,
      script,
    );
    const chosen = pickVersion(versions, roll(), override);
    const url = chosen ? gen.direct.get(chosen.workerName) : undefined;
    if (!url) {
      gen.leave();
      return undefined;
    }
    return { gen, url };
  }

  async function handleWorker(req: IncomingMessage, res: ServerResponse, script: string, hostname: string) {
    const target = await pickTarget(script, req);
    if (!target) {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end(`Worker "${script}" has no running deployment on the local cloud (see its log)`);
      return;
    }
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        target.gen.leave();
      }
    };
    res.on("close", release);
    const upstream = http.request(
      {
        host: target.url.hostname,
        port: target.url.port,
        method: req.method,
        path: req.url,
        headers: proxyHeaders(req, hostname),
        agent,
      },
      (pres) => {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(pres.headers))
          if (!HOP_HEADERS.has(k) && v !== undefined) headers[k] = v;
        res.writeHead(pres.statusCode ?? 502, headers);
        pres.pipe(res);
        pres.on("error", () => res.destroy());
      },
    );
    upstream.on("error", (error) => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`The Worker "${script}" could not be reached: ${error.message}`);
      } else res.destroy();
      release();
    });
    req.pipe(upstream);
  }

  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
    const target = resolveHost(store.state, req.headers.host, path);
    if (target.kind === "script") {
      void handleWorker(req, res, target.script, target.hostname);
      return;
    }
    if (target.kind === "none") {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end(`No Worker on the local cloud answers for ${target.hostname}`);
      return;
    }
    if (path === "/client/v4" || path.startsWith("/client/v4/")) {
      void handleApi(req, res, path, query);
      return;
    }
    if (path === "/__lego/health") {
      send(res, 200, {
        ok: true,
        service: "lego-local-cloud",
        version: EMULATOR_VERSION,
        pid: process.pid,
        accountId,
      });
      return;
    }
    const trigger = /^\/__lego\/scripts\/([^/]+)\/scheduled$/.exec(path);
    if (trigger && req.method === "POST") {
      void fireNow(req, res, decodeURIComponent(trigger[1] ?? ""), query.get("cron") ?? undefined);
      return;
    }
    if (path === "/__lego/adopt" && req.method === "POST") {
      void adopt(req, res);
      return;
    }
    if (path.startsWith("/__lego/d1/")) {
      void (async () => {
        const body = req.method === "PUT" ? await readBody(req) : new Uint8Array();
        const reply = await handlePresigned(req.method ?? "GET", path, body, services);
        if (reply) writeRaw(res, reply);
        else send(res, 404, errorEnvelope([{ code: 7003, message: "No route for that URI" }]));
      })().catch((error: unknown) =>
        send(res, 500, errorEnvelope([{ code: 10002, message: String(error) }])),
      );
      return;
    }
    send(
      res,
      404,
      errorEnvelope([
        { code: 7003, message: `No route for ${req.method} ${path}: the API lives under /client/v4` },
      ]),
    );
  });
  server.keepAliveTimeout = 5_000;

  // WebSocket (and other) upgrades to Workers: a raw pipe to the Worker's socket.
  server.on("upgrade", (req: IncomingMessage, socket: net.Socket, head: Buffer) => {
    const target = resolveHost(store.state, req.headers.host, req.url ?? "/");
    const tail = /^\/__lego\/tail\/([0-9a-f]{32})$/.exec(req.url ?? "");
    if (target.kind === "api" && tail) {
      tails.attach(tail[1] ?? "", req, socket);
      return;
    }
    if (target.kind !== "script") {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
      return;
    }
    void (async () => {
      const picked = await pickTarget(target.script, req);
      if (!picked) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n");
        return;
      }
      // A WebSocket lives until it closes: it must not hold up a swap, so it leaves the in-flight count
      // now; disposing the old generation closes it, as a deploy does on Cloudflare.
      picked.gen.leave();
      const upstream = net.connect(Number(picked.url.port), picked.url.hostname);
      const headers = proxyHeaders(req, target.hostname);
      headers.connection = "Upgrade";
      headers.upgrade = req.headers.upgrade;
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (const [k, v] of Object.entries(headers)) {
        for (const value of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${String(value)}`);
      }
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
      upstream.on("close", () => socket.destroy());
      socket.on("close", () => upstream.destroy());
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) =>
      reject(
        emulatorError(
          "ERR_LOCAL_CLOUD_START",
          `Cannot listen on ${host}:${options.port ?? 0}: ${error.message}`,
          {
            hint: "Pick another port (LEGO_LOCAL_PORT) or stop what uses it.",
            cause: error,
          },
        ),
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  origin = `http://${urlHost}:${port}`;
  try {
    const leftOut = await runtime.applyIsolatingFailures(store.state);
    for (const f of leftOut) {
      logger.error("a deployed Worker no longer starts; it is left out until it is deployed again", f);
    }
  } catch (error) {
    server.close();
    await runtime.close();
    throw emulatorError(
      "ERR_LOCAL_CLOUD_RUNTIME",
      `workerd did not start the deployed Workers: ${(error as Error).message}`,
      {
        hint: "Run `lego local reset` to start from an empty local cloud, or redeploy the Worker named in the message.",
        cause: error,
      },
    );
  }
  logger.info("local cloud listening", { url: origin });

  // Cron triggers fire at each minute boundary, as Cloudflare's do (UTC).
  let cronTimer: NodeJS.Timeout | undefined;
  const armCron = () => {
    const now = Date.now();
    const next = Math.floor(now / 60_000) * 60_000 + 60_000;
    cronTimer = setTimeout(() => {
      fireDue(new Date(next));
      armCron();
    }, next - now);
    cronTimer.unref();
  };
  armCron();

  let closing: Promise<void> | undefined;
  return {
    url: origin,
    apiBaseUrl: `${origin}/client/v4`,
    port,
    host,
    accountId: store.state.account.id,
    token,
    accountSubdomain: store.state.accountSubdomain,
    stateDir: options.stateDir,
    workersUrlPattern: `http://{host}.localhost:${port}`,
    workersUrl: (hostname: string) => `http://${hostname}.localhost:${port}/`,
    requests,
    setFaults: (rules, seed) => faults.set(rules, seed),
    close: () => {
      closing ??= (async () => {
        clearTimeout(cronTimer);
        tails.closeAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        agent.destroy();
        await runtime.close();
      })();
      return closing;
    },
  };
}
