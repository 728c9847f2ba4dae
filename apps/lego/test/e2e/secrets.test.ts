// The built CLI, the real wrangler (through a shim that records the argv it is started with) and a
// Cloudflare API on 127.0.0.1:0. Secret values and the token must appear in no child argv, no output and
// no file; the vault holds them encrypted.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveWranglerBin } from "@lego/cloudflare";
import { createVault, vaultPath } from "@lego/secrets";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT, type SecretsApi, startSecretsApi, TOKEN } from "../secrets-api.ts";
import { assertBuilt, binPath } from "./built.ts";

const PASS = "e2e vault passphrase";

function lego(args: string[], env: Record<string, string>, input?: string) {
  return execa(process.execPath, [binPath, ...args], {
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
    ...(input === undefined ? { stdin: "ignore" as const } : { input }),
  });
}

async function allFiles(dir: string): Promise<Array<{ path: string; text: string }>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return Promise.all(files.map(async (path) => ({ path, text: await readFile(path, "utf8") })));
}

describe("lego token / lego secrets (built CLI, real wrangler)", () => {
  let api: SecretsApi;
  let dir: string;
  let env: Record<string, string>;
  let argvLog: string;
  beforeAll(async () => {
    assertBuilt();
    api = await startSecretsApi();
    dir = await mkdtemp(join(tmpdir(), "lego-secrets-e2e-"));
    const service = join(dir, "portfolio", "services", "api");
    await mkdir(join(service, "src"), { recursive: true });
    await writeFile(
      join(service, "wrangler.jsonc"),
      JSON.stringify({
        name: "api",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        env: { staging: { secrets: { required: ["API_KEY", "WEBHOOK_SECRET"] } } },
      }),
    );
    await writeFile(
      join(service, "src", "index.js"),
      "export default { fetch() { return new Response('ok'); } };\n",
    );
    argvLog = join(dir, "wrangler-argv.jsonl");
    const shim = join(dir, "wrangler-shim.cjs");
    await writeFile(
      shim,
      [
        'const { appendFileSync } = require("node:fs");',
        'const { spawnSync } = require("node:child_process");',
        `appendFileSync(${JSON.stringify(argvLog)}, JSON.stringify(process.argv) + "\\n");`,
        `const r = spawnSync(process.execPath, [${JSON.stringify(resolveWranglerBin())}, ...process.argv.slice(2)], { stdio: "inherit" });`,
        "process.exit(r.status ?? 1);",
      ].join("\n"),
    );
    env = {
      HOME: dir,
      LEGO_HOME: join(dir, "lego-home"),
      LEGO_VAULT_PASSPHRASE: PASS,
      CLOUDFLARE_API_BASE_URL: api.baseURL,
      CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
      LEGO_WRANGLER_BIN: shim,
    };
  });
  afterAll(async () => {
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("token set --stdin stores it encrypted; token status --json reports the account, never the token", async () => {
    const set = await lego(["token", "set", "--stdin", "--json"], env, `${TOKEN}\n`);
    expect(set.exitCode, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ ok: true, data: { stored: true } });
    expect(await readFile(vaultPath(env.LEGO_HOME as string), "utf8")).not.toContain(TOKEN);

    const status = await lego(["token", "status", "--json"], env);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).data).toMatchObject({
      source: "vault",
      accounts: [{ id: ACCOUNT, name: "Test Account" }],
      token: { status: "active" },
    });
    expect(status.stdout + status.stderr + set.stdout + set.stderr).not.toContain(TOKEN);

    const wrong = await lego(["token", "status", "--json"], {
      ...env,
      LEGO_VAULT_PASSPHRASE: "not the passphrase",
    });
    expect(wrong.exitCode).toBe(3);
    expect(JSON.parse(wrong.stdout).error.code).toBe("ERR_VAULT_PASSPHRASE");
  });

  it("secrets push: values reach the API in the request body only; not argv, output, .lego or any file", async () => {
    const root = join(dir, "portfolio");
    const push = await lego(
      ["secrets", "push", "api", "--env", "staging", "--persist", "--root", root, "--json"],
      env,
    );
    expect(push.exitCode, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout).data.secrets.map((s: { name: string }) => s.name)).toEqual([
      "API_KEY",
      "WEBHOOK_SECRET",
    ]);
    const stored = await createVault({
      legoHome: env.LEGO_HOME as string,
      passphrase: async () => PASS,
    }).getSecrets({
      service: "api",
      env: "staging",
    });
    const live = api.secrets.get("api-staging");
    expect(Object.fromEntries(live ?? [])).toEqual(Object.fromEntries(stored.map((s) => [s.name, s.value])));

    const argvs = (await readFile(argvLog, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as string[]);
    expect(argvs.some((a) => a.includes("secret") && a.includes("bulk"))).toBe(true);
    const files = await allFiles(dir);
    expect(
      files.some((f) => f.path.includes(`${join("portfolio", ".lego")}`) && f.path.endsWith("audit.jsonl")),
    ).toBe(true);
    for (const secret of [...stored.map((s) => s.value), TOKEN]) {
      expect(JSON.stringify(argvs)).not.toContain(secret);
      expect(push.stdout + push.stderr).not.toContain(secret);
      for (const f of files) expect(f.text.includes(secret), f.path).toBe(false);
    }
  });
});
