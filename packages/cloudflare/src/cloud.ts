import type { Clock, Logger } from "@lego/core";
import { type CloudflareClient, createCloudflareClient } from "./client.ts";
import type { Target } from "./target.ts";
import { createWranglerRunner, type WranglerRunner } from "./wrangler/runner.ts";

/** A target's API client and wrangler runner, built together so they always agree. */
export interface Cloud {
  target: Target;
  client: CloudflareClient;
  wrangler: WranglerRunner;
  /** Stops the runner (its children, temp files). */
  dispose(): Promise<void>;
}

export interface OpenCloudOptions {
  target: Target;
  /** wrangler's default working directory (the portfolio root). */
  cwd: string;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  signal?: AbortSignal | undefined;
  /** A Lego-owned folder for wrangler's state (apps pass `$LEGO_HOME/wrangler`). */
  stateDir?: string | undefined;
  /** What wrangler inherits (PATH, HOME); credentials in it are dropped by the runner. */
  baseEnv?: Record<string, string | undefined> | undefined;
  /** wrangler's JS entry; default the pinned dependency (`LEGO_WRANGLER_BIN` in the CLI). */
  wranglerBin?: string | undefined;
  /** Long-lived wrangler processes (default true; see `WranglerRunnerOptions.reuseProcesses`). */
  reuseProcesses?: boolean | undefined;
}

/**
 * The one factory of a target's client and wrangler runner: same token, same base URL, same account,
 * for the API calls Lego makes and those wrangler makes. Apps call it once per command.
 *
 * @example
 * const cloud = openCloud({ target, cwd: root, stateDir: join(legoHome, "wrangler"), baseEnv: process.env });
 * try { await cloud.wrangler.deploy({ cwd: servicePath }) } finally { await cloud.dispose() }
 */
export function openCloud(options: OpenCloudOptions): Cloud {
  const { target } = options;
  const client = createCloudflareClient({
    token: target.token,
    baseURL: target.apiBaseUrl,
    accountId: target.accountId,
    logger: options.logger,
    clock: options.clock,
    signal: options.signal,
  });
  const wrangler = createWranglerRunner({
    cwd: options.cwd,
    target,
    logger: options.logger,
    signal: options.signal,
    stateDir: options.stateDir,
    baseEnv: options.baseEnv,
    ...(options.wranglerBin ? { wranglerBin: options.wranglerBin } : {}),
    ...(options.reuseProcesses !== undefined ? { reuseProcesses: options.reuseProcesses } : {}),
  });
  return { target, client, wrangler, dispose: () => wrangler.dispose() };
}
