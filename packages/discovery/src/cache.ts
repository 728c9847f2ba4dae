import { readFileSync, rmSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type Clock,
  createNullLogger,
  type Logger,
  PRIVATE_FILE,
  systemClock,
  writeFileAtomic,
} from "@lego/core";

/** What a cached value depended on: a file or folder's mtime and size, or the fact it did not exist. */
export type InputStamp = { path: string; mtimeMs: number; size: number } | { path: string; missing: true };

/**
 * Stamps paths for later comparison. Synchronous on purpose: a warm `lego list` stats a few thousand
 * paths, and `statSync` does that several times faster than promise-per-stat.
 */
export function stampInputs(paths: readonly string[]): InputStamp[] {
  return paths.map((path) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    return stat ? { path, mtimeMs: stat.mtimeMs, size: stat.size } : { path, missing: true as const };
  });
}

/**
 * 32-bit FNV-1a of a string: tells apart ids that sanitise to the same file name. Not for security
 * (the entry's own id is checked on read), and it spares every command loading node:crypto (~10 ms).
 */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** True when every stamped path still has the same mtime and size (or is still missing). */
export function inputsUnchanged(stamps: readonly InputStamp[]): boolean {
  for (const stamp of stamps) {
    const stat = statSync(stamp.path, { throwIfNoEntry: false });
    if ("missing" in stamp) {
      if (stat) return false;
    } else if (!stat || stat.mtimeMs !== stamp.mtimeMs || stat.size !== stamp.size) {
      return false;
    }
  }
  return true;
}

/** Options of {@link ConfigurationCacheManager}. */
export interface ConfigurationCacheOptions {
  /** The portfolio root; the cache lives in `<root>/.lego/cache/`. Default: the current folder. */
  root?: string | undefined;
  /** How long an entry stays fresh when its inputs do not change. Default one hour. */
  ttlMs?: number | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

/** Options of {@link ConfigurationCacheManager.cacheConfiguration}. */
export interface CacheEntryOptions {
  /** Overrides the manager's TTL for this entry. */
  ttlMs?: number | undefined;
  /** Files (or folders) the value was derived from: a change to any of them invalidates the entry. */
  inputs?: readonly string[] | undefined;
}

interface StoredEntry<T> {
  format: number;
  id: string;
  storedAt: number;
  ttlMs: number;
  inputs: InputStamp[];
  value: T;
}

/** Bumped whenever the shape of a cached value changes, so older caches are ignored rather than misread. */
export const CACHE_FORMAT = 4;

/**
 * The discovery cache under `<root>/.lego/cache/` (the seed's `ConfigurationCacheManager`). Each entry
 * has a TTL and the stamps of the files it was derived from; it is served only while it is fresh and
 * none of those files changed. Writes are atomic. A corrupt or foreign entry is treated as a miss,
 * never an error: the cache is only ever an optimisation.
 *
 * @example
 * const cache = new ConfigurationCacheManager({ root: "/repo" });
 * await cache.cacheConfiguration("deploy-42", config, { inputs: ["/repo/services/api/wrangler.toml"] });
 * const again = await cache.getCachedConfiguration("deploy-42"); // undefined once the file changes
 * new ConfigurationCacheManager(); // the seed's form: <cwd>/.lego/cache
 */
export class ConfigurationCacheManager {
  /** `<root>/.lego/cache`. */
  readonly dir: string;
  /** The default TTL of entries, in milliseconds. */
  readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;

  /** With no options (the seed's `new ConfigurationCacheManager()`): the cache of the current folder, one-hour TTL. */
  constructor(options: ConfigurationCacheOptions = {}) {
    this.dir = join(options.root ?? process.cwd(), ".lego", "cache");
    this.ttlMs = options.ttlMs ?? 60 * 60 * 1000;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createNullLogger();
  }

  /** The file an entry id is stored in: ids are free-form (hostnames, run ids), file names are not. */
  pathFor(id: string): string {
    const safe = id.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80);
    const hash = fnv1a(id).toString(16).padStart(8, "0");
    return join(this.dir, `${safe}.${hash}.json`);
  }

  /** Stores a JSON-serialisable value under `id` (the seed's `cacheConfiguration(id, config)`). */
  async cacheConfiguration<T>(id: string, value: T, options: CacheEntryOptions = {}): Promise<void> {
    const entry: StoredEntry<T> = {
      format: CACHE_FORMAT,
      id,
      storedAt: this.clock.now(),
      ttlMs: options.ttlMs ?? this.ttlMs,
      inputs: stampInputs(options.inputs ?? []),
      value,
    };
    await writeFileAtomic(this.pathFor(id), JSON.stringify(entry), PRIVATE_FILE);
  }

  /** The value stored under `id`, or undefined when absent, expired or derived from files that changed. */
  async getCachedConfiguration<T>(id: string): Promise<T | undefined> {
    const entry = this.readEntry<T>(this.pathFor(id), id);
    return entry?.value;
  }

  /** Forgets one entry. */
  async invalidate(id: string): Promise<void> {
    await rm(this.pathFor(id), { force: true });
  }

  /** Forgets every entry (the whole `.lego/cache` folder). */
  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * Reads an entry synchronously when fresh. Shared by the portfolio scan, which must stay well under
   * 200 ms for 1,000 services on a warm cache.
   * @internal
   */
  readEntry<T>(file: string, id: string, check: { inputs?: boolean } = {}): StoredEntry<T> | undefined {
    let entry: StoredEntry<T>;
    try {
      entry = JSON.parse(readFileSync(file, "utf8")) as StoredEntry<T>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        this.logger.debug("Ignoring an unreadable cache entry", { file, reason: (error as Error).message });
        rmSync(file, { force: true });
      }
      return undefined;
    }
    if (entry?.format !== CACHE_FORMAT || entry.id !== id) return undefined;
    if (this.clock.now() - entry.storedAt > entry.ttlMs) {
      this.logger.debug("Cache entry expired", { id });
      return undefined;
    }
    if (check.inputs !== false && !inputsUnchanged(entry.inputs ?? [])) {
      this.logger.debug("Cache entry inputs changed", { id });
      return undefined;
    }
    return entry;
  }

  /** Writes an entry with explicit stamps. @internal */
  async writeEntry<T>(
    file: string,
    id: string,
    value: T,
    inputs: InputStamp[],
    ttlMs = this.ttlMs,
  ): Promise<void> {
    const entry: StoredEntry<T> = {
      format: CACHE_FORMAT,
      id,
      storedAt: this.clock.now(),
      ttlMs,
      inputs,
      value,
    };
    await writeFileAtomic(file, JSON.stringify(entry), PRIVATE_FILE);
  }

  /** The clock the manager measures freshness with. @internal */
  now(): number {
    return this.clock.now();
  }
}
