import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createVault, defaultScryptParams, type ScryptParams, vaultPath } from "../src/index.ts";

// Cheap parameters for tests that open the vault many times; one test below uses the defaults.
const FAST: ScryptParams = { N: 1024, r: 8, p: 1 };
const PASS = "correct horse battery staple";
const TOKEN = "cf-test-token-0123456789abcdefABCDEF";

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "lego-vault-"));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function vaultWith(passphrase: string, asked: string[] = []) {
  return createVault({
    legoHome: home,
    kdf: FAST,
    passphrase: async ({ creating }) => {
      asked.push(creating ? "create" : "unlock");
      return passphrase;
    },
  });
}

async function rejection(
  promise: Promise<unknown>,
): Promise<{ code?: string; exitCode?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; exitCode?: number; message: string };
  }
  throw new Error("expected a rejection");
}

describe("token vault", () => {
  it("round-trips the token and persisted secrets through a fresh instance", async () => {
    await vaultWith(PASS).setToken(TOKEN);
    await vaultWith(PASS).putSecrets([
      { service: "api", env: "staging", name: "JWT_SECRET", type: "jwt", value: "s3cr3t-value-one" },
      { service: "api", env: "production", name: "JWT_SECRET", type: "jwt", value: "s3cr3t-value-two" },
    ]);
    const reopened = vaultWith(PASS);
    expect(await reopened.getToken()).toBe(TOKEN);
    const staging = await reopened.getSecrets({ service: "api", env: "staging" });
    expect(staging).toEqual([
      expect.objectContaining({ name: "JWT_SECRET", type: "jwt", value: "s3cr3t-value-one", env: "staging" }),
    ]);
    const summary = await reopened.summary();
    expect(summary).toMatchObject({
      exists: true,
      hasToken: true,
      persistedSecrets: 2,
      mode: "600",
      kdf: FAST,
    });
    expect(JSON.stringify(summary)).not.toContain(TOKEN);
  });

  it("writes mode 0600, no plaintext, a fresh nonce every write, and the kdf parameters in the header", async () => {
    const vault = vaultWith(PASS);
    await vault.setToken(TOKEN);
    const first = await readFile(vaultPath(home), "utf8");
    await vault.setToken(TOKEN);
    const second = await readFile(vaultPath(home), "utf8");
    expect((await stat(vaultPath(home))).mode & 0o777).toBe(0o600);
    for (const text of [first, second]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(Buffer.from(TOKEN).toString("base64"));
      expect(text).not.toContain(Buffer.from(TOKEN).toString("hex"));
      expect(text).not.toContain(PASS);
    }
    const a = JSON.parse(first);
    const b = JSON.parse(second);
    expect(a).toMatchObject({
      format: "lego-vault",
      version: 1,
      cipher: "aes-256-gcm",
      kdf: { name: "scrypt", ...FAST },
    });
    expect(Buffer.from(a.nonce, "base64")).toHaveLength(12);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("uses scrypt N=2^17, r=8, p=1 by default", async () => {
    const vault = createVault({ legoHome: home, passphrase: async () => PASS });
    await vault.setToken(TOKEN);
    expect(JSON.parse(await readFile(vaultPath(home), "utf8")).kdf).toMatchObject(defaultScryptParams);
    expect(defaultScryptParams).toEqual({ N: 131072, r: 8, p: 1 });
    expect(await createVault({ legoHome: home, passphrase: async () => PASS }).getToken()).toBe(TOKEN);
  });

  it("refuses a wrong passphrase with exit 3 and never returns the token", async () => {
    await vaultWith(PASS).setToken(TOKEN);
    const error = await rejection(vaultWith("not the passphrase").getToken());
    expect(error).toMatchObject({ code: "ERR_VAULT_PASSPHRASE", exitCode: 3 });
    expect(error.message).toContain(vaultPath(home));
    expect(error.message).not.toContain(TOKEN);
  });

  it("detects any single flipped byte (exit 3), whichever byte it is", async () => {
    await vaultWith(PASS).setToken(TOKEN);
    const original = await readFile(vaultPath(home));
    const codes = new Set<string>();
    for (let i = 0; i < original.length; i++) {
      const copy = Buffer.from(original);
      copy[i] = (copy[i] as number) ^ 0x01;
      await writeFile(vaultPath(home), copy);
      const error = await rejection(vaultWith(PASS).getToken());
      expect(
        error.exitCode,
        `byte ${i} (${JSON.stringify(String.fromCharCode(original[i] as number))})`,
      ).toBe(3);
      expect(error.message).not.toContain(TOKEN);
      codes.add(error.code as string);
    }
    expect(codes).toContain("ERR_VAULT_TAMPERED");
    // A flip in the ciphertext itself, with the right passphrase, is named as tampering.
    const doc = JSON.parse(original.toString("utf8"));
    const bytes = Buffer.from(doc.ciphertext, "base64");
    bytes[0] = (bytes[0] as number) ^ 0x80;
    doc.ciphertext = bytes.toString("base64");
    await writeFile(vaultPath(home), `${JSON.stringify(doc, null, 2)}\n`);
    expect(await rejection(vaultWith(PASS).getToken())).toMatchObject({
      code: "ERR_VAULT_TAMPERED",
      exitCode: 3,
    });
  });

  it("rejects a vault from a newer format version with exit 3", async () => {
    await vaultWith(PASS).setToken(TOKEN);
    const doc = JSON.parse(await readFile(vaultPath(home), "utf8"));
    doc.version = 2;
    await writeFile(vaultPath(home), JSON.stringify(doc));
    expect(await rejection(vaultWith(PASS).getToken())).toMatchObject({
      code: "ERR_VAULT_UNSUPPORTED",
      exitCode: 3,
    });
  });

  it("asks for no passphrase when there is no vault, and a long one to create it", async () => {
    const asked: string[] = [];
    expect(await vaultWith(PASS, asked).getToken()).toBeUndefined();
    expect(await vaultWith(PASS, asked).getSecrets({ service: "api", env: "staging" })).toEqual([]);
    expect(asked).toEqual([]);
    expect(await rejection(vaultWith("short").setToken(TOKEN))).toMatchObject({
      code: "ERR_VAULT_PASSPHRASE_WEAK",
      exitCode: 2,
    });
    const vault = vaultWith(PASS, asked);
    await vault.setToken(TOKEN);
    await vault.setToken(`${TOKEN}2`);
    expect(await vault.getToken()).toBe(`${TOKEN}2`);
    // One derivation for the whole life of the instance.
    expect(asked).toEqual(["create"]);
  });

  it("clears the token, keeping persisted secrets; deletes the file when nothing is left", async () => {
    const vault = vaultWith(PASS);
    await vault.setToken(TOKEN);
    await vault.putSecrets([
      { service: "api", env: "staging", name: "API_KEY", type: "api-keys", value: "v4lue-v4lue" },
    ]);
    expect(await vault.clearToken()).toBe(true);
    expect(await vault.getToken()).toBeUndefined();
    expect(await vault.getSecrets({ service: "api", env: "staging" })).toHaveLength(1);
    expect(await vault.clearToken()).toBe(false);

    await vault.destroy();
    await vault.setToken(TOKEN);
    expect(await vault.clearToken()).toBe(true);
    expect(await vault.exists()).toBe(false);
    expect(await vaultWith("wrong passphrase").destroy()).toBe(false);
  });

  it("keeps both writes of two concurrent writers (the vault lock)", async () => {
    await vaultWith(PASS).setToken(TOKEN);
    await Promise.all(
      ["A_KEY", "B_KEY", "C_KEY"].map((name) =>
        vaultWith(PASS).putSecrets([
          { service: "api", env: "staging", name, type: "api-keys", value: `${name}-value` },
        ]),
      ),
    );
    const names = (await vaultWith(PASS).getSecrets({ service: "api", env: "staging" })).map((s) => s.name);
    expect(names).toEqual(["A_KEY", "B_KEY", "C_KEY"]);
    expect(await vaultWith(PASS).getToken()).toBe(TOKEN);
  });
});

describe("a vault without a token is not opened for the token", () => {
  it("asks no passphrase for getToken when it holds only persisted secrets, and does once a token is stored", async () => {
    const asked: string[] = [];
    const vault = vaultWith(PASS, asked);
    await vault.putSecrets([
      { service: "api", env: "staging", name: "JWT_SECRET", value: "v".repeat(40), type: "jwt" },
    ]);
    expect(asked).toEqual(["create"]);
    const fresh: string[] = [];
    expect(await vaultWith(PASS, fresh).getToken()).toBeUndefined();
    expect(fresh).toEqual([]);
    await vaultWith(PASS).setToken(TOKEN);
    const again: string[] = [];
    expect(await vaultWith(PASS, again).getToken()).toBe(TOKEN);
    expect(again).toEqual(["unlock"]);
  });

  it("treats a flipped holds field as tampering when the vault is opened", async () => {
    await vaultWith(PASS).setToken(TOKEN);
    const path = vaultPath(home);
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replace('"token": true', '"token": false'));
    // The header now claims no token: the token is not offered, and opening the vault fails its check.
    expect(await vaultWith(PASS).getToken()).toBeUndefined();
    const error = await rejection(vaultWith(PASS).getSecrets({ service: "api", env: "staging" }));
    expect(error.code).toBe("ERR_VAULT_TAMPERED");
  });
});
