import type { LegoEnv, LocalCloudInfo } from "@lego/core";
import {
  AuthError,
  ExitCode,
  LegoError,
  localCloudInfoPath,
  localCloudInfoSchema,
  readJsonFile,
} from "@lego/core";
import { DEFAULT_API_BASE_URL } from "./client.ts";

/**
 * Where a run acts: an API base URL, a token and (when known) an account. That is all: nothing in
 * Lego branches on `kind`; it is there for the one-line description and for reports.
 */
export interface Target {
  kind: "cloudflare" | "local";
  /** Base of the v4 API, e.g. `https://api.cloudflare.com/client/v4` or `http://127.0.0.1:8787/client/v4`. */
  apiBaseUrl: string;
  /** Bearer token. Never print it. */
  token: string;
  accountId?: string | undefined;
  /** Why this target was chosen, e.g. "no Cloudflare token configured". */
  reason: string;
  /** One line for humans: "target: local cloud at http://127.0.0.1:8787 (no Cloudflare token configured)". */
  description: string;
  /** How a deployed hostname is reached: replace `{host}` (`https://{host}` on Cloudflare). */
  workersUrlPattern: string;
  /** Where the token came from. */
  tokenSource: "env" | "vault" | "local";
}

/** The token vault port; `@lego/secrets` provides the real one. */
export interface TokenVault {
  /** The stored Cloudflare API token, or `undefined` when none is stored. */
  getToken(): Promise<string | undefined>;
}

/** Options of {@link resolveTarget}. */
export interface ResolveTargetOptions {
  /** The parsed environment (`readEnv(process.env)`, done by the app). */
  env: LegoEnv;
  /** The user state folder (`resolveLegoHome(env)`). */
  legoHome: string;
  /** Consulted when CLOUDFLARE_API_TOKEN is not set. */
  vault?: TokenVault | undefined;
  /**
   * Starts the local cloud when the target is `local` and it is not running; the CLI passes the
   * emulator's `ensureLocalCloud` (this package must not depend on `@lego/emulator`).
   */
  ensureLocal?: (() => Promise<LocalCloudInfo>) | undefined;
  /** Whether a pid is alive; default `process.kill(pid, 0)`. Injected in tests. */
  isProcessAlive?: ((pid: number) => boolean) | undefined;
}

function defaultIsProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

async function readLocalInfo(options: ResolveTargetOptions): Promise<LocalCloudInfo | undefined> {
  const path = localCloudInfoPath(options.legoHome);
  const raw = await readJsonFile(path);
  if (raw === undefined) return undefined;
  const parsed = localCloudInfoSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LegoError({
      code: "ERR_TARGET_LOCAL_INVALID",
      message: `${path} is not a valid local cloud record${issue ? `: ${issue.path.join(".") || "(root)"} ${issue.message}` : ""}`,
      hint: "Run `lego local down` and `lego local up` to rewrite it (or delete the file).",
      exitCode: ExitCode.Usage,
      details: { path },
    });
  }
  const alive = (options.isProcessAlive ?? defaultIsProcessAlive)(parsed.data.pid);
  return alive ? parsed.data : undefined;
}

function localTarget(info: LocalCloudInfo, reason: string): Target {
  return {
    kind: "local",
    apiBaseUrl: info.apiBaseUrl.replace(/\/+$/, ""),
    token: info.token,
    accountId: info.accountId,
    reason,
    description: `target: local cloud at ${origin(info.apiBaseUrl)} (${reason})`,
    workersUrlPattern: info.workersUrlPattern,
    tokenSource: "local",
  };
}

function cloudflareTarget(env: LegoEnv, token: string, tokenSource: "env" | "vault", reason: string): Target {
  const apiBaseUrl = (env.CLOUDFLARE_API_BASE_URL ?? DEFAULT_API_BASE_URL).replace(/\/+$/, "");
  const account = env.CLOUDFLARE_ACCOUNT_ID ? `, account ${env.CLOUDFLARE_ACCOUNT_ID}` : "";
  return {
    kind: "cloudflare",
    apiBaseUrl,
    token,
    accountId: env.CLOUDFLARE_ACCOUNT_ID,
    reason,
    description: `target: Cloudflare API at ${apiBaseUrl} (${reason}${account})`,
    workersUrlPattern: "https://{host}",
    tokenSource,
  };
}

/**
 * Decides where a run acts, and with which credentials:
 * 1. `LEGO_TARGET` forces `local` or `cloudflare`;
 * 2. `CLOUDFLARE_API_TOKEN` selects `cloudflare`;
 * 3. else a token in the vault selects `cloudflare`;
 * 4. else `local`: the running local cloud's `$LEGO_HOME/local/server.json` (started through
 *    `ensureLocal` when it is not running).
 * The result is only a base URL, a token and an account id, plus a one-line description to print.
 *
 * @example
 * const target = await resolveTarget({ env: readEnv(process.env), legoHome, vault, ensureLocal: ensureLocalCloud });
 * logger.info(target.description); // target: local cloud at http://127.0.0.1:8787 (no Cloudflare token configured)
 */
export async function resolveTarget(options: ResolveTargetOptions): Promise<Target> {
  const { env } = options;
  const forced = env.LEGO_TARGET;
  if (forced !== "local") {
    if (env.CLOUDFLARE_API_TOKEN) {
      const reason = forced
        ? "LEGO_TARGET=cloudflare, token from CLOUDFLARE_API_TOKEN"
        : "token from CLOUDFLARE_API_TOKEN";
      return cloudflareTarget(env, env.CLOUDFLARE_API_TOKEN, "env", reason);
    }
    const fromVault = options.vault ? await options.vault.getToken() : undefined;
    if (fromVault) {
      const reason = forced
        ? "LEGO_TARGET=cloudflare, token from the Lego vault"
        : "token from the Lego vault";
      return cloudflareTarget(env, fromVault, "vault", reason);
    }
    if (forced === "cloudflare")
      throw new AuthError({
        code: "ERR_CF_TOKEN_MISSING",
        message: "LEGO_TARGET=cloudflare but no Cloudflare API token is configured",
        hint: "Set CLOUDFLARE_API_TOKEN, or store a token in the Lego vault; or unset LEGO_TARGET to use the local cloud.",
      });
  }
  const reason = forced === "local" ? "LEGO_TARGET=local" : "no Cloudflare token configured";
  const running = await readLocalInfo(options);
  if (running) return localTarget(running, reason);
  if (options.ensureLocal) {
    const started = localCloudInfoSchema.safeParse(await options.ensureLocal());
    if (!started.success)
      throw new LegoError({
        code: "ERR_TARGET_LOCAL_INVALID",
        message: "The local cloud started but described itself with an invalid record",
        kind: "system",
        exitCode: ExitCode.Failure,
      });
    return localTarget(started.data, reason);
  }
  throw new LegoError({
    code: "ERR_TARGET_LOCAL_UNAVAILABLE",
    message: `The target is the local cloud (${reason}), but it is not running (no live ${localCloudInfoPath(options.legoHome)})`,
    hint: "Start it with `lego local up`, or set CLOUDFLARE_API_TOKEN to act on Cloudflare.",
    kind: "user",
    exitCode: ExitCode.Failure,
    details: { legoHome: options.legoHome },
  });
}
