import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "@lego/core";
import { emulatorError } from "../errors.ts";
import { nowIso, sha256Hex, stableHex32 } from "../ids.ts";
import { AssetStore } from "./assets.ts";
import type { CloudState, SecretRecord, ZoneRecord } from "./types.ts";

/** One change waiting in a {@link StateStore.mutateGrouped} group. */
interface GroupItem<O> {
  fn: (draft: CloudState) => Promise<O> | O;
  apply: (draft: CloudState, outs: O[]) => Promise<void>;
  resolve: (out: O) => void;
  reject: (error: unknown) => void;
}

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
  /** Workers static assets: upload sessions, blobs, manifests. */
  readonly assets: AssetStore;
  state: CloudState;
  #queue: Promise<unknown> = Promise.resolve();
  /** Per kind, the group of {@link mutateGrouped} changes waiting for their turn (joined until it starts). */
  #open = new Map<string, GroupItem<unknown>[]>();
  #pending = 0;
  #moduleCache = new Map<string, Uint8Array>();

  private constructor(stateDir: string, state: CloudState) {
    this.stateDir = stateDir;
    this.state = state;
    this.assets = new AssetStore(stateDir);
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
    this.#pending++;
    const run = this.#queue.then(async () => {
      const draft = structuredClone(this.state);
      const out = await fn(draft);
      this.state = draft;
      await this.#write();
      return out;
    });
    this.#queue = run.catch(() => {}).finally(() => this.#pending--);
    return run;
  }

  /** Whether a mutation is running or waiting: a change made now would queue behind it. */
  get busy(): boolean {
    return this.#pending > 0;
  }

  /**
   * Like {@link mutate}, for changes the runtime must accept before they count (a version upload is
   * checked by starting it, a deployment by running it): `fn` changes the draft, then `apply(draft, outs)`
   * proves it and throws when the runtime refuses. Changes of one `kind` that arrive while others are
   * being applied wait together and are applied as a group, with one runtime start, as Cloudflare takes
   * concurrent deploys without queueing them behind each other's start-up. When the group's apply fails,
   * each change is applied again on its own, so every caller gets the answer its change alone would get.
   * `fn` may run more than once (on a fresh draft each time); its result is the caller's.
   */
  mutateGrouped<O>(
    kind: string,
    fn: (draft: CloudState) => Promise<O> | O,
    apply: (draft: CloudState, outs: O[]) => Promise<void>,
  ): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const item = { fn, apply, resolve, reject } as GroupItem<unknown>;
      const open = this.#open.get(kind);
      if (open) {
        open.push(item);
        return;
      }
      const group = [item];
      this.#open.set(kind, group);
      this.#pending++;
      const run = this.#queue.then(async () => {
        this.#open.delete(kind);
        await this.#applyGroup(group);
      });
      this.#queue = run.catch(() => {}).finally(() => this.#pending--);
    });
  }

  async #applyGroup(group: GroupItem<unknown>[]): Promise<void> {
    let alone = group;
    if (group.length > 1) {
      let draft = structuredClone(this.state);
      const done: Array<{ item: GroupItem<unknown>; out: unknown }> = [];
      for (const item of group) {
        const next = structuredClone(draft);
        try {
          done.push({ item, out: await item.fn(next) });
          draft = next;
        } catch (error) {
          item.reject(error);
        }
      }
      try {
        if (done.length > 0) {
          await (done[0] as { item: GroupItem<unknown> }).item.apply(
            draft,
            done.map((d) => d.out),
          );
          this.state = draft;
          await this.#write();
        }
        for (const { item, out } of done) item.resolve(out);
        return;
      } catch {
        alone = done.map((d) => d.item);
      }
    }
    for (const item of alone) {
      try {
        const draft = structuredClone(this.state);
        const out = await item.fn(draft);
        await item.apply(draft, [out]);
        this.state = draft;
        await this.#write();
        item.resolve(out);
      } catch (error) {
        item.reject(error);
      }
    }
  }

  /** Ensures zones named `names` exist (seeded from options). */
  async seedZones(names: readonly string[]): Promise<void> {
    const missing = names.filter((n) => !this.state.zones.some((z) => z.name === n.toLowerCase()));
    if (missing.length === 0) return;
    await this.mutate((s) => {
      for (const name of missing) s.zones.push(makeZone(name));
    });
  }

  /**
   * Adopts the accounts and zones a portfolio names, so a portfolio whose configs carry real ids deploys
   * unchanged: unknown accounts are added; a zone is created with the given id, or a zone of that name
   * takes the given id (its routes and custom domains follow). Idempotent; writes only on a change.
   */
  async adopt(seed: AdoptSeed): Promise<{ accounts: string[]; zones: ZoneRecord[] }> {
    const wantAccounts = [...new Set((seed.accounts ?? []).map((a) => a.toLowerCase()))].filter((a) =>
      /^[0-9a-f]{32}$/.test(a),
    );
    const zones = (seed.zones ?? []).map((z) => (typeof z === "string" ? { name: z } : z));
    const d1 = (seed.d1 ?? []).filter((d) => d.uuid && d.name);
    const needsChange = (s: CloudState) =>
      d1.some((d) => {
        const found = s.d1.find((x) => x.uuid === d.uuid);
        return !found || (found.name === found.uuid && found.name !== d.name);
      }) ||
      wantAccounts.some((a) => a !== s.account.id && !(s.accounts ?? []).some((x) => x.id === a)) ||
      zones.some((z) => {
        const found = s.zones.find((x) => x.name === z.name.toLowerCase());
        return (
          !found ||
          (z.id !== undefined && found.id !== z.id.toLowerCase()) ||
          (z.accountId !== undefined && (found.account_id ?? s.account.id) !== z.accountId.toLowerCase())
        );
      });
    if (needsChange(this.state)) {
      await this.mutate((s) => {
        for (const d of d1) {
          const found = s.d1.find((x) => x.uuid === d.uuid);
          // A database first seen in an upload is named by its id; the config's database_name wins.
          if (found && found.name === found.uuid) found.name = d.name;
          else if (!found) s.d1.push({ uuid: d.uuid, name: d.name, created_at: nowIso() });
        }
        for (const id of wantAccounts) {
          if (id === s.account.id || (s.accounts ?? []).some((x) => x.id === id)) continue;
          s.accounts = [...(s.accounts ?? []), { id, name: `Adopted account ${id.slice(0, 8)}` }];
        }
        for (const z of zones) {
          const name = z.name.toLowerCase();
          const id = z.id?.toLowerCase();
          const account = z.accountId?.toLowerCase();
          let zone = s.zones.find((x) => x.name === name);
          if (!zone) {
            zone = makeZone(name);
            s.zones.push(zone);
          }
          if (id && zone.id !== id && !s.zones.some((x) => x.id === id)) {
            const old = zone.id;
            zone.id = id;
            for (const r of s.routes) if (r.zone_id === old) r.zone_id = id;
            for (const d of s.domains) if (d.zone_id === old) d.zone_id = id;
          }
          if (account && account !== s.account.id) zone.account_id = account;
        }
      });
    }
    return {
      accounts: [this.state.account.id, ...(this.state.accounts ?? []).map((a) => a.id)],
      zones: this.state.zones,
    };
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

/** What {@link StateStore.adopt} takes: account ids, and zones by name with their real ids. */
export interface AdoptSeed {
  accounts?: readonly string[] | undefined;
  /** D1 databases a portfolio's configs name by `database_id` and `database_name`. */
  d1?: ReadonlyArray<{ uuid: string; name: string }> | undefined;
  zones?: ReadonlyArray<string | ZoneSeed> | undefined;
}

/** A zone to adopt: its name, and the id (and account) a portfolio's configs give it. */
export interface ZoneSeed {
  name: string;
  id?: string | undefined;
  accountId?: string | undefined;
}

/** A zone record for `name`, with an id stable across runs. */
export function makeZone(name: string): ZoneRecord {
  const lower = name.toLowerCase();
  return { id: stableHex32(`zone:${lower}`), name: lower, created_on: nowIso() };
}
