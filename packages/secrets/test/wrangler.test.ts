// The real wrangler and the real API client against a small Cloudflare API on 127.0.0.1:0: values
// travel on wrangler's stdin, never in its argv (recorded by a shim around the real wrangler entry),
// and never land in a file.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const TOKEN = "fake-api-token-for-tests-0001";

interface Api {
  server: Server;
  baseURL: string;
  secrets: Map<string, Map<string, string>>;
  requests: Array<{ method: string; path: string; body: string }>;
}

function envelope(result: unknown) {
  return JSON.stringify({ success: true, errors: [], messages: [], result });
}

async function startApi(): Promise<Api> {
  const secrets = new Map<string, Map<string, string>>([
    ["api-staging", new Map([["MANUAL", "set-by-hand"]])],
  ]);
  const requests: Api["requests"] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0] as string;
      requests.push({ method: req.method ?? "", path, body });
      res.setHeader("content-type", "application/json");
      const list = /^\/client\/v4\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets$/.exec(path);
      const bulk = /^\/client\/v4\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets-bulk$/.exec(path);
      if (req.method === "GET" && list) {
        const s = secrets.get(list[1] as string);
        if (!s) {
          res.statusCode = 404;
          res.end(
            JSON.stringify({
              success: false,
              errors: [{ code: 10007, message: "workers.api.error.script_not_found" }],
              messages: [],
              result: null,
            }),
          );
          return;
        }
        res.end(envelope([...s.keys()].map((name) => ({ name, type: "secret_text" }))));
        return;
      }
      if (req.method === "PATCH" && bulk) {
        const s = secrets.get(bulk[1] as string) ?? new Map<string, string>();
        const parsed = JSON.parse(body) as { secrets: Record<string, { text: string }> };
        for (const [k, v] of Object.entries(parsed.secrets)) s.set(k, v.text);
        secrets.set(bulk[1] as string, s);
        res.end(envelope({}));
        return;
      }
      res.statusCode = 501;
      res.end(
        JSON.stringify({
          success: false,
          errors: [{ code: 501, message: `${req.method} ${path}` }],
          messages: [],
          result: null,
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { server, baseURL: `http://127.0.0.1:${port}/client/v4`, secrets, requests };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

let api: Api;
let root: string;
beforeAll(async () => {
  api = await startApi();
  root = await mkdtemp(join(tmpdir(), "lego-secrets-wrangler-"));
});
afterAll(async () => {
  await new Promise((r) => api.server.close(r));
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
