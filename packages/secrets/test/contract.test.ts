// The secret-store contract, run against every implementation of the ports: the in-memory store, and the
// API reader with the wrangler writer (the real pinned wrangler) against the fake API.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCloudflareClient, createWranglerRunner } from "@lego/cloudflare";
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
