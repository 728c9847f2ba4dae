import { lookup as dnsLookup, type LookupAddress, type LookupOneOptions } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { InterruptedError, LegoError } from "@lego/core";

/** One HTTP exchange as the production tester sees it. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Time to the full body, in milliseconds. */
  durationMs: number;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Sends one request and reads the whole body. Injectable so tests can count or fail requests. */
export type HttpClient = (url: string, options?: HttpRequestOptions) => Promise<HttpResponse>;

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * Name resolution with RFC 6761's rule that `localhost` and every `*.localhost` name is loopback, as
 * browsers and curl already do (getaddrinfo often does not). Other names go to the system resolver.
 */
function lookupWithLocalhost(
  hostname: string,
  options: LookupOneOptions & { all?: boolean },
  callback: LookupCallback,
): void {
  if (hostname === "localhost" || hostname.endsWith(".localhost")) {
    if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
    return;
  }
  dnsLookup(hostname, options as LookupOneOptions, callback as never);
}

/**
 * The default {@link HttpClient}: node:http(s), no connection reuse (each sample measures a whole
 * request), a timeout, cancellation, and `*.localhost` resolved to loopback.
 */
export const defaultHttpClient: HttpClient = (url, options = {}) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const target = new URL(url);
    const started = performance.now();
    if (options.signal?.aborted) return reject(new InterruptedError());
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: options.method ?? "GET",
        headers: { "user-agent": "lego-production-tester", ...options.headers },
        lookup: lookupWithLocalhost as never,
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
        signal: options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(", ") : value;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString("utf8"),
            durationMs: performance.now() - started,
          });
        });
      },
    );
    req.on("timeout", () => {
      req.destroy(
        new LegoError({
          code: "ERR_HTTP_TIMEOUT",
          message: `${options.method ?? "GET"} ${url} did not answer within ${options.timeoutMs ?? 10_000} ms`,
          kind: "system",
        }),
      );
    });
    req.on("error", (error) => {
      if (options.signal?.aborted) reject(new InterruptedError(undefined, error));
      else reject(error);
    });
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
