import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createScriptedPrompter, localCloudInfoPath } from "@lego/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defineCommand } from "../src/framework/define.ts";
import { oneJson, run } from "./helpers.ts";

let legoHome: string;
beforeEach(async () => {
  legoHome = await mkdtemp(join(tmpdir(), "lego-target-"));
});
afterEach(() => rm(legoHome, { recursive: true, force: true }));

// Returns the resolved target minus its token, and echoes the token into a note (which the
// redactor must catch).
const whereCommand = defineCommand({
  meta: { name: "where", description: "Resolve the target" },
  async run(ctx) {
    const target = await ctx.target();
    ctx.ui.info(`token is ${target.token}`);
    return { kind: target.kind, apiBaseUrl: target.apiBaseUrl, tokenSource: target.tokenSource };
  },
});
const storeCommand = defineCommand({
  meta: { name: "store", description: "Store a token in the vault, then resolve the target" },
  async run(ctx) {
    await (await ctx.vault()).setToken("vault-token-0123456789");
    const target = await ctx.target();
    return { kind: target.kind, tokenSource: target.tokenSource };
  },
});

describe("ctx.target()", () => {
  it("CLOUDFLARE_API_TOKEN selects Cloudflare, says so in one line, and the token is redacted", async () => {
    const r = await run(["where", "--json"], {
      commands: [whereCommand],
      env: { LEGO_HOME: legoHome, CLOUDFLARE_API_TOKEN: "cf-secret-token-42" },
    });
    expect(r.exitCode).toBe(0);
    expect(oneJson(r.stdout).data).toEqual({
      kind: "cloudflare",
      apiBaseUrl: "https://api.cloudflare.com/client/v4",
      tokenSource: "env",
    });
    expect(r.stderr).toMatch(/^target: Cloudflare API at https:\/\/api\.cloudflare\.com\/client\/v4/m);
    expect(r.stderr).toContain("token is ***");
    expect(r.stdout + r.stderr).not.toContain("cf-secret-token-42");
  });

  it("without a token, a running local cloud (live pid in server.json) is the target", async () => {
    const path = localCloudInfoPath(legoHome);
    await mkdir(join(legoHome, "local"), { recursive: true });
    await writeFile(
      path,
      JSON.stringify({
        pid: process.pid,
        port: 45678,
        apiBaseUrl: "http://127.0.0.1:45678/client/v4",
        token: "local-token-abcdef",
        accountId: "0123456789abcdef0123456789abcdef",
        accountSubdomain: "lego-local",
        workersUrlPattern: "http://{host}.localhost:45678",
        stateDir: join(legoHome, "local"),
        startedAt: new Date().toISOString(),
        version: "0.0.0",
      }),
    );
    const r = await run(["where"], { commands: [whereCommand], env: { LEGO_HOME: legoHome } });
    expect(r.exitCode).toBe(0);
    expect(r.data).toEqual({
      kind: "local",
      apiBaseUrl: "http://127.0.0.1:45678/client/v4",
      tokenSource: "local",
    });
    expect(r.stderr).toContain(
      "target: local cloud at http://127.0.0.1:45678 (no Cloudflare token configured)",
    );
    expect(r.stdout + r.stderr).not.toContain("local-token-abcdef");
  });

  it("LEGO_TARGET=cloudflare without any token is exit 3", async () => {
    const r = await run(["where", "--json"], {
      commands: [whereCommand],
      env: { LEGO_HOME: legoHome, LEGO_TARGET: "cloudflare" },
    });
    expect(r.exitCode).toBe(3);
    expect(oneJson(r.stdout).error.code).toBe("ERR_CF_TOKEN_MISSING");
  });

  it("LEGO_TARGET=cloudflare without a token, on a terminal: offers to store one, then uses it", async () => {
    const prompter = createScriptedPrompter([true, "offered-token-0123456789abcdef"]);
    const r = await run(["where"], {
      commands: [whereCommand],
      env: { LEGO_HOME: legoHome, LEGO_TARGET: "cloudflare", LEGO_VAULT_PASSPHRASE: "correct horse battery" },
      isTTY: true,
      prompter,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(prompter.asked[0]).toContain("No Cloudflare API token is configured");
    expect(r.data).toEqual({
      kind: "cloudflare",
      apiBaseUrl: "https://api.cloudflare.com/client/v4",
      tokenSource: "vault",
    });
    expect(r.stdout + r.stderr).not.toContain("offered-token-0123456789abcdef");
    // Declined: the original error stands.
    const declined = await run(["where"], {
      commands: [whereCommand],
      env: { LEGO_HOME: join(legoHome, "declined"), LEGO_TARGET: "cloudflare" },
      isTTY: true,
      prompter: createScriptedPrompter([false]),
    });
    expect(declined.exitCode).toBe(3);
    expect(declined.error?.code).toBe("ERR_CF_TOKEN_MISSING");
  });

  it("a token stored in the vault (passphrase from LEGO_VAULT_PASSPHRASE) selects Cloudflare", async () => {
    const r = await run(["store"], {
      commands: [storeCommand],
      env: { LEGO_HOME: legoHome, LEGO_VAULT_PASSPHRASE: "correct horse battery" },
    });
    expect(r.exitCode).toBe(0);
    expect(r.data).toEqual({ kind: "cloudflare", tokenSource: "vault" });
    expect(r.stdout + r.stderr).not.toContain("vault-token-0123456789");
  });

  it("without the passphrase and without a terminal, the vault is exit 2 naming the variable", async () => {
    const r = await run(["store"], { commands: [storeCommand], env: { LEGO_HOME: legoHome } });
    expect(r.exitCode).toBe(2);
    expect(r.error?.hint).toContain("LEGO_VAULT_PASSPHRASE");
  });

  it("on a terminal a new vault asks twice and refuses two different passphrases", async () => {
    const prompter = createScriptedPrompter(["first passphrase", "second passphrase"]);
    const r = await run(["store"], {
      commands: [storeCommand],
      env: { LEGO_HOME: legoHome },
      isTTY: true,
      prompter,
    });
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_PASSPHRASE_MISMATCH");
    expect(prompter.asked).toHaveLength(2);
  });
});
