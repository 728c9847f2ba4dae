import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Clock, Logger } from "@lego/core";
import { createNullLogger, systemClock } from "@lego/core";
import { parseRetryAfter } from "../errors.ts";
import { isRepeatableSql } from "../repeatable-sql.ts";
import { backoffDelay, type RetryPolicy, resolveRetryPolicy } from "../retry.ts";

/** Options of {@link startApiRelay}. */
export interface ApiRelayOptions {
  /** The API base the relay forwards to, e.g. `https://api.cloudflare.com/client/v4` or the local cloud's. */
  target: string;
  /** Retries: the API client's policy and defaults (5 attempts, Retry-After up to 60 s, 2 min in all). */
  retry?: RetryPolicy | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  /**
   * Request bodies up to this size are kept while they stream through, so they can be sent again; a
   * larger one streams without a copy and is not retried after a 5xx. Default 128 MiB (a Worker upload
   * is at most tens of MB).
   */
  maxReplayBytes?: number | undefined;
}

/** What a relay has done, for logs, tests and measurements. */
export interface ApiRelayStats {
  /** Requests received from wrangler. */
  requests: number;
  /** Attempts sent again after a 429, a 5xx or a failed connection. */
  retries: number;
}

/** A running relay. */
export interface ApiRelay {
  /** The base URL to give wrangler as `CLOUDFLARE_API_BASE_URL`: `http://127.0.0.1:<port>/client/v4`. */
  readonly baseUrl: string;
  readonly stats: ApiRelayStats;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Headers that describe one connection, not the request: never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "host",
]);

function forwardHeaders(headers: IncomingHttpHeaders, replayLength?: number): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  if (replayLength !== undefined) out["content-length"] = replayLength;
  return out;
}

/**
 * Whether a request may be sent again after a 5xx or a dropped connection, where the first attempt may
 * have been processed: the idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE), and the POSTs whose
 * repetition has no further effect:
 * - the Workers POSTs that state what should be, not what to add: a script's `deployments` (the
 *   traffic split it names, the same twice: one more history entry, the same state), `subdomain`
 *   (enabled or not) and `domains/changeset` (the custom domains as listed);
 * - a script's `versions` upload: a repetition can leave one more version that nothing deploys (as a
 *   second `wrangler versions upload` would); traffic, bindings and data are untouched, and wrangler
 *   deploys the version id of the answer it gets;
 * - a D1 `query`/`raw` of repeatable SQL (reads, `CREATE … IF NOT EXISTS`), a D1 `export` (reads), an
 *   `import` `init` or `poll` (ingest is not: it runs the file), and a Time Travel `restore` (the same
 *   bookmark twice ends in the same state).
 * `body` is the complete body.
 */
export function isRepeatableRequest(method: string, path: string, body: Buffer | undefined): boolean {
  const m = method.toUpperCase();
  if (["GET", "HEAD", "OPTIONS", "PUT", "DELETE"].includes(m)) return true;
  if (m !== "POST") return false;
  const p = path.split("?")[0] ?? path;
  if (/\/workers\/scripts\/[^/]+\/(deployments|subdomain|versions|domains\/changeset)$/.test(p)) return true;
  if (/\/d1\/database\/[^/]+\/(export|time_travel\/restore)$/.test(p)) return true;
  const json = () => {
    try {
      return JSON.parse(body?.toString("utf8") ?? "") as unknown;
    } catch {
      return undefined;
    }
  };
  if (/\/d1\/database\/[^/]+\/import$/.test(p)) {
    const action = (json() as { action?: unknown } | undefined)?.action;
    return action === "init" || action === "poll";
  }
  if (/\/d1\/database\/[^/]+\/(query|raw)$/.test(p)) {
    const parsed = json();
    const items = Array.isArray(parsed) ? parsed : [parsed];
    return (
      items.length > 0 &&
      items.every((q) => {
        const sql = (q as { sql?: unknown } | undefined)?.sql;
        return typeof sql === "string" && isRepeatableSql(sql);
      })
    );
  }
  return false;
}

type Attempt =
  | { kind: "response"; res: IncomingMessage }
  | { kind: "error"; error: Error; connected: boolean };

/**
 * Starts the relay wrangler's API traffic goes through: a server on 127.0.0.1 (a free port) that
 * forwards every request to `target` and retries what wrangler does not:
 * - **429** (and Cloudflare code 971 with it): the request was refused before any effect, so any method
 *   is sent again, after the Retry-After the API asked for (bounded by the policy);
 * - **5xx and dropped connections**: only requests whose repetition has no further effect
 *   ({@link isRepeatableRequest});
 * - **a connection that was never made** (refused): any request, since it provably was not processed.
 *
 * Request bodies stream through as they arrive (wrangler uploads multipart bundles) while a copy is kept
 * to send again. Headers are forwarded as they are and never logged: the token stays in the
 * `Authorization` header between wrangler, the relay and the API. The same code serves Cloudflare and
 * the local cloud.
 *
 * @example
 * const relay = await startApiRelay({ target: target.apiBaseUrl, logger });
 * // wrangler's environment: CLOUDFLARE_API_BASE_URL = relay.baseUrl
 * await relay.close();
 */
export async function startApiRelay(options: ApiRelayOptions): Promise<ApiRelay> {
  const targetUrl = new URL(options.target);
  const basePath = targetUrl.pathname.replace(/\/+$/, "");
  const client = targetUrl.protocol === "https:" ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 64 });
  const policy = resolveRetryPolicy(options.retry);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createNullLogger();
  const maxReplay = options.maxReplayBytes ?? 128 * 1024 * 1024;
  const stats: ApiRelayStats = { requests: 0, retries: 0 };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    stats.requests++;
    const method = (req.method ?? "GET").toUpperCase();
    const path = req.url ?? "/";
    const label = `${method} ${(path.split("?")[0] ?? path).slice(basePath.length) || "/"}`;
    const upstreamUrl = new URL(`${targetUrl.origin}${path}`);
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    let ended = false;
    let streaming: http.ClientRequest | undefined;
    let endWaiters: Array<() => void> = [];
    const bodyEnded = () =>
      ended ? Promise.resolve() : new Promise<void>((resolve) => endWaiters.push(resolve));
    req.on("data", (chunk: Buffer) => {
      if (!overflow) {
        chunks.push(chunk);
        size += chunk.length;
        if (size > maxReplay) {
          overflow = true;
          chunks.length = 0;
        }
      }
      streaming?.write(chunk);
    });
    req.on("end", () => {
      ended = true;
      streaming?.end();
      streaming = undefined;
      for (const w of endWaiters) w();
      endWaiters = [];
    });
    req.on("error", () => res.destroy());

    const send = (first: boolean): Promise<Attempt> =>
      new Promise((resolve) => {
        const up = client.request(
          upstreamUrl,
          {
            method,
            agent,
            headers: forwardHeaders(req.headers, first ? undefined : size),
          },
          (upRes) => resolve({ kind: "response", res: upRes }),
        );
        let connected = false;
        up.on("socket", (socket) => {
          if (!socket.connecting) connected = true;
          else socket.once("connect", () => (connected = true));
        });
        up.on("error", (error) => {
          if (streaming === up) streaming = undefined;
          resolve({ kind: "error", error, connected });
        });
        if (!first) up.end(Buffer.concat(chunks));
        else {
          for (const c of chunks) up.write(c);
          if (ended) up.end();
          else streaming = up;
        }
      });

    const repeatable = async (): Promise<boolean> => {
      await bodyEnded();
      if (overflow) return false;
      return isRepeatableRequest(method, path, Buffer.concat(chunks));
    };

    void (async () => {
      const started = clock.now();
      for (let attempt = 1; ; attempt++) {
        const outcome = await send(attempt === 1);
        if (res.destroyed) {
          if (outcome.kind === "response") outcome.res.resume();
          return;
        }
        let retryAfter: number | undefined;
        let why: string | undefined;
        if (outcome.kind === "response") {
          const status = outcome.res.statusCode ?? 0;
          if (status === 429) {
            retryAfter = parseRetryAfter(headerOf(outcome.res.headers, "retry-after"), clock.now());
            why = "429";
          } else if (status >= 500 && (await repeatable())) why = String(status);
        } else if (!outcome.connected) {
          await bodyEnded();
          if (!overflow) why = `connection failed (${codeOf(outcome.error)})`;
        } else if (await repeatable()) why = `connection dropped (${codeOf(outcome.error)})`;
        const delay = why === undefined ? undefined : (retryAfter ?? backoffDelay(attempt, policy));
        const retry =
          why !== undefined &&
          delay !== undefined &&
          !overflow &&
          attempt < policy.maxAttempts &&
          (retryAfter === undefined || retryAfter <= policy.maxRetryAfterMs) &&
          clock.now() + delay - started <= policy.maxElapsedMs;
        if (!retry) {
          if (outcome.kind === "response") {
            res.writeHead(outcome.res.statusCode ?? 502, forwardHeaders(outcome.res.headers));
            outcome.res.pipe(res);
            outcome.res.on("error", () => res.destroy());
          } else {
            // What wrangler would have seen without the relay: the connection fails.
            logger.debug(`relay: ${label} failed: ${codeOf(outcome.error)}`);
            res.destroy();
          }
          return;
        }
        if (outcome.kind === "response") outcome.res.resume();
        stats.retries++;
        logger.debug(`relay: ${label} ${why}, retrying in ${delay} ms`, {
          attempt,
          maxAttempts: policy.maxAttempts,
        });
        await clock.sleep(delay!);
        await bodyEnded();
      }
    })().catch((error) => {
      logger.debug(`relay: ${label} failed: ${(error as Error).message}`);
      res.destroy();
    });
  }

  const server = http.createServer(handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  // The relay never keeps Lego alive on its own: a running wrangler child does.
  server.unref();
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${port}${basePath}`,
    stats,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function codeOf(error: Error): string {
  return (error as { code?: string }).code ?? error.message;
}
