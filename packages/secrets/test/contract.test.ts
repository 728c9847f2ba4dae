// The secret-store contract, run against every implementation of the ports: the in-memory store, and the
// API reader with the wrangler writer (the real pinned wrangler) against the fake API and the local cloud.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCloudflareClient, createWranglerRunner } from "@lego/cloudflare";
import { startLocalCloud } from "@lego/emulator";
import { createApiSecretsReader, createWranglerSecretsWriter, type SecretsScope } from "../src/index.ts";
import { createMemorySecretsStore, describeSecretsStoreContract } from "../src/testing/index.ts";
import { FAKE_ACCOUNT, FAKE_TOKEN, startFakeApi } from "./support/fake-api.ts";

const scopeOf = (id: string, dir?: string): SecretsScope => ({
  service: id,
  env: "staging",
  scriptName: `${id}-staging`,
  required: [],
  dir,
  wranglerEnv: "staging",
});

describeSecretsStoreContract("in memory", async () => {
  const store = createMemorySecretsStore();
  return {
    ...store,
    existingScope: async (id) => {
      store.createScript(`${id}-staging`);
      return scopeOf(id);
    },
    missingScope: (id) => scopeOf(id),
    readValue: async (scope, name) => store.scripts.get(scope.scriptName)?.get(name),
  };
});

describeSecretsStoreContract("API client + wrangler secret bulk, against the fake API", async () => {
  const api = await startFakeApi();
  const root = await mkdtemp(join(tmpdir(), "lego-secrets-contract-"));
  const target = { apiBaseUrl: api.baseURL, token: FAKE_TOKEN, accountId: FAKE_ACCOUNT };
  const runner = createWranglerRunner({
    cwd: root,
    target,
    stateDir: join(root, "wrangler"),
    baseEnv: { PATH: process.env.PATH, HOME: root },
  });
  const client = createCloudflareClient({
    token: FAKE_TOKEN,
    baseURL: api.baseURL,
    accountId: FAKE_ACCOUNT,
    retry: false,
  });
  return {
    reader: createApiSecretsReader(client),
    writer: createWranglerSecretsWriter(runner),
    async existingScope(id) {
      const dir = join(root, id);
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, "wrangler.jsonc"),
        JSON.stringify({
          name: id,
          main: "index.js",
          compatibility_date: "2025-09-01",
          env: { staging: {} },
        }),
      );
      api.secrets.set(`${id}-staging`, new Map());
      return scopeOf(id, dir);
    },
    missingScope: (id) => scopeOf(id, root),
    readValue: async (scope, name) => api.secrets.get(scope.scriptName)?.get(name),
    async close() {
      await runner.dispose();
      await api.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

// The real thing: the local cloud (API + workerd), wrangler deploys each script, and a Worker echoes
// the secret it holds, so `readValue` sees what a deployed Worker sees.
function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const ECHO = `export default {
  fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name");
    const value = env[name];
    return typeof value === "string" ? new Response(value) : new Response("unset", { status: 404 });
  },
};
`;

describeSecretsStoreContract("API client + wrangler secret bulk, against the local cloud", async () => {
  const root = await mkdtemp(join(tmpdir(), "lego-secrets-contract-local-"));
  const cloud = await startLocalCloud({ stateDir: join(root, "cloud") });
  const target = { apiBaseUrl: cloud.apiBaseUrl, token: cloud.token, accountId: cloud.accountId };
  const runner = createWranglerRunner({
    cwd: root,
    target,
    stateDir: join(root, "wrangler"),
    baseEnv: { PATH: process.env.PATH, HOME: root },
  });
  const client = createCloudflareClient({
    token: cloud.token,
    baseURL: cloud.apiBaseUrl,
    accountId: cloud.accountId,
    retry: false,
  });
  return {
    reader: createApiSecretsReader(client),
    writer: createWranglerSecretsWriter(runner),
    async existingScope(id) {
      const dir = join(root, id);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "index.js"), ECHO);
      await writeFile(
        join(dir, "wrangler.jsonc"),
        JSON.stringify({
          name: id,
          main: "index.js",
          compatibility_date: "2025-09-01",
          env: { staging: { workers_dev: true } },
        }),
      );
      await runner.deploy({ cwd: dir, env: "staging" });
      return scopeOf(id, dir);
    },
    missingScope: (id) => scopeOf(id, root),
    async readValue(scope, name) {
      const host = `${scope.scriptName}.${cloud.accountSubdomain}.workers.dev`;
      // fetch() may not send a Host header of our choosing; node:http does.
      const res = await get(cloud.port, host, `/?name=${encodeURIComponent(name)}`);
      return res.status === 200 ? res.body : undefined;
    },
    async close() {
      await runner.dispose();
      await cloud.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});
