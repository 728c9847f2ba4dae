// `lego secrets …` and `lego token …` in-process, against a small Cloudflare API on 127.0.0.1:0 and the
// real wrangler. Values must never reach stdout/stderr (without --reveal), argv, `.lego/` or the audit log.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createScriptedPrompter } from "@lego/core";
import { createVault, vaultPath } from "@lego/secrets";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { oneJson, run } from "./helpers.ts";
import { ACCOUNT, type SecretsApi, startSecretsApi, TOKEN } from "./secrets-api.ts";

const PASS = "the vault passphrase";

async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return (await Promise.all(files.map((f) => readFile(f, "utf8")))).join("\n");
}

let api: SecretsApi;
let root: string;
let home: string;
let env: Record<string, string>;
beforeAll(async () => {
  api = await startSecretsApi();
  // One LEGO_HOME for the file, so wrangler's compile cache under it stays warm between tests.
  home = await mkdtemp(join(tmpdir(), "lego-secrets-home-"));
});
afterAll(async () => {
  await api.close();
  await rm(home, { recursive: true, force: true });
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-secrets-cli-"));
  await rm(vaultPath(home), { force: true });
  const service = join(root, "services", "api");
  await mkdir(join(service, "src"), { recursive: true });
  await writeFile(
    join(service, "wrangler.jsonc"),
    JSON.stringify({
      name: "api",
      main: "src/index.js",
      compatibility_date: "2025-09-01",
      secrets: { required: ["API_KEY"] },
      env: { staging: { secrets: { required: ["API_KEY", "JWT_SECRET"] } } },
    }),
  );
  await writeFile(
    join(service, "src", "index.js"),
    "export default { fetch() { return new Response('ok'); } };\n",
  );
  env = {
    LEGO_HOME: home,
    LEGO_VAULT_PASSPHRASE: PASS,
    CLOUDFLARE_API_TOKEN: TOKEN,
    CLOUDFLARE_API_BASE_URL: api.baseURL,
    CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
    PATH: process.env.PATH ?? "",
  };
  api.secrets.clear();
  return () => rm(root, { recursive: true, force: true });
});

describe("lego token", () => {
  it("set stores the token encrypted (0600); status verifies it and never shows it; clear removes it", async () => {
    const { CLOUDFLARE_API_TOKEN: _, ...noToken } = env;
    const set = await run(["token", "set"], {
      env: noToken,
      cwd: root,
      isTTY: true,
      prompter: createScriptedPrompter([`  ${TOKEN}\n`]),
    });
    expect(set.exitCode).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(TOKEN);
    expect((await stat(vaultPath(home))).mode & 0o777).toBe(0o600);
    expect(await readFile(vaultPath(home), "utf8")).not.toContain(TOKEN);
    const vault = createVault({ legoHome: home, passphrase: async () => PASS });
    expect(await vault.getToken()).toBe(TOKEN);

    const status = await run(["token", "status", "--json"], { env: noToken, cwd: root });
    expect(status.exitCode).toBe(0);
    const data = oneJson(status.stdout).data;
    expect(data).toMatchObject({
      source: "vault",
      target: "cloudflare",
      token: { id: "tok-1", status: "active" },
      accounts: [{ id: ACCOUNT, name: "Test Account" }],
      permissions: ["Workers Scripts Write"],
    });
    expect(status.stdout + status.stderr).not.toContain(TOKEN);
    expect(api.requests.filter((r) => r.path === "/user/tokens/verify").at(-1)?.auth).toBe(`Bearer ${TOKEN}`);

    const wrong = await run(["token", "status", "--json"], {
      env: { ...noToken, LEGO_VAULT_PASSPHRASE: "wrong one!" },
    });
    expect(wrong.exitCode).toBe(3);
    expect(oneJson(wrong.stdout).error.code).toBe("ERR_VAULT_PASSPHRASE");

    const clear = await run(["token", "clear", "--json"], { env: noToken });
    expect(oneJson(clear.stdout).data).toMatchObject({ cleared: true, deletedVault: true });
    await expect(stat(vaultPath(home))).rejects.toThrow();
  });

  it("a flipped byte in the vault is exit 3; without a terminal, set needs --stdin (exit 2)", async () => {
    await createVault({ legoHome: home, passphrase: async () => PASS }).setToken(TOKEN);
    const bytes = await readFile(vaultPath(home));
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0x04;
    await writeFile(vaultPath(home), bytes);
    const { CLOUDFLARE_API_TOKEN: _, ...noToken } = env;
    const tampered = await run(["token", "status", "--json"], { env: noToken });
    expect(tampered.exitCode).toBe(3);
    expect(oneJson(tampered.stdout).error.code).toMatch(/^ERR_VAULT_(TAMPERED|PASSPHRASE)$/);

    const set = await run(["token", "set", "--json"], { env: noToken });
    expect(set.exitCode).toBe(2);
    expect(oneJson(set.stdout).error.hint).toContain("--stdin");
  });
});

describe("lego secrets", () => {
  it("push generates, persists and uploads the missing required secrets; list and diff show names only", async () => {
    // Missing declared secrets are drift: exit 4, the diff in error.details, the command that sets them.
    const before = await run(["secrets", "diff", "api", "--json"], { env, cwd: root });
    expect(before.exitCode).toBe(4);
    const drift = oneJson(before.stdout).error;
    expect(drift.code).toBe("ERR_SECRETS_DRIFT");
    expect(drift.details).toMatchObject({ service: "api", missing: 3 });
    expect(drift.message).toContain("API_KEY");
    expect(drift.hint).toContain("lego secrets push api --env");
    expect(before.stderr).not.toMatch(/\n\s+at /);

    const push = await run(["secrets", "push", "api", "--env", "staging", "--persist", "--json"], {
      env,
      cwd: root,
    });
    expect(push.exitCode, push.stderr).toBe(0);
    const data = oneJson(push.stdout).data;
    expect(data.secrets.map((s: { name: string }) => s.name)).toEqual(["API_KEY", "JWT_SECRET"]);
    expect(data.values).toBeUndefined();
    const live = api.secrets.get("api-staging")!;
    const stored = await createVault({ legoHome: home, passphrase: async () => PASS }).getSecrets({
      service: "api",
      env: "staging",
    });
    expect(Object.fromEntries(stored.map((s) => [s.name, s.value]))).toEqual(Object.fromEntries(live));

    // A script name pins the environment.
    const listed = await run(["secrets", "list", "api-staging", "--json"], { env, cwd: root });
    expect(oneJson(listed.stdout).data.secrets).toEqual([
      { name: "API_KEY", required: true, set: true, persisted: true },
      { name: "JWT_SECRET", required: true, set: true, persisted: true },
    ]);
    const after = await run(["secrets", "diff", "api", "--env", "staging", "--json"], { env, cwd: root });
    expect(after.exitCode).toBe(0);
    expect(oneJson(after.stdout).data.missing).toBe(0);

    const leaks = [
      push.stdout,
      push.stderr,
      listed.stdout,
      after.stdout,
      await allText(join(root, ".lego")),
      await allText(join(home, "wrangler", "config")),
      await allText(join(home, "wrangler", "tmp")),
    ].join("\n");
    for (const v of live.values()) expect(leaks).not.toContain(v);
    expect(await allText(join(root, ".lego"))).toContain("secrets.push.finished");
  });

  it("rotate replaces one value and keeps the vault in step; sync asks first (exit 2 without --yes)", async () => {
    const seeded = { API_KEY: "seeded-api-key-0123456789", JWT_SECRET: "seeded-jwt-secret-0123456789" };
    await createVault({ legoHome: home, passphrase: async () => PASS }).putSecrets(
      Object.entries(seeded).map(([name, value]) => ({
        service: "api",
        env: "staging",
        name,
        type: "custom",
        value,
      })),
    );
    api.secrets.set("api-staging", new Map(Object.entries(seeded)));
    const old = api.secrets.get("api-staging")!.get("JWT_SECRET");
    const rotated = await run(["secrets", "rotate", "api", "JWT_SECRET", "--env", "staging", "--json"], {
      env,
      cwd: root,
    });
    expect(rotated.exitCode, rotated.stderr).toBe(0);
    const fresh = api.secrets.get("api-staging")!.get("JWT_SECRET");
    expect(fresh).not.toBe(old);
    const vault = createVault({ legoHome: home, passphrase: async () => PASS });
    expect(
      (await vault.getSecrets({ service: "api", env: "staging" })).find((s) => s.name === "JWT_SECRET")
        ?.value,
    ).toBe(fresh);

    const refused = await run(
      ["secrets", "sync", "api", "--from", "staging", "--to", "production", "--json"],
      {
        env,
        cwd: root,
      },
    );
    expect(refused.exitCode).toBe(2);
    expect(oneJson(refused.stdout).error.code).toBe("ERR_SYNC_NOT_CONFIRMED");
    expect(api.secrets.has("api")).toBe(false);

    const synced = await run(["secrets", "sync", "api", "--from", "staging", "--to", "production", "--yes"], {
      env,
      cwd: root,
    });
    expect(synced.exitCode, synced.stderr).toBe(0);
    expect(Object.fromEntries(api.secrets.get("api")!)).toEqual(
      Object.fromEntries(api.secrets.get("api-staging")!),
    );
    for (const v of api.secrets.get("api")!.values()) expect(synced.stdout + synced.stderr).not.toContain(v);
  });

  it("generate (and the seed's lego-secrets) persists without any API; values only with --reveal on a terminal", async () => {
    const { CLOUDFLARE_API_TOKEN: _, CLOUDFLARE_API_BASE_URL: __, ...offline } = env;
    const seed = await run(
      ["--domain", "api", "--environment", "staging", "--types", "database,jwt", "--persist", "--json"],
      { env: offline, cwd: root, binName: "lego-secrets" },
    );
    expect(seed.exitCode, seed.stdout + seed.stderr).toBe(0);
    expect(
      oneJson(seed.stdout).data.secrets.map((s: { name: string; persisted: boolean }) => [
        s.name,
        s.persisted,
      ]),
    ).toEqual([
      ["DATABASE_PASSWORD", true],
      ["JWT_SECRET", true],
    ]);
    const stored = await createVault({ legoHome: home, passphrase: async () => PASS }).getSecrets({
      service: "api",
      env: "staging",
    });
    for (const s of stored) expect(seed.stdout + seed.stderr).not.toContain(s.value);

    const thrownAway = await run(["secrets", "generate", "--types", "jwt", "--json"], {
      env: offline,
      cwd: root,
    });
    expect(oneJson(thrownAway.stdout).error.code).toBe("ERR_NOTHING_TO_KEEP");
    const piped = await run(["secrets", "generate", "--types", "jwt", "--reveal", "--json"], {
      env: offline,
      cwd: root,
    });
    expect(piped.exitCode).toBe(2);
    expect(oneJson(piped.stdout).error.code).toBe("ERR_REVEAL_NEEDS_TTY");
    const shown = await run(
      ["secrets", "generate", "--types", "jwt", "--custom", "PIN:8:numeric", "--reveal"],
      {
        env: offline,
        cwd: root,
        isTTY: true,
      },
    );
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/JWT_SECRET .*\s[A-Za-z0-9_-]{86}$/m);
    expect(shown.stdout).toMatch(/PIN .*\s[0-9]{8}$/m);
  });
});
