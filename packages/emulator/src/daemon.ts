// The background local cloud that `localCloudUp` spawns (dist/daemon.js). It receives its options over
// the IPC channel (never in argv: the token is in there), starts the cloud, writes
// $LEGO_HOME/local/server.json (mode 0600), reports back and keeps serving until SIGTERM or SIGINT.
import { readFileSync, rmSync } from "node:fs";
import type { Logger } from "@lego/core";
import { localCloudInfoPath, toLegoError } from "@lego/core";
import type { DaemonConfig, DaemonReply } from "./lifecycle.ts";
import { registerLocalCloud, startLocalCloud } from "./server.ts";

function stderrLogger(): Logger {
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`,
      );
    };
  return { debug: () => {}, info: at("info"), warn: at("warn"), error: at("error") };
}

async function main(config: DaemonConfig): Promise<void> {
  const logger = stderrLogger();
  const infoPath = localCloudInfoPath(config.legoHome);
  try {
    const cloud = await startLocalCloud({
      stateDir: config.stateDir,
      port: config.port,
      host: config.host,
      zones: config.zones,
      ...(config.accounts ? { accounts: config.accounts } : {}),
      d1Databases: config.d1Databases,
      faults: config.faults,
      seed: config.seed,
      token: config.token,
      logger,
    });
    const info = await registerLocalCloud(config.legoHome, cloud);
    // Miniflare's own SIGTERM/SIGINT hook kills workerd synchronously and exits; this exit listener then
    // removes server.json if it is still ours, however the process ends (short of SIGKILL).
    process.on("exit", () => {
      try {
        const current = JSON.parse(readFileSync(infoPath, "utf8")) as { pid?: number };
        if (current.pid === process.pid) rmSync(infoPath, { force: true });
      } catch {
        // Already gone.
      }
    });
    const stop = () => {
      logger.info("local cloud stopping");
      void cloud.close().finally(() => process.exit(0));
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    const reply: DaemonReply = { ok: true, info };
    process.send?.(reply, () => process.disconnect?.());
  } catch (error) {
    const e = toLegoError(error);
    logger.error("local cloud failed to start", { code: e.code, message: e.message });
    const reply: DaemonReply = { ok: false, error: { code: e.code, message: e.message, hint: e.hint } };
    process.send?.(reply, () => process.exit(1));
  }
}

process.once("message", (config: DaemonConfig) => {
  void main(config);
});
