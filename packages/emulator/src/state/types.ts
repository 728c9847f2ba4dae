/** Module types, as Miniflare 5's manifest names them. */
export type ModuleType = "esm" | "cjs" | "text" | "data" | "wasm" | "json" | "sourcemap";

/** A zone of the local account. */
export interface ZoneRecord {
  id: string;
  name: string;
  created_on: string;
  /** The account that owns the zone, when it is not the local account (an adopted one). */
  account_id?: string | undefined;
}

/** An account the local cloud serves besides its own: adopted from a portfolio's domain configs. */
export interface AccountRecord {
  id: string;
  name: string;
}

/** A module of an uploaded version; the bytes live in `modules/<sha256>`. */
export interface ModuleRef {
  name: string;
  type: ModuleType;
  sha256: string;
  size: number;
}

/** A binding as uploaded in the metadata; `secret_text` bindings keep no text here (see secrets). */
export interface BindingRecord {
  type: string;
  name: string;
  [key: string]: unknown;
}

/** One uploaded version of a Worker script. */
export interface VersionRecord {
  id: string;
  number: number;
  created_on: string;
  source: string;
  author_email: string;
  annotations: Record<string, string>;
  main_module?: string | undefined;
  body_part?: string | undefined;
  modules: ModuleRef[];
  compatibility_date?: string | undefined;
  compatibility_flags: string[];
  bindings: BindingRecord[];
  /** Names of the modules' exported handlers we could detect (informational). */
  handlers: string[];
  /** Static assets: the completed manifest and the upload's `assets.config`. */
  assets?: VersionAssets | undefined;
  /**
   * Durable Object classes this version exports, after the upload's migrations: class → storage and
   * the key its objects' data is kept under (a renamed class keeps its predecessor's key).
   */
  durable_objects?: Record<string, DurableObjectClass> | undefined;
  /** The migration tag after this version's migrations. */
  migration_tag?: string | undefined;
}

/** A Durable Object class of a script. */
export interface DurableObjectClass {
  storage: "sqlite" | "legacy-kv";
  /** Miniflare's unique key: where the objects' storage lives (stable across versions and restarts). */
  key: string;
  /** The namespace id the API reports. */
  id: string;
}

/** A queue and its consumers. */
export interface QueueRecord {
  queue_id: string;
  queue_name: string;
  created_on: string;
  modified_on: string;
  settings: { delivery_delay?: number; message_retention_period?: number; delivery_paused?: boolean };
  consumers: QueueConsumerRecord[];
}

/** A Worker consuming a queue. */
export interface QueueConsumerRecord {
  consumer_id: string;
  script_name: string;
  created_on: string;
  dead_letter_queue?: string | undefined;
  settings: {
    batch_size?: number | undefined;
    max_retries?: number | undefined;
    max_wait_time_ms?: number | undefined;
    retry_delay?: number | undefined;
    max_concurrency?: number | undefined;
  };
}

/** A KV namespace. */
export interface KvNamespaceRecord {
  id: string;
  title: string;
  created_on: string;
}

/** An R2 bucket. */
export interface R2BucketRecord {
  name: string;
  creation_date: string;
  location: string;
  storage_class: string;
}

/** The static assets of a version. */
export interface VersionAssets {
  manifest: string;
  config: {
    html_handling?: string | undefined;
    not_found_handling?: string | undefined;
    run_worker_first?: boolean | string[] | undefined;
    base_path?: string | undefined;
    /** The text of the project's `_redirects` and `_headers` (wrangler sends them in the config). */
    _redirects?: string | undefined;
    _headers?: string | undefined;
  };
}

/** A deployment: which versions serve, at which percentages. */
export interface DeploymentRecord {
  id: string;
  created_on: string;
  source: string;
  strategy: "percentage";
  author_email: string;
  annotations: Record<string, string>;
  versions: Array<{ version_id: string; percentage: number }>;
}

/** A Worker script and everything attached to it. */
export interface ScriptRecord {
  name: string;
  tag: string;
  created_on: string;
  modified_on: string;
  versions: VersionRecord[];
  /** Newest last. */
  deployments: DeploymentRecord[];
  settings: {
    logpush: boolean;
    observability: Record<string, unknown>;
    tags: string[];
    tail_consumers: unknown[];
  };
  subdomain: { enabled: boolean; previews_enabled: boolean };
  /** The Durable Object migration tag of the active version (what wrangler reads before uploading). */
  migration_tag?: string | undefined;
  /** Cron triggers; the local cloud fires them on schedule. */
  schedules?: Array<{ cron: string; created_on: string; modified_on: string }>;
}

/** A zone route `pattern` → script. */
export interface RouteRecord {
  id: string;
  pattern: string;
  script: string;
  zone_id: string;
  zone_name: string;
}

/** A custom domain: `hostname` → script. */
export interface DomainRecord {
  id: string;
  hostname: string;
  service: string;
  environment: string;
  zone_id: string;
  zone_name: string;
  created_on: string;
}

/** A D1 database; its data lives in Miniflare's persistence folder, keyed by uuid. */
export interface D1Record {
  uuid: string;
  name: string;
  created_at: string;
}

/** A stored secret value. Only ever in `secrets.json` (mode 0600), never in logs or errors. */
export interface SecretRecord {
  type: string;
  text: string;
}

/** Everything the local cloud persists, except module bytes and D1 data. */
export interface CloudState {
  schema: 1;
  account: { id: string; name: string };
  /**
   * Accounts adopted from a portfolio (its domain configs name real `accountId`s). They share the local
   * account's resources: the same Workers, D1 databases and zones answer under every account id.
   */
  accounts?: AccountRecord[] | undefined;
  email: string;
  accountSubdomain: string;
  zones: ZoneRecord[];
  scripts: Record<string, ScriptRecord>;
  routes: RouteRecord[];
  domains: DomainRecord[];
  d1: D1Record[];
  /** script → secret name → value. */
  secrets: Record<string, Record<string, SecretRecord>>;
  queues?: QueueRecord[] | undefined;
  kv?: KvNamespaceRecord[] | undefined;
  r2?: R2BucketRecord[] | undefined;
}
