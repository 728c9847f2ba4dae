import { relative } from "node:path";
import type { CloudflareClient, WranglerRunner } from "@lego/cloudflare";
import type { D1ApiPort, D1WranglerPort, WranglerD1Options } from "./ports.ts";

/** The `@lego/cloudflare` pieces the adapter uses (a real client and runner fit). */
export interface CloudflarePieces {
  client: Pick<CloudflareClient, "queryD1" | "getD1Database" | "createD1Database"> & {
    /** Time Travel restore through the API, with the client's retries (preferred over wrangler's). */
    restoreD1Bookmark?: CloudflareClient["restoreD1Bookmark"] | undefined;
    /**
     * Time Travel: `@lego/cloudflare`'s client has it, so backups record the bookmark they were taken at
     * (Cloudflare and the local cloud alike). A client without it makes backups without one.
     */
    getD1Bookmark?: ((databaseId: string) => Promise<string | undefined>) | undefined;
  };
  wrangler: Pick<WranglerRunner, "d1MigrationsApply" | "d1Export" | "d1Execute" | "run">;
}

function scope(o: WranglerD1Options) {
  const config = relative(o.cwd, o.configPath);
  return {
    cwd: o.cwd,
    env: o.env,
    database: o.database,
    signal: o.signal,
    ...(config && !config.startsWith("..") ? { config } : { config: o.configPath }),
  };
}

/**
 * Builds the database ports from the `@lego/cloudflare` API client and wrangler runner: the one code
 * path for both targets (the local cloud and Cloudflare differ only in base URL and token).
 *
 * @example
 * const { api, wrangler } = fromCloudflare({ client: createCloudflareClient(...), wrangler: createWranglerRunner(...) });
 * await migrateService(targets, { root, api, wrangler });
 */
export function fromCloudflare(pieces: CloudflarePieces): { api: D1ApiPort; wrangler: D1WranglerPort } {
  const { client, wrangler } = pieces;
  const api: D1ApiPort = {
    queryD1: (id, sql, params, o) =>
      client.queryD1(id, sql, params, o?.idempotent !== undefined ? { idempotent: o.idempotent } : {}),
    getD1Database: async (nameOrId) => {
      const db = await client.getD1Database(nameOrId);
      return db ? { uuid: db.uuid, name: db.name } : undefined;
    },
    createD1Database: async (name) => {
      const db = await client.createD1Database(name);
      return { uuid: db.uuid, name: db.name };
    },
    ...(client.getD1Bookmark ? { getD1Bookmark: (id: string) => client.getD1Bookmark!(id) } : {}),
    ...(client.restoreD1Bookmark
      ? { restoreD1Bookmark: (id: string, bookmark: string) => client.restoreD1Bookmark!(id, bookmark) }
      : {}),
  };
  const runner: D1WranglerPort = {
    d1MigrationsApply: (o) => wrangler.d1MigrationsApply(scope(o)),
    d1Export: (o) => wrangler.d1Export({ ...scope(o), output: o.output }),
    // Not the runner's d1Execute: with --file, wrangler 4.164 prints its upload spinner to stdout ahead of
    // the --json document, which that method then fails to parse. The exit code is what tells success.
    d1Execute: (o) => {
      const s = scope(o);
      return wrangler.run(
        [
          "d1",
          "execute",
          o.database,
          "--remote",
          "--yes",
          "--config",
          s.config,
          `--env=${o.env}`,
          "--file",
          o.file,
        ],
        { cwd: o.cwd, signal: o.signal },
      );
    },
    d1TimeTravelRestore: (o) => {
      const s = scope(o);
      return wrangler.run(
        [
          "d1",
          "time-travel",
          "restore",
          o.database,
          "--bookmark",
          o.bookmark,
          "--json",
          "--config",
          s.config,
          `--env=${o.env}`,
        ],
        { cwd: o.cwd, signal: o.signal },
      );
    },
  };
  return { api, wrangler: runner };
}
