/** One entry of Cloudflare's `errors` array. */
export interface CfMessage {
  code: number;
  message: string;
}

/**
 * An API failure with Cloudflare's shape: an HTTP status and one or more `{code, message}` errors.
 * Handlers throw it; the server renders `{success:false, errors, messages:[], result:null}`.
 */
export class CfApiError extends Error {
  override readonly name = "CfApiError";
  readonly status: number;
  readonly errors: CfMessage[];
  readonly headers: Record<string, string>;
  constructor(status: number, code: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.errors = [{ code, message }];
    this.headers = headers;
  }
}

/** Cloudflare error codes the emulator answers with, where wrangler or the SDK branch on them. */
export const CfCode = {
  /** Generic authentication failure. */
  AuthenticationError: 10000,
  /** Token on /user/tokens/verify is not valid. */
  InvalidToken: 1000,
  /** Account not reachable with this token. */
  Unauthorized: 9109,
  /** Unknown route on the account (Cloudflare's "Could not route to ..."). */
  CouldNotRoute: 7003,
  /** Bad request body. */
  BadRequest: 10001,
  /** Worker (script) not found: wrangler treats it as "new worker". */
  WorkerNotFound: 10007,
  /** Service not found: wrangler also accepts it as "new worker". */
  ServiceNotFound: 10090,
  /** Script failed validation (syntax error, startup error, bad binding). */
  ScriptValidation: 10021,
  /** Version not found. */
  VersionNotFound: 10217,
  /** Deployment request invalid. */
  DeploymentInvalid: 10218,
  /** Secret not found. */
  SecretNotFound: 10056,
  /** Service binding target does not exist. */
  ServiceBindingTarget: 10143,
  /** D1 database not found: wrangler auto-provisions on it. */
  D1NotFound: 7404,
  /** D1 SQL error. */
  D1QueryError: 7500,
  /** D1 name already taken. */
  D1NameTaken: 7502,
  /** Zone not found. */
  ZoneNotFound: 1001,
  /** Custom domain conflicts with another Worker. */
  DomainConflict: 100117,
  /** Not implemented by the local cloud. */
  NotImplemented: 10000501,
} as const;

/** Shapes `result_info` the way wrangler (stops on total_count) and the SDK (stops on an empty page) need. */
export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
}

/**
 * Slices `items` by `page`/`per_page` from the query. `defaultPerPage` applies when the caller sends no
 * `per_page`; pass `Infinity` for endpoints Cloudflare does not paginate (a `page` beyond 1 is then empty,
 * which is what stops the SDK).
 */
export function paginate<T>(
  items: readonly T[],
  query: URLSearchParams,
  defaultPerPage: number,
): { items: T[]; info: ResultInfo } {
  const page = Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1);
  const rawPer = Number.parseInt(query.get("per_page") ?? "", 10);
  const perPage = Number.isFinite(rawPer) && rawPer > 0 ? rawPer : defaultPerPage;
  const start = (page - 1) * (Number.isFinite(perPage) ? perPage : items.length);
  const sliced = Number.isFinite(perPage)
    ? items.slice(start, start + perPage)
    : page === 1
      ? [...items]
      : [];
  const shownPer = Number.isFinite(perPage) ? perPage : Math.max(items.length, 1);
  return {
    items: sliced,
    info: {
      page,
      per_page: shownPer,
      count: sliced.length,
      total_count: items.length,
      total_pages: Math.max(1, Math.ceil(items.length / shownPer)),
    },
  };
}
