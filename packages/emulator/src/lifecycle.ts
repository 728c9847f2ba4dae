import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  acquireLock,
  ExitCode,
  isLegoError,
  type LocalCloudInfo,
  localCloudDir,
  localCloudInfoPath,
  localCloudInfoSchema,
  readJsonFile,
  writeFileAtomic,
} from "@lego/core";
import { emulatorError } from "./errors.ts";
import { FAULT_KINDS, type FaultRule } from "./faults.ts";
import type { ZoneSeed } from "./state/store.ts";

export type { ZoneSeed } from "./state/store.ts";

/** Options of {@link localCloudUp}. */
export interface LocalCloudUpOptions {
  /** The user state folder ($LEGO_HOME). The cloud lives in `<legoHome>/local/`. */
  legoHome: string;
  /** Port to listen on; 0 or undefined picks a free one. */
  port?: number;
  /** Interface; default 127.0.0.1. */
  host?: string;
  /** Zones the account owns (names, or `{ name, id, accountId }` to adopt); added to a running cloud too. */
  zones?: ReadonlyArray<string | ZoneSeed>;
  /** Account ids a portfolio names, served besides the local one; added to a running cloud too. */
  accounts?: readonly string[];
  /** D1 databases that must exist (configs with a fixed `database_id`). */
  d1Databases?: ReadonlyArray<{ uuid: string; name: string }>;
  /** How long to wait for the background process to answer. Default 30 s. */
  timeoutMs?: number;
  /**
   * Fault rules for the API (see `startLocalCloud`). Applied only when this call starts the cloud; a
   * running one keeps its rules. RegExp routes survive the trip to the background process.
   */
  faults?: readonly FaultRule[];
  /** Seed of the fault PRNG, for repeatable runs. Applied only when this call starts the cloud. */
  seed?: number;
}

/** What {@link localCloudStatus} finds. */
export interface LocalCloudStatus {
  running: boolean;
  /** The recorded server.json when the cloud answers its health check. */
  info?: LocalCloudInfo;
  /** Why it is not running, when a server.json was found but nothing answers. */
  reason?: string;
}

/** Sent to the daemon over IPC. */
export interface DaemonConfig {
  legoHome: string;
  stateDir: string;
  port?: number | undefined;
  host?: string | undefined;
  zones?: ReadonlyArray<string | ZoneSeed> | undefined;
  accounts?: readonly string[] | undefined;
  d1Databases?: ReadonlyArray<{ uuid: string; name: string }> | undefined;
  faults?: readonly FaultRule[] | undefined;
  seed?: number | undefined;
  token: string;
}

/** Sent back by the daemon. */
export type DaemonReply =
  | { ok: true; info: LocalCloudInfo }
  | { ok: false; error: { code: string; message: string; hint?: string | undefined } };

/** The local cloud's state folder under `legoHome`. */
export function localCloudStateDir(legoHome: string): string {
  return join(localCloudDir(legoHome), "state");
}

function tokenPath(legoHome: string): string {
  return join(localCloudDir(legoHome), "token");
}

const TOKEN = /^[A-Za-z0-9._-]{16,256}$/;

/**
 * The API token of the local cloud of `legoHome`: the one kept in `<legoHome>/local/token` (mode 0600),
 * else a new one written there. Kept across down/up so a token exported from `lego local status` keeps
 * working; `localCloudReset` deletes it. Called under the up lock.
 */
async function persistentToken(legoHome: string): Promise<string> {
  const path = tokenPath(legoHome);
  const kept = await readFile(path, "utf8").then(
    (text) => text.trim(),
    () => "",
  );
  if (TOKEN.test(kept)) return kept;
  const token = `lego-local-${randomBytes(24).toString("hex")}`;
  await writeFileAtomic(path, `${token}\n`, { mode: 0o600 });
  return token;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function healthy(info: LocalCloudInfo, timeoutMs = 2000): Promise<boolean> {
  try {
    const origin = info.apiBaseUrl.replace(/\/client\/v4\/?$/, "");
    const res = await fetch(`${origin}/__lego/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return false;
    const body = (await res.json()) as { service?: string; pid?: number };
    return body.service === "lego-local-cloud" && body.pid === info.pid;
  } catch {
    return false;
  }
}

async function readInfo(legoHome: string): Promise<LocalCloudInfo | undefined> {
  const raw = await readJsonFile(localCloudInfoPath(legoHome)).catch(() => undefined);
  if (raw === undefined) return undefined;
  const parsed = localCloudInfoSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Whether the background local cloud of `legoHome` runs: its server.json exists, its pid is alive and
 * it answers the health check with that pid.
 */
export async function localCloudStatus(options: { legoHome: string }): Promise<LocalCloudStatus> {
  const info = await readInfo(options.legoHome);
  if (!info) return { running: false };
  if (!isAlive(info.pid)) return { running: false, reason: `process ${info.pid} is gone` };
  if (!(await healthy(info)))
    return { running: false, reason: `process ${info.pid} does not answer on port ${info.port}` };
  return { running: true, info };
}

function daemonEntry(): { file: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    return {
      file: fileURLToPath(new URL("./daemon.ts", here)),
      execArgv: ["--conditions=@lego/source", "--disable-warning=ExperimentalWarning"],
    };
  }
  // Next to this file in the package's own dist; bundled into an app (the lego CLI bundles this
  // module), found through the package's `./daemon` export from where the app is installed.
  const sibling = fileURLToPath(new URL("./daemon.js", here));
  if (existsSync(sibling)) return { file: sibling, execArgv: [] };
  return { file: fileURLToPath(import.meta.resolve("@lego/emulator/daemon")), execArgv: [] };
}

/**
 * Adopts zones (and accounts) into a running local cloud in one request, without the start-up lock and
 * health check of {@link localCloudUp}: for a caller that has just found the cloud running, e.g. the CLI
 * seeding a portfolio's zones before a deploy. A zone given as `{ name, id }` takes that id, so routes
 * and configs that name a real zone id find it; `accounts` are served besides the local one; `d1` names
 * the databases configs give a fixed `database_id` (so they carry their `database_name`).
 * Idempotent.
 */
export async function addLocalCloudZones(
  info: Pick<LocalCloudInfo, "apiBaseUrl" | "token" | "accountId">,
  zones: ReadonlyArray<string | ZoneSeed>,
  accounts: readonly string[] = [],
  d1: ReadonlyArray<{ uuid: string; name: string }> = [],
): Promise<void> {
  if (zones.length === 0 && accounts.length === 0 && d1.length === 0) return;
  const origin = info.apiBaseUrl.replace(/\/client\/v4\/?$/, "");
  const res = await fetch(`${origin}/__lego/adopt`, {
    method: "POST",
    headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
    body: JSON.stringify({ zones, accounts, d1 }),
  });
  if (!res.ok) {
    throw emulatorError("ERR_LOCAL_CLOUD_OPTIONS", `The local cloud refused the zones (HTTP ${res.status})`, {
      hint: "Check the zone names and account ids in the domain configs.",
    });
  }
}

/** The slice of a scanned portfolio {@link portfolioAdoption} reads (`@lego/discovery`'s `Portfolio`). */
export interface AdoptablePortfolio {
  services: ReadonlyArray<{
    accountId?: string | undefined;
    zoneId?: string | undefined;
    environments: Record<
      string,
      {
        hostname?: string | undefined;
        hostnames: readonly string[];
        accountId?: string | undefined;
        d1Databases?: ReadonlyArray<{ databaseName: string; databaseId?: string | undefined }> | undefined;
      }
    >;
  }>;
}

/**
 * The accounts and zone ids a portfolio's domain configs name (the seed's layout asks for `accountId`
 * and `zoneId`), for {@link addLocalCloudZones}: the zone of a service's hostnames (their last two
 * labels) takes its `zoneId`. Pure.
 *
 * @example
 * const { accounts, zones } = portfolioAdoption(portfolio);
 * await addLocalCloudZones(info, [...portfolioZones(portfolio), ...zones], accounts);
 */
export function portfolioAdoption(portfolio: AdoptablePortfolio): {
  accounts: string[];
  zones: ZoneSeed[];
  d1: Array<{ uuid: string; name: string }>;
} {
  const accounts = new Set<string>();
  const d1 = new Map<string, string>();
  const zones = new Map<string, ZoneSeed>();
  const zoneOf = (host: string) => host.toLowerCase().split(".").filter(Boolean).slice(-2).join(".");
  for (const service of portfolio.services) {
    if (service.accountId) accounts.add(service.accountId.toLowerCase());
    for (const env of Object.values(service.environments)) {
      if (env.accountId) accounts.add(env.accountId.toLowerCase());
      for (const db of env.d1Databases ?? []) if (db.databaseId) d1.set(db.databaseId, db.databaseName);
      if (!service.zoneId) continue;
      const host = env.hostname ?? env.hostnames[0];
      if (!host?.includes(".")) continue;
      const name = zoneOf(host);
      if (!zones.has(name)) {
        const accountId = service.accountId ?? env.accountId;
        zones.set(name, { name, id: service.zoneId.toLowerCase(), ...(accountId ? { accountId } : {}) });
      }
    }
  }
  return {
    accounts: [...accounts].filter((a) => /^[0-9a-f]{32}$/.test(a)).sort(),
    zones: [...zones.values()].filter((z) => /^[0-9a-f]{32}$/.test(z.id ?? "")),
    d1: [...d1].map(([uuid, name]) => ({ uuid, name })),
  };
}

/**
 * Reads fault rules from a JSON file for `lego local up --faults <file>`: an array of
 * `{ route, kind, probability?, retryAfter?, latencyMs?, status?, times? }` (or `{ "faults": [...] }`). `route` is
 * a glob on `"METHOD /path"` or the path; written as `/…/` it is a regular expression. Throws
 * `ERR_LOCAL_CLOUD_OPTIONS` (exit 2) naming the file and the rule that is wrong.
 */
export async function readFaultFile(path: string): Promise<FaultRule[]> {
  const fail = (message: string) =>
    emulatorError("ERR_LOCAL_CLOUD_OPTIONS", `${path}: ${message}`, {
      exitCode: ExitCode.Usage,
      hint: 'Write a JSON array such as [{ "route": "PUT *secrets", "kind": "5xx", "probability": 0.2 }]; kinds: 429, 5xx, latency, drop, lost.',
    });
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw fail(`cannot read the fault rules (${(error as Error).message})`);
  }
  const list = Array.isArray(raw) ? raw : (raw as { faults?: unknown } | null)?.faults;
  if (!Array.isArray(list)) throw fail("expected an array of fault rules");
  return list.map((r: Record<string, unknown>, i) => {
    if (typeof r !== "object" || r === null) throw fail(`rule ${i} is not an object`);
    if (typeof r.route !== "string" || r.route === "") throw fail(`rule ${i}: \`route\` must be a string`);
    if (!(FAULT_KINDS as readonly unknown[]).includes(r.kind)) {
      throw fail(`rule ${i}: \`kind\` must be one of ${FAULT_KINDS.join(", ")}`);
    }
    for (const k of ["probability", "retryAfter", "latencyMs", "status", "times"] as const) {
      if (
        r[k] !== undefined &&
        (typeof r[k] !== "number" || !Number.isFinite(r[k]) || (r[k] as number) < 0)
      ) {
        throw fail(`rule ${i}: \`${k}\` must be a non-negative number`);
      }
    }
    if (typeof r.probability === "number" && r.probability > 1)
      throw fail(`rule ${i}: \`probability\` is at most 1`);
    const route = /^\/.+\/$/.test(r.route) ? new RegExp(r.route.slice(1, -1)) : r.route;
    return { ...(r as unknown as FaultRule), route };
  });
}

/**
 * Fires a deployed Worker's `scheduled` handler now on the running local cloud (`lego local trigger`),
 * with `cron` (default: the Worker's first cron trigger). Returns workerd's outcome (`ok`, `exception`).
 */
export async function triggerLocalCloudCron(
  options: { legoHome: string },
  script: string,
  cron?: string,
): Promise<{ script: string; cron: string; outcome: string }> {
  const status = await localCloudStatus(options);
  const info = status.info;
  if (!status.running || !info) {
    throw emulatorError("ERR_LOCAL_CLOUD_TRIGGER", "The local cloud is not running", {
      exitCode: ExitCode.Usage,
      hint: "Start it with `lego local up`, then deploy the Worker.",
    });
  }
  const origin = info.apiBaseUrl.replace(/\/client\/v4\/?$/, "");
  const query = cron ? `?cron=${encodeURIComponent(cron)}` : "";
  const res = await fetch(`${origin}/__lego/scripts/${encodeURIComponent(script)}/scheduled${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${info.token}` },
  });
  const body = (await res.json()) as {
    result?: { script: string; cron: string; outcome: string };
    errors?: Array<{ message: string }>;
  };
  if (!res.ok || !body.result) {
    const message = body.errors?.[0]?.message ?? `HTTP ${res.status}`;
    throw emulatorError("ERR_LOCAL_CLOUD_TRIGGER", `Could not fire ${script}'s cron trigger: ${message}`, {
      exitCode: res.status === 404 || res.status === 400 ? ExitCode.Usage : ExitCode.Failure,
      hint:
        res.status === 404
          ? "Deploy the Worker to the local cloud first (lego deploy), or check the name (lego local status)."
          : res.status === 400
            ? 'Pass a five-field cron expression, e.g. --cron "*/5 * * * *".'
            : "See $LEGO_HOME/local/server.log.",
    });
  }
  return body.result;
}

/**
 * Starts the local cloud in the background (a detached process running `dist/daemon.js`), waits until
 * it answers, and returns what it wrote to `$LEGO_HOME/local/server.json`. When one already runs, it is
 * returned as is (`started: false`), with any new `zones` added.
 */
export async function localCloudUp(
  options: LocalCloudUpOptions,
): Promise<{ started: boolean; info: LocalCloudInfo }> {
  const dir = localCloudDir(options.legoHome);
  await mkdir(dir, { recursive: true });
  const lock = await takeLock(join(dir, "up.lock"), options.timeoutMs ?? 30_000);
  try {
    const status = await localCloudStatus(options);
    if (status.running && status.info) {
      if (options.zones?.length || options.accounts?.length || options.d1Databases?.length)
        await addLocalCloudZones(
          status.info,
          options.zones ?? [],
          options.accounts ?? [],
          options.d1Databases ?? [],
        );
      return { started: false, info: status.info };
    }
    const stateDir = localCloudStateDir(options.legoHome);
    await mkdir(stateDir, { recursive: true });
    const log = await open(join(dir, "server.log"), "a", 0o600);
    const { file, execArgv } = daemonEntry();
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...execArgv, file], {
        detached: true,
        stdio: ["ignore", log.fd, log.fd, "ipc"],
        // Structured clone, not JSON: fault rules may carry RegExp routes.
        serialization: "advanced",
        cwd: stateDir,
      });
    } finally {
      await log.close();
    }
    const config: DaemonConfig = {
      legoHome: options.legoHome,
      stateDir,
      port: options.port,
      host: options.host,
      zones: options.zones,
      accounts: options.accounts,
      d1Databases: options.d1Databases,
      faults: options.faults,
      seed: options.seed,
      token: await persistentToken(options.legoHome),
    };
    const reply = await new Promise<DaemonReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // SIGTERM first: the daemon's Miniflare kills its workerd on it; SIGKILL would orphan workerd.
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
        reject(
          emulatorError(
            "ERR_LOCAL_CLOUD_START",
            `The local cloud did not start within ${options.timeoutMs ?? 30_000} ms`,
            {
              hint: `See ${join(dir, "server.log")}.`,
            },
          ),
        );
      }, options.timeoutMs ?? 30_000);
      child.once("message", (m) => {
        clearTimeout(timer);
        resolve(m as DaemonReply);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(
          emulatorError("ERR_LOCAL_CLOUD_START", `The local cloud exited during start-up (code ${code})`, {
            hint: `See ${join(dir, "server.log")}.`,
          }),
        );
      });
      child.send(config);
    });
    child.removeAllListeners("exit");
    if (child.connected) child.disconnect();
    child.unref();
    if (!reply.ok) {
      throw emulatorError("ERR_LOCAL_CLOUD_START", reply.error.message, {
        hint: reply.error.hint ?? `See ${join(dir, "server.log")}.`,
        details: { cause: reply.error.code },
      });
    }
    return { started: true, info: reply.info };
  } finally {
    await lock.release();
  }
}

async function takeLock(path: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await acquireLock(path, { command: "lego local up", breakStale: true });
    } catch (error) {
      if (!isLegoError(error) || error.code !== "ERR_LOCK_HELD" || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts the local cloud unless it runs; returns its info. For commands that target `local`. */
export async function ensureLocalCloud(options: LocalCloudUpOptions): Promise<LocalCloudInfo> {
  const status = await localCloudStatus(options);
  if (status.running && status.info) return status.info;
  return (await localCloudUp(options)).info;
}

/**
 * Stops the background local cloud (SIGTERM, then SIGKILL after `timeoutMs`, default 15 s) and removes
 * server.json.
 * A server.json whose process is gone, or is not the local cloud, is just removed.
 */
export async function localCloudDown(options: {
  legoHome: string;
  timeoutMs?: number;
}): Promise<{ stopped: boolean }> {
  const info = await readInfo(options.legoHome);
  const infoPath = localCloudInfoPath(options.legoHome);
  if (!info) {
    await rm(infoPath, { force: true });
    return { stopped: false };
  }
  if (!isAlive(info.pid) || !(await healthy(info))) {
    await rm(infoPath, { force: true });
    return { stopped: false };
  }
  process.kill(info.pid, "SIGTERM");
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (isAlive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(info.pid)) {
    try {
      process.kill(info.pid, "SIGKILL");
    } catch {
      // Gone between the check and the kill.
    }
  }
  await rm(infoPath, { force: true });
  return { stopped: true };
}

/**
 * Stops the local cloud and deletes its state (scripts, versions, secrets, D1 data) and its token: the
 * next up has a new one.
 */
export async function localCloudReset(options: { legoHome: string }): Promise<{ stopped: boolean }> {
  const { stopped } = await localCloudDown(options);
  for (const path of [localCloudStateDir(options.legoHome), tokenPath(options.legoHome)]) {
    try {
      await rm(path, { recursive: true, force: true });
    } catch (error) {
      throw emulatorError("ERR_LOCAL_CLOUD_STATE", `Cannot delete ${path}: ${(error as Error).message}`, {
        exitCode: ExitCode.Failure,
        cause: error,
      });
    }
  }
  return { stopped };
}
