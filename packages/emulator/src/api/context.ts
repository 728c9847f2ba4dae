import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "@lego/core";
import type { TimeTravelStore } from "../d1/time-travel.ts";
import type { Runtime } from "../runtime/runner.ts";
import type { StateStore } from "../state/store.ts";
import type { TailHub } from "../tail.ts";
import { CfApiError, CfCode, type ResultInfo } from "./envelope.ts";

/** A short-lived, unauthenticated URL (D1 import upload, export download) and what it serves. */
export type Presigned =
  | { kind: "import-upload"; db: string; expires: number }
  | { kind: "export-download"; db: string; file: string; expires: number };

/** What every API handler can reach. */
export interface CloudServices {
  store: StateStore;
  runtime: Runtime;
  logger: Logger;
  /** e.g. http://127.0.0.1:8787 (no trailing slash): presigned URLs point here. */
  origin(): string;
  /** Presigned URL registry, keyed by the random token in the path. */
  presigned: Map<string, Presigned>;
  /** When set, custom domains and routes on hostnames outside every zone are refused. */
  strictZones: boolean;
  /** D1 Time Travel bookmarks and the states they name. */
  timeTravel: TimeTravelStore;
  /** `wrangler tail` sessions. */
  tails: TailHub;
  /** Gives the tail consumer to the scripts with an open tail (and takes it away), rebuilding if needed. */
  applyTails(): Promise<void>;
}

/** One API request, as handlers see it. */
export interface ApiRequest {
  method: string;
  /** Path below /client/v4, e.g. /accounts/abc/workers/scripts/x */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  services: CloudServices;
}

/** A JSON envelope answer. */
export interface ApiReply {
  result: unknown;
  resultInfo?: ResultInfo | undefined;
  status?: number | undefined;
  /** Extra top-level envelope keys (D1 import/export put `success`, `status` there too). */
  extra?: Record<string, unknown> | undefined;
}

/** A raw (non-envelope) answer, e.g. a script's content. */
export interface RawReply {
  raw: true;
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

/** A route handler. */
export type Handler = (req: ApiRequest) => Promise<ApiReply | RawReply> | ApiReply | RawReply;

/** Parses the body as JSON; anything else is a Cloudflare 400. */
export function jsonBody<T = unknown>(req: ApiRequest): T {
  const text = Buffer.from(req.body).toString("utf8");
  if (text.trim() === "") throw new CfApiError(400, CfCode.BadRequest, "Expected a JSON body");
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CfApiError(
      400,
      CfCode.BadRequest,
      `The request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

/** The request's Content-Type, lowercased, or "". */
export function contentType(req: ApiRequest): string {
  const value = req.headers["content-type"];
  return typeof value === "string" ? value : "";
}

/** Wraps a result in a reply. */
export function ok(result: unknown, resultInfo?: ResultInfo): ApiReply {
  return { result, resultInfo };
}
