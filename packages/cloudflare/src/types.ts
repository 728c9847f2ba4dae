import type { ResultInfo } from "./paginate.ts";

/**
 * The records the client returns: the fields Lego relies on, typed, plus whatever else the API sent
 * (kept as-is). They are deliberately small so that any server implementing the API (Cloudflare, the
 * local cloud, a test fake) can satisfy them; `describeCloudflareApiContract` checks exactly these.
 */

/** Anything else the API sent along. */
type Extra = { [key: string]: unknown };

/** The v4 envelope every endpoint answers with. */
export interface ApiEnvelope<T> {
  success: boolean;
  errors: Array<{ code?: number; message?: string }>;
  messages?: Array<{ code?: number; message?: string }>;
  result: T;
  result_info?: ResultInfo | undefined;
}

/** `GET /user/tokens/verify`. */
export interface TokenStatus extends Extra {
  id: string;
  status: "active" | "disabled" | "expired" | string;
  expires_on?: string | undefined;
  not_before?: string | undefined;
}

/** `GET /user`. */
export interface CloudflareUser extends Extra {
  id?: string | undefined;
  email?: string | undefined;
}

/** `GET /accounts`. */
export interface CloudflareAccount extends Extra {
  id: string;
  name: string;
}

/** `GET /zones`. */
export interface Zone extends Extra {
  id: string;
  name: string;
  status?: string | undefined;
  account?: { id?: string | undefined; name?: string | undefined } | undefined;
}

/** `GET /accounts/:a/workers/scripts`. */
export interface WorkerScript extends Extra {
  id: string;
  created_on?: string | undefined;
  modified_on?: string | undefined;
  etag?: string | undefined;
}

/** `GET /accounts/:a/workers/services/:script`: the service a script belongs to. */
export interface WorkerService extends Extra {
  id: string;
  default_environment?:
    | {
        environment?: string | undefined;
        script?: { etag?: string | undefined; last_deployed_from?: string | undefined } & Extra;
      }
    | undefined;
  created_on?: string | undefined;
  modified_on?: string | undefined;
}

/** One deployment: which versions serve which share of traffic. */
export interface Deployment extends Extra {
  id: string;
  created_on: string;
  source?: string | undefined;
  strategy?: string | undefined;
  author_email?: string | undefined;
  versions: Array<{ version_id: string; percentage: number }>;
  annotations?: {
    "workers/message"?: string | undefined;
    "workers/triggered_by"?: string | undefined;
  } & Extra;
}

/** One Worker version. */
export interface WorkerVersion extends Extra {
  id: string;
  number?: number | undefined;
  metadata?:
    | ({
        created_on?: string | undefined;
        modified_on?: string | undefined;
        source?: string | undefined;
        author_email?: string | undefined;
      } & Extra)
    | undefined;
  annotations?:
    | ({ "workers/message"?: string | undefined; "workers/tag"?: string | undefined } & Extra)
    | undefined;
}

/** A secret's name and type; values are never returned by the API. */
export interface WorkerSecret extends Extra {
  name: string;
  type: string;
}

/** A D1 database. */
export interface D1Database extends Extra {
  uuid: string;
  name: string;
  created_at?: string | undefined;
  version?: string | undefined;
  num_tables?: number | undefined;
  file_size?: number | undefined;
}

/** The result of one statement of a D1 query. */
export interface D1QueryResult extends Extra {
  results: Array<Record<string, unknown>>;
  success: boolean;
  meta?:
    | ({
        changes?: number | undefined;
        duration?: number | undefined;
        last_row_id?: number | undefined;
        rows_read?: number | undefined;
        rows_written?: number | undefined;
      } & Extra)
    | undefined;
}

/** A Worker custom domain. */
export interface WorkerDomain extends Extra {
  id: string;
  hostname: string;
  service: string;
  environment?: string | undefined;
  zone_id?: string | undefined;
  zone_name?: string | undefined;
}

/** A zone's Worker route. */
export interface WorkerRoute extends Extra {
  id: string;
  pattern: string;
  script?: string | undefined;
}
