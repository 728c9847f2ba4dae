import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@lego/core";
import { Log, LogLevel, Response as MfResponse, Miniflare, type MiniflareOptions } from "miniflare";
import type { StateStore } from "../state/store.ts";
import type { CloudState, D1Record, ScriptRecord, SecretRecord, VersionRecord } from "../state/types.ts";
import {
  activeDeployment,
  D1_ADMIN_WORKER,
  d1AdminBinding,
  type RunningVersion,
  runningVersions,
  workerNameOf,
} from "./plan.ts";

type WorkerEntry = MiniflareOptions["workers"][number];
type EnvBinding = NonNullable<WorkerEntry["config"]["env"]>[string];

/** The `request.cf` every proxied request carries (no network fetch of Cloudflare's cf.json). */
export const LOCAL_CF = {
  colo: "LCL",
  country: "XX",
  city: "Localhost",
  asn: 0,
  asOrganization: "Lego local cloud",
  clientTcpRtt: 0,
  httpProtocol: "HTTP/1.1",
  tlsVersion: "",
  timezone: "UTC",
};

/** A Miniflare log that forwards to the Lego logger instead of printing. */
class ForwardingLog extends Log {
  readonly #logger: Logger;
  constructor(logger: Logger) {
    super(LogLevel.WARN);
    this.#logger = logger;
  }
  override log(message: string): void {
    this.#logger.debug("miniflare", { message });
  }
}

let cachedMaxDate: string | undefined;
/** The newest compatibility date the bundled workerd supports. */
function maxCompatibilityDate(): string {
  if (cachedMaxDate) return cachedMaxDate;
  try {
    const req = createRequire(createRequire(import.meta.url).resolve("miniflare"));
    cachedMaxDate = (req("workerd") as { compatibilityDate: string }).compatibilityDate;
  } catch {
    cachedMaxDate = new Date().toISOString().slice(0, 10);
  }
  return cachedMaxDate;
}

/** The compatibility date a version runs with: its own, clamped to what workerd supports. */
export function effectiveCompatibilityDate(date: string | undefined): string {
  const max = maxCompatibilityDate();
  if (!date) return "2024-09-23";
  return date > max ? max : date;
}

/** One running Miniflare instance with every deployed version, and its in-flight request count. */
export class Generation {
  readonly mf: Miniflare;
  readonly revision: number;
  readonly direct: Map<string, URL>;
  readonly d1: Set<string>;
  /** KV namespace ids and R2 bucket names the admin worker binds. */
  readonly kv: Set<string>;
  readonly r2: Set<string>;
  readonly versionsByScript: Map<string, RunningVersion[]>;
  #inflight = 0;
  #idle: Array<() => void> = [];

  constructor(
    mf: Miniflare,
    revision: number,
    direct: Map<string, URL>,
    d1: Set<string>,
    versions: RunningVersion[],
    storage: { kv: Set<string>; r2: Set<string> } = { kv: new Set(), r2: new Set() },
  ) {
    this.mf = mf;
    this.revision = revision;
    this.direct = direct;
    this.d1 = d1;
    this.kv = storage.kv;
    this.r2 = storage.r2;
    this.versionsByScript = new Map();
    for (const v of versions) {
      const list = this.versionsByScript.get(v.script) ?? [];
      list.push(v);
      this.versionsByScript.set(v.script, list);
    }
  }

  /** Counts a request as in flight on this generation. */
  enter(): void {
    this.#inflight++;
  }

  /** Ends a request counted by {@link enter}. */
  leave(): void {
    this.#inflight--;
    if (this.#inflight === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves when no request is in flight, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** What the runtime needs from the server around it. */
export interface RuntimeOptions {
  store: StateStore;
  logger: Logger;
  /** Outbound `fetch()` from Workers goes here (the server routes local hostnames back to Workers). */
  outbound?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
  /** How long a swap waits for in-flight requests on the old generation. */
  drainTimeoutMs?: number;
  /** Receives the tail events of the scripts being tailed (see {@link Runtime.setTailing}). */
  onTail?: (script: string, event: TailEvent) => void;
}

/** How long a generation built by {@link Runtime.prepare} waits for the apply() that uses it. */
const PREPARED_TTL_MS = 30_000;

/** What a generation is built from: the versions it runs and the key that identifies that input. */
interface BuildPlan {
  state: CloudState;
  versions: RunningVersion[];
  key: string;
}

/** Thrown when Miniflare refuses a configuration: the upload is invalid (Cloudflare answers 400 10021). */
export class WorkerStartupError extends Error {
  override readonly name = "WorkerStartupError";
}

/**
 * Runs the active deployment of every script in workerd through Miniflare 5.
 *
 * One Miniflare instance (a "generation") holds every running version plus an internal worker binding
 * every D1 database, so the API and the Workers share D1 through the same Durable Object and SQLite file.
 * A change builds a new generation next to the old one and waits until it is ready; then new requests are
 * held for the moment the old generation needs to finish its in-flight requests, the new one takes over
 * and the old one is disposed. Only one workerd process ever touches the D1 files at a time, and no
 * request fails during a swap.
 */
export class Runtime {
  readonly #options: RuntimeOptions;
  #current: Generation | undefined;
  #gate: Promise<void> | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #revision = 0;
  #disposing: Promise<void>[] = [];
  #closed = false;
  /** script → deployment id that failed to start at start-up; skipped until the script deploys again. */
  #quarantined = new Map<string, string>();
  /** A generation built ahead by {@link prepare}, not serving yet, with the key of what it runs. */
  #prepared: { key: string; gen: Generation; timer: NodeJS.Timeout } | undefined;
  /** Scripts with an open `wrangler tail`: only they get the tail consumer (it costs every request). */
  #tailing = new Set<string>();

  constructor(options: RuntimeOptions) {
    this.#options = options;
  }

  /**
   * Sets the scripts whose events go to `onTail`. Takes effect on the next apply() (the caller applies
   * the state when the set changed).
   */
  setTailing(scripts: Iterable<string>): boolean {
    const next = new Set(scripts);
    const same = next.size === this.#tailing.size && [...next].every((s) => this.#tailing.has(s));
    this.#tailing = next;
    return !same;
  }

  /** The generation now serving, if any. */
  get current(): Generation | undefined {
    return this.#current;
  }

  /**
   * Builds a generation from `state` and swaps it in. Serialised: concurrent calls run one after another.
   * Throws {@link WorkerStartupError} (and keeps the old generation) when workerd refuses the config.
   */
  apply(state: CloudState): Promise<void> {
    const snapshot = structuredClone(state);
    const run = this.#chain.then(async () => {
      if (this.#closed) return;
      const plan = this.#plan(snapshot);
      const next = this.#takePrepared(plan.key) ?? (await this.#build(plan, ++this.#revision));
      await this.#swap(next);
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  /**
   * Builds the generation `state` would run and keeps it, not serving, for a while: the next apply() of
   * the same Workers, secrets and D1 databases swaps it in instead of starting workerd again. wrangler
   * deploys an existing Worker as `POST versions` then `POST deployments` at 100%; checking the upload
   * this way starts workerd once per redeploy instead of twice. Any other apply() discards it.
   * Throws {@link WorkerStartupError} like apply(); the serving generation is never touched.
   */
  prepare(state: CloudState): Promise<void> {
    const snapshot = structuredClone(state);
    const run = this.#chain.then(async () => {
      if (this.#closed) return;
      this.#discardPrepared();
      const plan = this.#plan(snapshot);
      const gen = await this.#build(plan, ++this.#revision);
      const timer = setTimeout(() => this.#discardPrepared(), PREPARED_TTL_MS);
      timer.unref();
      this.#prepared = { key: plan.key, gen, timer };
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  /**
   * Start-up with persisted state that no longer starts (e.g. after a workerd upgrade): finds the
   * deployments that fail on their own, leaves them out until their script deploys again, and builds the
   * rest. Returns the scripts left out, with workerd's message.
   */
  async applyIsolatingFailures(state: CloudState): Promise<Array<{ script: string; message: string }>> {
    try {
      await this.apply(state);
      return [];
    } catch (error) {
      if (!(error instanceof WorkerStartupError)) throw error;
    }
    const failed: Array<{ script: string; message: string }> = [];
    for (const v of runningVersions(state)) {
      if (this.#quarantined.has(v.script)) continue;
      try {
        await this.validate(v.script, v.version, state.secrets[v.script] ?? {});
      } catch (error) {
        const deployment = activeDeployment(state.scripts[v.script] as ScriptRecord);
        if (deployment) this.#quarantined.set(v.script, deployment.id);
        failed.push({ script: v.script, message: (error as Error).message });
      }
    }
    await this.apply(state);
    return failed;
  }

  /**
   * Checks that one version starts (syntax, imports, top-level errors) in a throwaway Miniflare, without
   * touching the running generation or its D1 data.
   */
  async validate(
    script: string,
    version: VersionRecord,
    secrets: Record<string, SecretRecord>,
  ): Promise<void> {
    const tmp = await mkdtemp(join(tmpdir(), "lego-validate-"));
    let mf: Miniflare | undefined;
    try {
      const worker = await this.#workerEntry(
        { script, version, percentage: 100, workerName: workerNameOf(script, version.id) },
        secrets,
        new Map(),
        false,
      );
      mf = new Miniflare(this.#sharedOptions(tmp, [worker]));
      await mf.ready;
    } catch (error) {
      throw new WorkerStartupError(startupMessage(error));
    } finally {
      await mf?.dispose().catch(() => {});
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Takes the current generation for one request (waiting out a swap) and counts it in flight until
   * `release` is called.
   */
  async acquire(): Promise<Generation | undefined> {
    while (this.#gate) await this.#gate;
    const gen = this.#current;
    gen?.enter();
    return gen;
  }

  /**
   * Runs `fn` with the D1 database `db` through the current generation's D1 admin worker, counted as in
   * flight so a swap waits for it. A database newer than the generation triggers a rebuild first.
   */
  async withD1<T>(db: D1Record, fn: (d1: D1Database) => Promise<T>): Promise<T> {
    let gen = await this.acquire();
    if (gen && !gen.d1.has(db.uuid)) {
      gen.leave();
      // Through the store's queue, so this rebuild sees the newest state and no mutation overtakes it.
      await this.#options.store.mutate((draft) => this.apply(draft));
      gen = await this.acquire();
    }
    if (!gen) throw new Error("The local cloud runtime is not running");
    try {
      if (!gen.d1.has(db.uuid)) throw new Error(`D1 database ${db.uuid} is not loaded in the runtime`);
      const d1 = (await gen.mf.getD1Database(
        d1AdminBinding(db.uuid),
        D1_ADMIN_WORKER,
      )) as unknown as D1Database;
      return await fn(d1);
    } finally {
      gen.leave();
    }
  }

  /**
   * Runs `fn` with the admin worker's binding of KV namespace `kv` or R2 bucket `r2`, counted as in flight;
   * one created since the generation was built triggers a rebuild first.
   */
  async withStorage<T>(
    want: { kv: string } | { r2: string },
    fn: (binding: unknown) => Promise<T>,
  ): Promise<T> {
    const has = (g: Generation) => ("kv" in want ? g.kv.has(want.kv) : g.r2.has(want.r2));
    let gen = await this.acquire();
    if (gen && !has(gen)) {
      gen.leave();
      await this.#options.store.mutate((draft) => this.apply(draft));
      gen = await this.acquire();
    }
    if (!gen) throw new Error("The local cloud runtime is not running");
    try {
      if (!has(gen)) throw new Error("The namespace or bucket is not loaded in the runtime");
      const binding =
        "kv" in want
          ? await gen.mf.getKVNamespace(kvAdminBinding(want.kv), D1_ADMIN_WORKER)
          : await gen.mf.getR2Bucket(r2AdminBinding(want.r2), D1_ADMIN_WORKER);
      return await fn(binding);
    } finally {
      gen.leave();
    }
  }

  /**
   * Fires the `scheduled` handler of `script`'s primary version now, as a cron trigger does. Returns
   * workerd's outcome, or undefined when the script has no running version.
   */
  async scheduled(script: string, cron: string, scheduledTime = new Date()): Promise<string | undefined> {
    const gen = await this.acquire();
    if (!gen) return undefined;
    try {
      const versions = [...(gen.versionsByScript.get(script) ?? [])].sort(
        (a, b) => b.percentage - a.percentage,
      );
      const primary = versions[0];
      if (!primary) return undefined;
      const worker = (await gen.mf.getWorker(primary.workerName)) as unknown as {
        scheduled(o: { cron: string; scheduledTime: Date }): Promise<{ outcome: string }>;
      };
      const result = await worker.scheduled({ cron, scheduledTime });
      return result.outcome;
    } finally {
      gen.leave();
    }
  }

  /**
   * Runs statements as one D1 batch (one transaction) inside workerd, through the internal D1 worker.
   * Throws with D1's message when a statement fails; nothing of the batch is then applied.
   */
  async batch(db: D1Record, statements: string[]): Promise<D1BatchSummary> {
    let gen = await this.acquire();
    if (gen && !gen.d1.has(db.uuid)) {
      gen.leave();
      await this.#options.store.mutate((draft) => this.apply(draft));
      gen = await this.acquire();
    }
    if (!gen) throw new Error("The local cloud runtime is not running");
    try {
      if (!gen.d1.has(db.uuid)) throw new Error(`D1 database ${db.uuid} is not loaded in the runtime`);
      const worker = await gen.mf.getWorker(D1_ADMIN_WORKER);
      const res = await worker.fetch("http://d1-admin/batch", {
        method: "POST",
        body: JSON.stringify({ binding: d1AdminBinding(db.uuid), statements }),
      });
      const out = (await res.json()) as ({ ok: true } & D1BatchSummary) | { ok: false; error: string };
      if (!out.ok) throw new Error(out.error);
      return out;
    } finally {
      gen.leave();
    }
  }

  /** Stops workerd. Waits for the last swap. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#chain;
    this.#discardPrepared();
    const gen = this.#current;
    this.#current = undefined;
    if (gen) await gen.mf.dispose().catch(() => {});
    await Promise.all(this.#disposing);
  }

  async #swap(next: Generation): Promise<void> {
    const old = this.#current;
    let open!: () => void;
    this.#gate = new Promise((resolve) => {
      open = resolve;
    });
    try {
      if (old) await old.drained(this.#options.drainTimeoutMs ?? 10_000);
      this.#current = next;
    } finally {
      this.#gate = undefined;
      open();
    }
    if (old) this.#dispose(old);
  }

  #dispose(gen: Generation): void {
    const p = gen.mf.dispose().catch((error: unknown) => {
      this.#options.logger.warn("Disposing an old Miniflare generation failed", { error: String(error) });
    });
    this.#disposing.push(p);
    void p.then(() => {
      this.#disposing = this.#disposing.filter((x) => x !== p);
    });
  }

  /** The prepared generation when it was built from the same input as `key`; discards it otherwise. */
  #takePrepared(key: string): Generation | undefined {
    const prepared = this.#prepared;
    if (prepared?.key !== key) {
      this.#discardPrepared();
      return undefined;
    }
    clearTimeout(prepared.timer);
    this.#prepared = undefined;
    return prepared.gen;
  }

  #discardPrepared(): void {
    const prepared = this.#prepared;
    if (!prepared) return;
    this.#prepared = undefined;
    clearTimeout(prepared.timer);
    this.#dispose(prepared.gen);
  }

  /**
   * The versions a generation of `state` runs and a key of everything the build reads from the state:
   * the version records (immutable, modules by sha-256), their share, their scripts' secrets and the D1
   * list. Two states with the same key build the same generation.
   */
  #plan(state: CloudState): BuildPlan {
    const versions = runningVersions(state).filter(
      (v) =>
        this.#quarantined.get(v.script) !== activeDeployment(state.scripts[v.script] as ScriptRecord)?.id,
    );
    const scripts = [...new Set(versions.map((v) => v.script))];
    const key = JSON.stringify({
      versions: versions.map((v) => [v.workerName, v.percentage, v.version]),
      secrets: scripts.map((s) => [s, state.secrets[s] ?? {}]),
      d1: state.d1.map((d) => d.uuid),
      kv: (state.kv ?? []).map((n) => n.id),
      r2: (state.r2 ?? []).map((b) => b.name),
      queues: (state.queues ?? []).map((q) => [q.queue_name, q.consumers]),
      tails: [...this.#tailing].sort(),
    });
    return { state, versions, key };
  }

  async #build({ state, versions }: BuildPlan, revision: number): Promise<Generation> {
    const primary = new Map<string, string>();
    for (const v of versions) {
      const best = versions
        .filter((x) => x.script === v.script)
        .sort((a, b) => b.percentage - a.percentage)[0];
      if (best) primary.set(v.script, best.workerName);
    }
    const workers: WorkerEntry[] = [adminWorker(state)];
    // One tail consumer per tailed script: workerd's trace events carry no script name.
    for (const script of new Set(versions.map((v) => v.script))) {
      if (this.#tailing.has(script)) workers.push(this.#tailWorker(script));
    }
    for (const v of versions) {
      const isPrimary = primary.get(v.script) === v.workerName;
      workers.push(
        await this.#workerEntry(v, state.secrets[v.script] ?? {}, primary, true, {
          consumers: isPrimary ? queueTriggers(state, v.script) : [],
          tail: this.#tailing.has(v.script),
        }),
      );
    }
    let mf: Miniflare | undefined;
    try {
      mf = new Miniflare(this.#sharedOptions(this.#options.store.miniflareDir, workers));
      await mf.ready;
      const direct = new Map<string, URL>();
      for (const v of versions) direct.set(v.workerName, await mf.unsafeGetDirectURL(v.workerName));
      return new Generation(mf, revision, direct, new Set(state.d1.map((d) => d.uuid)), versions, {
        kv: new Set((state.kv ?? []).map((n) => n.id)),
        r2: new Set((state.r2 ?? []).map((b) => b.name)),
      });
    } catch (error) {
      await mf?.dispose().catch(() => {});
      throw new WorkerStartupError(startupMessage(error));
    }
  }

  #sharedOptions(persist: string, workers: WorkerEntry[]): MiniflareOptions {
    return {
      host: "127.0.0.1",
      port: 0,
      cf: LOCAL_CF,
      log: new ForwardingLog(this.#options.logger),
      handleStructuredLogs: (log) => {
        this.#options.logger.info("worker log", { level: log.level, message: log.message });
      },
      resourcePersistencePath: persist,
      enableDevRegistry: false,
      logRequests: false,
      telemetry: { enabled: false },
      unsafeLocalExplorer: false,
      workers,
    };
  }

  /** The internal tail consumer of `script`: forwards each of its tail events to the server. */
  #tailWorker(script: string): WorkerEntry {
    return {
      config: {
        name: tailWorkerName(script),
        compatibilityDate: "2025-09-01",
        manifest: {
          mainModule: "index.js",
          modules: { "index.js": { type: "esm", contents: TAIL_SOURCE } },
        },
        env: {
          SINK: {
            type: "fetcher",
            handler: async (request: { text(): Promise<string> }) => {
              try {
                const events = JSON.parse(await request.text()) as TailEvent[];
                for (const e of events) this.#options.onTail?.(script, e);
              } catch {
                // A malformed batch is dropped: tails are best effort, as on Cloudflare.
              }
              return new MfResponse(null, { status: 204 });
            },
          } as unknown as EnvBinding,
        },
      },
    };
  }

  async #workerEntry(
    v: RunningVersion,
    secrets: Record<string, SecretRecord>,
    primary: Map<string, string>,
    directSocket: boolean,
    extras: { consumers: QueueTrigger[]; tail: boolean } = { consumers: [], tail: false },
  ): Promise<WorkerEntry> {
    const { version } = v;
    const env: Record<string, EnvBinding> = {};
    // Durable Objects live in the script's primary version (the only one that exports the classes), so
    // both halves of a split deployment, and the Workers binding them, reach the same objects.
    const doHome = (script: string) =>
      script === v.script ? (primary.get(script) ?? v.workerName) : primary.get(script);
    for (const b of version.bindings) {
      const binding = toEnvBinding(b, v.script, version, primary, doHome);
      if (binding) env[b.name] = binding;
    }
    for (const [name, secret] of Object.entries(secrets)) {
      if (secret.type === "secret_text") env[name] = { type: "text", value: secret.text };
    }
    const modules: Record<
      string,
      { type: VersionRecord["modules"][number]["type"]; contents: Uint8Array<ArrayBuffer> }
    > = {};
    for (const m of version.modules) {
      const bytes = await this.#options.store.getModule(m.sha256);
      modules[m.name] = { type: m.type, contents: new Uint8Array(bytes) as Uint8Array<ArrayBuffer> };
    }
    const entry: WorkerEntry = {
      config: {
        name: v.workerName,
        compatibilityDate: effectiveCompatibilityDate(version.compatibility_date),
        compatibilityFlags: version.compatibility_flags,
        env,
      },
      dev: {
        ...(directSocket ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } : {}),
        ...(this.#options.outbound
          ? { outboundService: { type: "node-handler" as const, handler: this.#options.outbound } }
          : {}),
      },
    };
    if (doHome(v.script) === v.workerName && version.durable_objects) {
      const exportsConfig: Record<string, unknown> = {};
      for (const [cls, d] of Object.entries(version.durable_objects)) {
        exportsConfig[cls] = { type: "durable-object", storage: d.storage, unsafeUniqueKey: d.key };
      }
      (entry.config as { exports?: unknown }).exports = exportsConfig;
    }
    const triggers: unknown[] = extras.consumers.map((c) => ({ type: "queue", ...c }));
    if (triggers.length) (entry.config as { triggers?: unknown }).triggers = triggers;
    if (extras.tail) {
      (entry.config as { tailConsumers?: unknown }).tailConsumers = [{ worker: tailWorkerName(v.script) }];
    }
    if (version.assets) {
      const hasUserWorker = Boolean(version.main_module ?? version.body_part);
      const cfg = version.assets.config;
      (entry.config as { assets?: unknown }).assets = {
        directory: await this.#options.store.assets.site(version.assets.manifest, {
          redirects: cfg._redirects,
          headers: cfg._headers,
        }),
        ...(cfg.base_path ? { basePath: cfg.base_path } : {}),
        hasUserWorker,
        ...(cfg.html_handling ? { htmlHandling: cfg.html_handling } : {}),
        ...(cfg.not_found_handling ? { notFoundHandling: cfg.not_found_handling } : {}),
        ...(cfg.run_worker_first !== undefined && hasUserWorker
          ? { runWorkerFirst: cfg.run_worker_first }
          : {}),
      };
      for (const b of version.bindings)
        if (b.type === "assets") env[b.name] = { type: "assets" } as EnvBinding;
      if (!hasUserWorker) {
        // An assets-only Worker: workerd still needs a script; the router never invokes it.
        entry.config.manifest = {
          mainModule: "assets-only.js",
          modules: {
            "assets-only.js": {
              type: "esm",
              contents: new TextEncoder().encode(
                "export default { fetch() { return new Response(null, { status: 404 }); } };",
              ) as Uint8Array<ArrayBuffer>,
            },
          },
        };
      }
    }
    if (version.main_module) {
      entry.config.manifest = { mainModule: version.main_module, modules };
    } else if (version.body_part) {
      const body = version.modules.find((m) => m.name === version.body_part);
      if (body) {
        const bytes = await this.#options.store.getModule(body.sha256);
        entry.legacy = { serviceWorkerScript: new TextDecoder().decode(bytes) };
      }
    }
    return entry;
  }
}

/** Maps one uploaded binding to Miniflare's `env` entry. */
function toEnvBinding(
  b: VersionRecord["bindings"][number],
  script: string,
  version: VersionRecord,
  primary: Map<string, string>,
  doHome: (script: string) => string | undefined,
): EnvBinding | undefined {
  switch (b.type) {
    case "durable_object_namespace": {
      const target = typeof b.script_name === "string" && b.script_name ? b.script_name : script;
      const worker = doHome(target);
      const cls = String(b.class_name ?? "");
      if (!worker) {
        return {
          type: "fetcher",
          handler: () =>
            new MfResponse(
              `Durable Object binding ${b.name}: the Worker "${target}" has no active deployment`,
              {
                status: 503,
              },
            ),
        };
      }
      return { type: "durable-object", worker, exportName: cls } as EnvBinding;
    }
    case "queue":
      return { type: "queue", name: String(b.queue_name ?? b.name) } as EnvBinding;
    case "plain_text":
      return { type: "text", value: String(b.text ?? "") };
    case "json":
      return { type: "json", value: b.json as never };
    case "d1":
      return { type: "d1", id: String(b.id ?? b.database_id) };
    case "kv_namespace":
      return { type: "kv", id: String(b.namespace_id ?? b.id ?? b.name) };
    case "r2_bucket":
      return { type: "r2", name: String(b.bucket_name ?? b.name) };
    case "version_metadata":
      // Miniflare's own version-metadata binding invents a random id per start; the real one reports
      // the version that is serving, which is what deploy checks compare against.
      return {
        type: "json",
        value: {
          id: version.id,
          tag: version.annotations["workers/tag"] ?? "",
          timestamp: version.created_on,
        } as never,
      };
    case "service": {
      const target = String(b.service);
      const workerName = target === script ? workerNameOf(script, version.id) : primary.get(target);
      if (!workerName) {
        return {
          type: "fetcher",
          handler: () =>
            new MfResponse(`Service binding ${b.name}: the Worker "${target}" has no active deployment`, {
              status: 503,
            }),
        };
      }
      return {
        type: "worker",
        worker: workerName,
        ...(typeof b.entrypoint === "string" ? { exportName: b.entrypoint } : {}),
      };
    }
    default:
      return undefined;
  }
}

/**
 * The internal D1 worker. `POST /batch { binding, statements }` runs the statements as one D1 batch
 * (one transaction) inside workerd: an import of 100,000 rows is one request, not 100,000 proxied
 * `prepare` calls from Node.
 */
const D1_ADMIN_SOURCE = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/batch") return new Response("lego d1 admin");
    const { binding, statements } = await request.json();
    const d1 = env[binding];
    if (!d1) return Response.json({ ok: false, error: "unknown binding " + binding }, { status: 404 });
    try {
      const results = statements.length ? await d1.batch(statements.map((s) => d1.prepare(s))) : [];
      let rowsRead = 0;
      let rowsWritten = 0;
      for (const r of results) {
        rowsRead += Number(r.meta?.rows_read ?? 0);
        rowsWritten += Number(r.meta?.rows_written ?? 0);
      }
      const last = results.at(-1)?.meta ?? {};
      return Response.json({ ok: true, count: results.length, rowsRead, rowsWritten, lastRowId: Number(last.last_row_id ?? 0), sizeAfter: Number(last.size_after ?? 0) });
    } catch (error) {
      return Response.json({ ok: false, error: String(error?.message ?? error) });
    }
  },
};`;

/** What {@link Runtime.batch} reports. */
export interface D1BatchSummary {
  count: number;
  rowsRead: number;
  rowsWritten: number;
  lastRowId: number;
  sizeAfter: number;
}

/** The binding under which the admin worker sees KV namespace `id`. */
export function kvAdminBinding(id: string): string {
  return `KV_${id.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** The binding under which the admin worker sees R2 bucket `name`. */
export function r2AdminBinding(name: string): string {
  return `R2_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** A queue consumer as Miniflare's `triggers` entry takes it. */
export interface QueueTrigger {
  name: string;
  maxBatchSize?: number;
  maxBatchTimeout?: number;
  maxRetries?: number;
  retryDelay?: number;
  deadLetterQueue?: string;
}

/** The queue consumers of `script`, from the queues' consumer records. */
function queueTriggers(state: CloudState, script: string): QueueTrigger[] {
  const out: QueueTrigger[] = [];
  for (const q of state.queues ?? []) {
    for (const c of q.consumers) {
      if (c.script_name !== script) continue;
      out.push({
        name: q.queue_name,
        ...(c.settings.batch_size !== undefined ? { maxBatchSize: c.settings.batch_size } : {}),
        ...(c.settings.max_wait_time_ms !== undefined
          ? { maxBatchTimeout: c.settings.max_wait_time_ms / 1000 }
          : {}),
        ...(c.settings.max_retries !== undefined ? { maxRetries: c.settings.max_retries } : {}),
        ...(c.settings.retry_delay !== undefined ? { retryDelay: c.settings.retry_delay } : {}),
        ...(c.dead_letter_queue ? { deadLetterQueue: c.dead_letter_queue } : {}),
      });
    }
  }
  return out;
}

/** The name of the internal tail consumer of `script`. */
function tailWorkerName(script: string): string {
  return `lego-internal-tail--${script}`;
}
const TAIL_SOURCE = `export default {
  async tail(events, env) {
    await env.SINK.fetch("http://tail/", { method: "POST", body: JSON.stringify(events) });
  },
};`;

/** One event a tail consumer receives (the fields `wrangler tail` prints). */
export interface TailEvent {
  scriptName?: string | null;
  outcome?: string;
  eventTimestamp?: number | null;
  event?: unknown;
  logs?: Array<{ message: unknown[]; level: string; timestamp: number }>;
  exceptions?: Array<{ name: string; message: string; timestamp: number }>;
  [key: string]: unknown;
}

function adminWorker(state: CloudState): WorkerEntry {
  const env: Record<string, EnvBinding> = {};
  for (const db of state.d1) env[d1AdminBinding(db.uuid)] = { type: "d1", id: db.uuid };
  for (const ns of state.kv ?? []) env[kvAdminBinding(ns.id)] = { type: "kv", id: ns.id };
  for (const b of state.r2 ?? []) env[r2AdminBinding(b.name)] = { type: "r2", name: b.name };
  return {
    config: {
      name: D1_ADMIN_WORKER,
      compatibilityDate: "2025-09-01",
      manifest: {
        mainModule: "index.js",
        modules: {
          "index.js": {
            type: "esm",
            contents: D1_ADMIN_SOURCE,
          },
        },
      },
      env,
    },
  };
}

function startupMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").trim().slice(0, 2000);
}

/** The slice of the D1 binding API the emulator uses. */
export interface D1Database {
  prepare(sql: string): D1PreparedStatement;
  batch(statements: D1PreparedStatement[]): Promise<D1Result[]>;
  exec(sql: string): Promise<unknown>;
}
/** A prepared D1 statement. */
export interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  all(): Promise<D1Result>;
  run(): Promise<D1Result>;
  raw(options?: { columnNames?: boolean }): Promise<unknown[][]>;
}
/** A D1 result. */
export interface D1Result {
  results: Record<string, unknown>[];
  success: boolean;
  meta: Record<string, unknown>;
}
