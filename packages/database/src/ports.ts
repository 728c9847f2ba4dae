/**
 * What @lego/database needs from the outside world, as narrow ports. `fromCloudflare` (see
 * `cloudflare-adapter.ts`) builds them from the `@lego/cloudflare` API client and wrangler runner;
 * tests may pass any implementation that keeps the same contract.
 */

/**
 * One D1 database of one service in one environment: everything needed to read its migrations, back it
 * up, migrate it and restore it. Built from the discovery service model by `d1TargetsOf`.
 */
export interface D1Target {
  /** Service name, as discovery reports it. */
  service: string;
  /** Lego environment name (`production`, `staging`, …). */
  env: string;
  /** The value wrangler gets as `--env` (`""` is the top level of the config). */
  wranglerEnv: string;
  /** Absolute folder of the service (wrangler's project path). */
  serviceDir: string;
  /** Absolute path of the wrangler config file. */
  configPath: string;
  /** The binding name (`DB`). */
  binding: string;
  /** `database_name` in the config. */
  databaseName: string;
  /** `database_id` in the config, when set; otherwise looked up by name. */
  databaseId?: string | undefined;
  /** Absolute migrations folder (`migrations_dir`, default `<serviceDir>/migrations`). */
  migrationsDir: string;
  /** `migrations_pattern` exactly as written in the config (relative to the service folder), if any. */
  migrationsPattern?: string | undefined;
  /** `migrations_table`, default `d1_migrations`. */
  migrationsTable: string;
}

/** One statement's result from the D1 query endpoint. */
export interface D1QueryResult {
  results: Array<Record<string, unknown>>;
  success: boolean;
  meta?: Record<string, unknown> | undefined;
}

/** A D1 database as the API lists it. */
export interface D1DatabaseRef {
  uuid: string;
  name: string;
}

/** The part of the Cloudflare API @lego/database uses. */
export interface D1ApiPort {
  /**
   * Runs one or several `;`-separated statements; returns one result per statement. Throws a LegoError
   * on a SQL error. Retries 429s, and 5xx and dropped connections when the SQL reads (or when
   * `options.idempotent` says the statements are safe to run twice).
   */
  queryD1(
    databaseId: string,
    sql: string,
    params?: unknown[],
    options?: { idempotent?: boolean | undefined },
  ): Promise<D1QueryResult[]>;
  /** Finds a database by name or uuid; `undefined` when the account has none by that name. */
  getD1Database(nameOrId: string): Promise<D1DatabaseRef | undefined>;
  /** Creates a database by name (used when a service's database does not exist before its first migration). */
  createD1Database?(name: string): Promise<D1DatabaseRef>;
  /** The Time Travel bookmark of the database's current state, when the target offers Time Travel. */
  getD1Bookmark?(databaseId: string): Promise<string | undefined>;
  /**
   * Time Travel: puts the database back to a bookmark in one atomic step (nothing changes unless the
   * whole restore does), retrying transient failures. Preferred over the wrangler command when present.
   */
  restoreD1Bookmark?(databaseId: string, bookmark: string): Promise<unknown>;
}

/** Where and on what a wrangler D1 command runs. Always `--remote`: Lego acts on the target, not on `.wrangler/state`. */
export interface WranglerD1Options {
  /** The service folder (wrangler's cwd). */
  cwd: string;
  /** The wrangler config file. */
  configPath: string;
  /** Database name or binding, as wrangler accepts it. */
  database: string;
  /** wrangler `--env` (`""` for the top level). */
  env: string;
  signal?: AbortSignal | undefined;
}

/** The wrangler commands @lego/database runs. Each throws a LegoError when wrangler fails. */
export interface D1WranglerPort {
  /** `wrangler d1 migrations apply <db> --remote --env <env>` */
  d1MigrationsApply(options: WranglerD1Options): Promise<unknown>;
  /** `wrangler d1 export <db> --remote --env <env> --output <file>` */
  d1Export(options: WranglerD1Options & { output: string }): Promise<unknown>;
  /** `wrangler d1 execute <db> --remote --env <env> --file <file> --yes` */
  d1Execute(options: WranglerD1Options & { file: string }): Promise<unknown>;
  /** `wrangler d1 time-travel restore <db> --bookmark <b> --env <env>`, when available. */
  d1TimeTravelRestore?(options: WranglerD1Options & { bookmark: string }): Promise<unknown>;
}
