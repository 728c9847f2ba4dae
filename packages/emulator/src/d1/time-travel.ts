import { randomBytes } from "node:crypto";
import { readFile, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "@lego/core";
import { sha256Hex } from "../ids.ts";

/** How long a bookmark stays restorable: D1 Time Travel's 30 days. */
export const TIME_TRAVEL_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** The shape of a D1 bookmark: `xxxxxxxx-xxxxxxxx-xxxxxxxx-` and 32 hex characters. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** One point in time a bookmark names. */
interface SnapshotEntry {
  bookmark: string;
  /** sha-256 of the dump: the same state twice in a row gets the same bookmark, as on D1. */
  sha256: string;
  createdAt: string;
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

/**
 * D1 Time Travel bookmarks of the local cloud. A bookmark names a full dump of the database (schema and
 * rows) taken when it was handed out, kept under `<stateDir>/d1-time-travel/<uuid>/` so it survives a
 * restart. Bookmarks sort by the time they were taken, like D1's. Operations on one database run one
 * at a time.
 */
export class TimeTravelStore {
  readonly #root: string;
  readonly #queues = new Map<string, Promise<unknown>>();
  #sequence = 0;

  constructor(stateDir: string) {
    this.#root = join(stateDir, "d1-time-travel");
  }

  /** Runs `fn` after every earlier operation on database `uuid` has finished. */
  exclusive<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#queues.get(uuid) ?? Promise.resolve()).then(fn);
    this.#queues.set(
      uuid,
      run.catch(() => {}),
    );
    return run;
  }

  /**
   * Records `dump` as the state of database `uuid` now and returns its bookmark: the newest bookmark
   * again when nothing changed since, else a new one. Drops bookmarks past the retention.
   */
  async save(uuid: string, dump: string, now = Date.now()): Promise<string> {
    const entries = await this.#entries(uuid);
    const sha256 = sha256Hex(dump);
    const newest = entries.at(-1);
    if (newest?.sha256 === sha256) return newest.bookmark;
    const seconds = Math.floor(now / 1000);
    const sub = ((now % 1000) << 12) | (this.#sequence++ & 0xfff);
    const bookmark = `${hex8(seconds)}-${hex8(sub)}-${hex8(entries.length)}-${randomBytes(16).toString("hex")}`;
    await writeFileAtomic(join(this.#dir(uuid), `${bookmark}.sql`), dump);
    const cutoff = now - TIME_TRAVEL_RETENTION_MS;
    const kept = entries.filter((e) => Date.parse(e.createdAt) >= cutoff);
    kept.push({ bookmark, sha256, createdAt: new Date(now).toISOString() });
    await writeJsonAtomic(join(this.#dir(uuid), "index.json"), kept);
    for (const e of entries)
      if (!kept.includes(e)) await unlink(join(this.#dir(uuid), `${e.bookmark}.sql`)).catch(() => {});
    return bookmark;
  }

  /** The dump `bookmark` names for database `uuid`, or `undefined` when it is not one of its bookmarks. */
  async read(uuid: string, bookmark: string): Promise<string | undefined> {
    if (!BOOKMARK.test(bookmark)) return undefined;
    const entries = await this.#entries(uuid);
    if (!entries.some((e) => e.bookmark === bookmark)) return undefined;
    return readFile(join(this.#dir(uuid), `${bookmark}.sql`), "utf8").catch(() => undefined);
  }

  /** Forgets every bookmark of database `uuid` (it was deleted). */
  drop(uuid: string): Promise<void> {
    return this.exclusive(uuid, () => rm(this.#dir(uuid), { recursive: true, force: true }));
  }

  #dir(uuid: string): string {
    return join(this.#root, uuid);
  }

  async #entries(uuid: string): Promise<SnapshotEntry[]> {
    return (await readJsonFile<SnapshotEntry[]>(join(this.#dir(uuid), "index.json"))) ?? [];
  }
}
