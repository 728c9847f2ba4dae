import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCloudflareClient } from "@lego/cloudflare";
import { createNonInteractivePrompter, createScriptedPrompter } from "@lego/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createPassphraseProvider,
  createVault,
  describeToken,
  normalizeToken,
  offerToStoreToken,
} from "../src/index.ts";
import { FAKE_ACCOUNT, FAKE_TOKEN, type FakeApi, startFakeApi } from "./support/fake-api.ts";

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "lego-token-"));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const fastVault = (passphrase = "a long passphrase") =>
  createVault({ legoHome: home, kdf: { N: 1024, r: 8, p: 1 }, passphrase: async () => passphrase });

describe("token input", () => {
  it("drops surrounding whitespace and refuses empty tokens or whitespace inside, never echoing them", () => {
    expect(normalizeToken("  abc-DEF_123\n")).toBe("abc-DEF_123");
    for (const bad of ["", " \n", "abc def"]) {
      let error: unknown;
      try {
        normalizeToken(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "ERR_TOKEN_INVALID", exitCode: 2 });
      if (bad.trim()) expect(String((error as Error).message)).not.toContain(bad);
    }
  });
});

describe("passphrase provider", () => {
  it("uses LEGO_VAULT_PASSPHRASE without asking; otherwise asks (twice to create) through the prompter", async () => {
    const prompter = createScriptedPrompter([]);
    expect(
      await createPassphraseProvider({ passphrase: "from env", prompter })({ path: "v", creating: true }),
    ).toBe("from env");
    expect(prompter.asked).toEqual([]);

    const typed = createScriptedPrompter(["typed once", "typed once", "unlock"]);
    const provider = createPassphraseProvider({ prompter: typed });
    expect(await provider({ path: "v", creating: true })).toBe("typed once");
    expect(await provider({ path: "v", creating: false })).toBe("unlock");
    expect(typed.asked).toHaveLength(3);

    const mismatch = createPassphraseProvider({ prompter: createScriptedPrompter(["one thing", "another"]) });
    await expect(mismatch({ path: "v", creating: true })).rejects.toMatchObject({
      code: "ERR_VAULT_PASSPHRASE_MISMATCH",
      exitCode: 2,
    });
    const headless = createPassphraseProvider({ prompter: createNonInteractivePrompter() });
    await expect(headless({ path: "v", creating: false })).rejects.toMatchObject({
      exitCode: 2,
      hint: expect.stringContaining("LEGO_VAULT_PASSPHRASE"),
    });
  });
});

describe("offerToStoreToken (the seed's automatic prompting)", () => {
  it("stores a token when accepted on a terminal; does nothing when declined or headless", async () => {
    const vault = fastVault();
    expect(await offerToStoreToken({ vault, prompter: createNonInteractivePrompter() })).toBeUndefined();
    expect(await offerToStoreToken({ vault, prompter: createScriptedPrompter([false]) })).toBeUndefined();
    expect(await vault.exists()).toBe(false);
    const yes = createScriptedPrompter([true, " pasted-token-0123 \n"]);
    expect(await offerToStoreToken({ vault, prompter: yes })).toBe("pasted-token-0123");
    expect(await fastVault().getToken()).toBe("pasted-token-0123");
  });
});

describe("describeToken", () => {
  let api: FakeApi;
  beforeEach(async () => {
    api = await startFakeApi();
  });
  afterEach(async () => {
    await api.close();
  });

  it("reports the token's status and accounts, and no permissions when it may not read its policies", async () => {
    api.route("GET", "/user/tokens/verify", { id: "tok-9", status: "active" });
    api.route("GET", "/accounts", [{ id: FAKE_ACCOUNT, name: "Fake Account" }]);
    // With the default retry policy: the fake's 501 for the token's policies must not be retried.
    const client = createCloudflareClient({ token: FAKE_TOKEN, baseURL: api.baseURL });
    const report = await describeToken({ client, source: "env" });
    expect(api.requests.filter((r) => r.path === "/user/tokens/tok-9")).toHaveLength(1);
    expect(report).toEqual({
      source: "env",
      apiBaseUrl: api.baseURL,
      token: { id: "tok-9", status: "active" },
      accounts: [{ id: FAKE_ACCOUNT, name: "Fake Account" }],
    });
    expect(JSON.stringify(report)).not.toContain(FAKE_TOKEN);

    const rejected = createCloudflareClient({
      token: "some-other-token",
      baseURL: api.baseURL,
      retry: false,
    });
    await expect(describeToken({ client: rejected, source: "vault" })).rejects.toMatchObject({ exitCode: 3 });
  });
});
