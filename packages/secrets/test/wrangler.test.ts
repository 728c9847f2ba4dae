// The real wrangler and the real API client against a small Cloudflare API on 127.0.0.1:0: values
// travel on wrangler's stdin, never in its argv (recorded by a shim around the real wrangler entry),
// and never land in a file.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCloudflareClient, createWranglerRunner, resolveWranglerBin } from "@lego/cloudflare";
import { createMemoryLogger } from "@lego/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createApiSecretsReader,
  createVault,
  createWranglerSecretsWriter,
  EnhancedSecretManager,
  type SecretsScope,
} from "../src/index.ts";
import {
  FAKE_ACCOUNT as ACCOUNT,
  type FakeApi,
  startFakeApi,
  FAKE_TOKEN as TOKEN,
} from "./support/fake-api.ts";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

let api: FakeApi;
let root: string;
beforeAll(async () => {
  api = await startFakeApi({ "api-staging": { MANUAL: "set-by-hand" } });
  root = await mkdtemp(join(tmpdir(), "lego-secrets-wrangler-"));
});
afterAll(async () => {
  await api.close();
  await rm(root, { recursive: true, force: true });
});

describe("push through the real wrangler", () => {
  it("uploads generated values on stdin, never in argv or a file, and reads names back through the API", async () => {
    const service = join(root, "services", "api");
    const home = join(root, "home");
    await mkdir(join(service, "src"), { recursive: true });
    await writeFile(
      join(service, "wrangler.jsonc"),
      JSON.stringify({
        name: "api",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        env: { staging: {} },
      }),
    );
    await writeFile(
      join(service, "src", "index.js"),
      "export default { fetch() { return new Response('ok'); } };\n",
    );

    // A shim around the real wrangler entry: records the argv wrangler is started with, then runs it.
    const argvLog = join(root, "argv.jsonl");
    const shim = join(root, "wrangler-shim.cjs");
    await writeFile(
      shim,
      [
        'const { appendFileSync } = require("node:fs");',
        'const { spawnSync } = require("node:child_process");',
        `appendFileSync(${JSON.stringify(argvLog)}, JSON.stringify(process.argv.slice(2)) + "\\n");`,
        `const r = spawnSync(process.execPath, [${JSON.stringify(resolveWranglerBin())}, ...process.argv.slice(2)], { stdio: "inherit" });`,
        "process.exit(r.status ?? 1);",
      ].join("\n"),
    );

    const target = { apiBaseUrl: api.baseURL, token: TOKEN, accountId: ACCOUNT };
    const logger = createMemoryLogger();
    const runner = createWranglerRunner({
      cwd: service,
      target,
      wranglerBin: shim,
      stateDir: join(home, "wrangler"),
      baseEnv: { PATH: process.env.PATH, HOME: root },
      logger,
    });
    const client = createCloudflareClient({
      token: TOKEN,
      baseURL: api.baseURL,
      accountId: ACCOUNT,
      retry: false,
    });
    const vault = createVault({
      legoHome: home,
      kdf: { N: 1024, r: 8, p: 1 },
      passphrase: async () => "a test passphrase",
    });
    const scope: SecretsScope = {
      service: "api",
      env: "staging",
      scriptName: "api-staging",
      required: ["API_KEY", "JWT_SECRET"],
      dir: service,
      configFile: "wrangler.jsonc",
      wranglerEnv: "staging",
    };
    const manager = new EnhancedSecretManager({
      reader: createApiSecretsReader(client),
      writer: createWranglerSecretsWriter(runner),
      vault,
      logger,
    });
    try {
      const result = await manager.push(scope, { persist: true });
      expect(result.secrets.map((s) => [s.name, s.pushed, s.persisted])).toEqual([
        ["API_KEY", true, true],
        ["JWT_SECRET", true, true],
      ]);
      expect(result.unchanged).toEqual(["MANUAL"]);

      const stored = await vault.getSecrets({ service: "api", env: "staging" });
      const live = api.secrets.get("api-staging")!;
      for (const s of stored) expect(live.get(s.name)).toBe(s.value);
      const values = stored.map((s) => s.value);

      // wrangler ran once, with `secret bulk --env=staging` and no value in its argv.
      const argvs = (await readFile(argvLog, "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[]);
      expect(argvs).toHaveLength(1);
      expect(argvs[0]).toEqual(expect.arrayContaining(["secret", "bulk", "--env=staging"]));
      const everything = [
        JSON.stringify(argvs),
        JSON.stringify(logger.records),
        JSON.stringify(result),
        ...(await Promise.all((await filesUnder(root)).map((f) => readFile(f, "utf8")))),
      ].join("\n");
      for (const v of values) expect(everything).not.toContain(v);
      // The values went in the request body of the bulk PATCH, the one place they belong.
      expect(api.requests.some((r) => r.method === "PATCH" && values.every((v) => r.body.includes(v)))).toBe(
        true,
      );

      // diff reads names back through the API client: nothing missing now; a new script lacks all.
      const [after, production] = await manager.diff([
        scope,
        { ...scope, env: "production", scriptName: "api" },
      ]);
      expect(after?.missing).toEqual([]);
      expect(production).toMatchObject({ scriptExists: false, missing: ["API_KEY", "JWT_SECRET"] });
    } finally {
      await runner.dispose();
    }
  });
});
