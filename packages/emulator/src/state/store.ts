import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "@lego/core";
import { emulatorError } from "../errors.ts";
import { nowIso, sha256Hex, stableHex32 } from "../ids.ts";
import type { CloudState, SecretRecord, ZoneRecord } from "./types.ts";

/** What a fresh state starts with. */
export interface StateDefaults {
  accountId: string;
  accountName: string;
  accountSubdomain: string;
  email: string;
}

/**
 * The local cloud's persisted state under `stateDir`:
 * `state.json` (account, zones, scripts, versions, deployments, routes, domains, D1 list),
 * `secrets.json` (mode 0600), `modules/<sha256>` (uploaded module bytes, content-addressed) and
 * `miniflare/` (Miniflare's persistence: D1 SQLite files, caches).
 *
 * Every mutation goes through {@link StateStore.mutate}, which serialises writers and writes the files
 * atomically before resolving.
 */
export class StateStore {
  readonly stateDir: string;
  state: CloudState;
  #queue: Promise<unknown> = Promise.resolve();
  #moduleCache = new Map<string, Uint8Array>();

  private constructor(stateDir: string, state: CloudState) {
    this.stateDir = stateDir;
    this.state = state;
  }

  /** Opens (or creates) the state under `stateDir`. */
  static async open(stateDir: string, defaults: StateDefaults): Promise<StateStore> {
    await mkdir(join(stateDir, "modules"), { recursive: true });
    const stored = await readJsonFile<CloudState>(join(stateDir, "state.json"));
    const secrets = await readJsonFile<CloudState["secrets"]>(join(stateDir, "secrets.json"));
    if (stored && stored.schema !== 1) {
      throw emulatorError(
        "ERR_LOCAL_CLOUD_STATE",
        `${join(stateDir, "state.json")} has unknown schema ${String(stored.schema)}`,
        {
          hint: "Run `lego local reset` to start from an empty local cloud.",
        },
      );
    }
    const state: CloudState = stored
      ? { ...stored, secrets: secrets ?? {} }
      : {
          schema: 1,
          account: { id: defaults.accountId, name: defaults.accountName },
          email: defaults.email,
          accountSubdomain: defaults.accountSubdomain,
          zones: [],
          scripts: {},
          routes: [],
          domains: [],
          d1: [],
          secrets: secrets ?? {},
        };
    const store = new StateStore(stateDir, state);
    if (!stored) await store.#write();
    return store;
  }

  /** Miniflare's persistence folder (D1 data lives here). */
  get miniflareDir(): string {
    return join(this.stateDir, "miniflare");
  }

  /**
   * Runs `fn` on a draft copy of the state, one mutation at a time. When `fn` resolves, the draft becomes
   * the state and is written to disk; when it throws, nothing changes.
   */
  mutate<T>(fn: (draft: CloudState) => Promise<T> | T): Promise<T> {
    const run = this.#queue.then(async () => {
      const draft = structuredClone(this.state);
      const out = await fn(draft);
      this.state = draft;
      await this.#write();
      return out;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Ensures zones named `names` exist (seeded from options). */
  async seedZones(names: readonly string[]): Promise<void> {
    const missing = names.filter((n) => !this.state.zones.some((z) => z.name === n.toLowerCase()));
    if (missing.length === 0) return;
    await this.mutate((s) => {
      for (const name of missing) s.zones.push(makeZone(name));
    });
  }

  /** Stores module bytes, returning their sha-256. */
  async putModule(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    if (!this.#moduleCache.has(sha)) {
      await writeFileAtomic(join(this.stateDir, "modules", sha), bytes);
      this.#moduleCache.set(sha, bytes);
    }
    return sha;
  }

  /** Reads module bytes by sha-256. */
  async getModule(sha: string): Promise<Uint8Array> {
    const cached = this.#moduleCache.get(sha);
    if (cached) return cached;
    const bytes = new Uint8Array(await readFile(join(this.stateDir, "modules", sha)));
    this.#moduleCache.set(sha, bytes);
    return bytes;
  }

  /** The secrets of `script` (values). */
  secretsOf(script: string): Record<string, SecretRecord> {
    return this.state.secrets[script] ?? {};
  }

  async #write(): Promise<void> {
    const { secrets, ...rest } = this.state;
    await writeJsonAtomic(join(this.stateDir, "state.json"), rest);
    await writeJsonAtomic(join(this.stateDir, "secrets.json"), secrets, { mode: 0o600 });
  }
}

/** A zone record for `name`, with an id stable across runs. */
export function makeZone(name: string): ZoneRecord {
  const lower = name.toLowerCase();
  return { id: stableHex32(`zone:${lower}`), name: lower, created_on: nowIso() };
}
