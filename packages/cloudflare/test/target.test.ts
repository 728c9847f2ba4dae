import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalCloudInfo, localCloudInfoPath, readEnv, writeJsonAtomic } from "@lego/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveTarget } from "../src/target.ts";

let legoHome: string;
beforeEach(async () => {
  legoHome = await mkdtemp(join(tmpdir(), "lego-target-"));
});
afterEach(async () => {
  await rm(legoHome, { recursive: true, force: true });
});

const info = (port: number, pid = process.pid): LocalCloudInfo => ({
  pid,
  port,
  apiBaseUrl: `http://127.0.0.1:${port}/client/v4`,
  token: "local-token-abcdef123456",
  accountId: "0123456789abcdef0123456789abcdef",
  accountSubdomain: "local",
  workersUrlPattern: `http://{host}.localhost:${port}`,
  stateDir: "/tmp/state",
  startedAt: "2026-11-25T00:00:00.000Z",
  version: "0.0.0",
});
const vault = (token: string | undefined) => ({ getToken: async () => token });
const cfToken = "cf-token-from-env-0123456789";

describe("resolveTarget", () => {
  it("selects Cloudflare when CLOUDFLARE_API_TOKEN is set, without asking the vault", async () => {
    let asked = false;
    const target = await resolveTarget({
      env: readEnv({ CLOUDFLARE_API_TOKEN: cfToken, CLOUDFLARE_ACCOUNT_ID: "a".repeat(32) }),
      legoHome,
      vault: {
        getToken: async () => {
          asked = true;
          return "vault-token";
        },
      },
    });
    expect(target).toMatchObject({
      kind: "cloudflare",
      apiBaseUrl: "https://api.cloudflare.com/client/v4",
      token: cfToken,
      accountId: "a".repeat(32),
      tokenSource: "env",
      reason: "token from CLOUDFLARE_API_TOKEN",
      workersUrlPattern: "https://{host}",
    });
    expect(asked).toBe(false);
    expect(target.description).toBe(
      `target: Cloudflare API at https://api.cloudflare.com/client/v4 (token from CLOUDFLARE_API_TOKEN, account ${"a".repeat(32)})`,
    );
    expect(target.description).not.toContain(cfToken);
  });

  it("honours CLOUDFLARE_API_BASE_URL", async () => {
    const target = await resolveTarget({
      env: readEnv({
        CLOUDFLARE_API_TOKEN: cfToken,
        CLOUDFLARE_API_BASE_URL: "http://127.0.0.1:9/client/v4/",
      }),
      legoHome,
    });
    expect(target.apiBaseUrl).toBe("http://127.0.0.1:9/client/v4");
  });

  it("falls back to the vault's token", async () => {
    const target = await resolveTarget({ env: {}, legoHome, vault: vault("vault-token-123456") });
    expect(target).toMatchObject({
      kind: "cloudflare",
      token: "vault-token-123456",
      tokenSource: "vault",
      reason: "token from the Lego vault",
    });
  });

  it("selects the running local cloud when no token is configured", async () => {
    await writeJsonAtomic(localCloudInfoPath(legoHome), info(8799));
    const target = await resolveTarget({ env: {}, legoHome, vault: vault(undefined) });
    expect(target).toMatchObject({
      kind: "local",
      apiBaseUrl: "http://127.0.0.1:8799/client/v4",
      token: "local-token-abcdef123456",
      accountId: "0123456789abcdef0123456789abcdef",
      tokenSource: "local",
      workersUrlPattern: "http://{host}.localhost:8799",
    });
    expect(target.description).toBe(
      "target: local cloud at http://127.0.0.1:8799 (no Cloudflare token configured)",
    );
  });

  it("LEGO_TARGET=local wins over a token", async () => {
    await writeJsonAtomic(localCloudInfoPath(legoHome), info(8798));
    const target = await resolveTarget({
      env: readEnv({ LEGO_TARGET: "local", CLOUDFLARE_API_TOKEN: cfToken }),
      legoHome,
    });
    expect(target).toMatchObject({ kind: "local", reason: "LEGO_TARGET=local" });
    expect(target.description).toContain("(LEGO_TARGET=local)");
  });

  it("LEGO_TARGET=cloudflare without any token is ERR_CF_TOKEN_MISSING (exit 3)", async () => {
    await writeJsonAtomic(localCloudInfoPath(legoHome), info(8797));
    await expect(
      resolveTarget({ env: readEnv({ LEGO_TARGET: "cloudflare" }), legoHome, vault: vault(undefined) }),
    ).rejects.toMatchObject({
      code: "ERR_CF_TOKEN_MISSING",
      exitCode: 3,
    });
  });

  it("starts the local cloud through ensureLocal when server.json is missing", async () => {
    let started = 0;
    const target = await resolveTarget({
      env: {},
      legoHome,
      ensureLocal: async () => {
        started++;
        return info(8796);
      },
    });
    expect(started).toBe(1);
    expect(target).toMatchObject({ kind: "local", apiBaseUrl: "http://127.0.0.1:8796/client/v4" });
  });

  it("treats a server.json with a dead pid as not running", async () => {
    await writeJsonAtomic(localCloudInfoPath(legoHome), info(8795, 999_999));
    let started = 0;
    const target = await resolveTarget({
      env: {},
      legoHome,
      isProcessAlive: () => false,
      ensureLocal: async () => {
        started++;
        return info(8794);
      },
    });
    expect(started).toBe(1);
    expect(target.apiBaseUrl).toBe("http://127.0.0.1:8794/client/v4");
  });

  it("says how to start the local cloud when it is not running and cannot be started", async () => {
    const error = await resolveTarget({ env: {}, legoHome }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_TARGET_LOCAL_UNAVAILABLE", exitCode: 1 });
    expect((error as Error & { hint: string }).hint).toContain("lego local up");
  });

  it("rejects a malformed server.json naming the file and key", async () => {
    await writeJsonAtomic(localCloudInfoPath(legoHome), { ...info(8793), port: "eighty" });
    const error = await resolveTarget({ env: {}, legoHome }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_TARGET_LOCAL_INVALID", exitCode: 2 });
    expect((error as Error).message).toContain(localCloudInfoPath(legoHome));
    expect((error as Error).message).toContain("port");
  });
});
