import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createMemoryLogger,
  createNonInteractivePrompter,
  createRedactor,
  createRunJournal,
  createScriptedPrompter,
  OperationError,
} from "@lego/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  assertRequiredSecrets,
  checkRequiredSecrets,
  createVault,
  EnhancedSecretManager,
  parseSecretTypes,
  type SecretsReader,
  type SecretsScope,
  type SecretsWriter,
  type Vault,
  vaultPath,
} from "../src/index.ts";

/** An in-memory Worker secret store implementing both ports, recording every upload. */
function memoryWorkers() {
  const scripts = new Map<string, Map<string, string>>();
  const uploads: Array<{ script: string; names: string[] }> = [];
  let failNext = false;
  const reader: SecretsReader = {
    async listSecretNames(scope) {
      const s = scripts.get(scope.scriptName);
      return s ? [...s.keys()].sort() : undefined;
    },
  };
  const writer: SecretsWriter = {
    async putSecrets(scope, values) {
      if (failNext) {
        failNext = false;
        throw new OperationError({ code: "ERR_WRANGLER_FAILED", message: "wrangler secret bulk exited 1" });
      }
      const s = scripts.get(scope.scriptName) ?? new Map<string, string>();
      for (const [k, v] of Object.entries(values)) s.set(k, v);
      scripts.set(scope.scriptName, s);
      uploads.push({ script: scope.scriptName, names: Object.keys(values).sort() });
    },
  };
  return {
    scripts,
    uploads,
    reader,
    writer,
    failOnce: () => {
      failNext = true;
    },
  };
}

const scope = (env: string, required = ["API_KEY", "JWT_SECRET"]): SecretsScope => ({
  service: "api",
  env,
  scriptName: `api-${env}`,
  required,
});

let home: string;
let vault: Vault;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "lego-secrets-"));
  vault = createVault({
    legoHome: home,
    kdf: { N: 1024, r: 8, p: 1 },
    passphrase: async () => "test passphrase",
  });
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("EnhancedSecretManager", () => {
  it("push generates the missing required secrets, persists them and pushes them; re-push reuses the vault", async () => {
    const workers = memoryWorkers();
    const logger = createMemoryLogger();
    const journal = await createRunJournal({ root: home });
    const manager = new EnhancedSecretManager({ ...workers, vault, logger, journal });
    const first = await manager.push(scope("staging"), { persist: true });
    expect(first.secrets.map((s) => [s.name, s.source, s.pushed, s.persisted])).toEqual([
      ["API_KEY", "generate", true, true],
      ["JWT_SECRET", "generate", true, true],
    ]);
    expect(first.values).toBeUndefined();
    const live = workers.scripts.get("api-staging")!;
    const persisted = await vault.getSecrets({ service: "api", env: "staging" });
    expect(persisted.map((p) => [p.name, p.value])).toEqual([...live.entries()].sort());

    const again = await manager.push(scope("staging"));
    expect(again.secrets.map((s) => [s.name, s.source, s.reason])).toEqual([
      ["API_KEY", "vault", "persisted"],
      ["JWT_SECRET", "vault", "persisted"],
    ]);
    expect(workers.scripts.get("api-staging")).toEqual(live);

    const values = [...live.values()];
    const logText = JSON.stringify(logger.records);
    const journalText = await readFile(journal.path, "utf8");
    const vaultText = await readFile(vaultPath(home), "utf8");
    for (const v of values) {
      expect(logText).not.toContain(v);
      expect(journalText).not.toContain(v);
      expect(vaultText).not.toContain(v);
      expect(JSON.stringify(first)).not.toContain(v);
    }
    expect(journalText).toContain("JWT_SECRET");
  });

  it("diff and the deploy hook read names from the API; the hook fails with exit 2 and the command", async () => {
    const workers = memoryWorkers();
    const manager = new EnhancedSecretManager(workers);
    workers.scripts.set("api-staging", new Map([["API_KEY", "x"]]));
    const [staging, production] = await manager.diff([scope("staging"), scope("production")]);
    expect(staging).toMatchObject({ missing: ["JWT_SECRET"], present: ["API_KEY"], scriptExists: true });
    expect(production).toMatchObject({ missing: ["API_KEY", "JWT_SECRET"], scriptExists: false });
    expect(await checkRequiredSecrets({ scope: scope("staging"), reader: workers.reader })).toMatchObject({
      missing: ["JWT_SECRET"],
      command: "lego secrets push api --env staging",
    });
    await expect(
      assertRequiredSecrets({ scope: scope("staging"), reader: workers.reader }),
    ).rejects.toMatchObject({
      code: "ERR_SECRETS_MISSING",
      exitCode: 2,
      hint: expect.stringContaining("lego secrets push api --env staging"),
    });
  });

  it("persists before pushing, so a failed upload is retried from the vault with the same values", async () => {
    const workers = memoryWorkers();
    const manager = new EnhancedSecretManager({ ...workers, vault });
    workers.failOnce();
    await expect(manager.push(scope("staging"), { persist: true })).rejects.toMatchObject({ exitCode: 1 });
    const kept = await vault.getSecrets({ service: "api", env: "staging" });
    expect(kept).toHaveLength(2);
    await manager.push(scope("staging"));
    expect(Object.fromEntries(workers.scripts.get("api-staging")!)).toEqual(
      Object.fromEntries(kept.map((k) => [k.name, k.value])),
    );
  });

  it("generate: refuses to throw values away, reveals only on request, and registers values for redaction", async () => {
    const workers = memoryWorkers();
    const redactor = createRedactor();
    const manager = new EnhancedSecretManager({ ...workers, vault, redactor });
    const specs = parseSecretTypes("database,jwt");
    await expect(manager.generate(scope("staging"), { specs })).rejects.toMatchObject({
      code: "ERR_NOTHING_TO_KEEP",
      exitCode: 2,
    });
    const revealed = await manager.generate(scope("staging"), { specs, reveal: true });
    expect(Object.keys(revealed.values ?? {})).toEqual(["DATABASE_PASSWORD", "JWT_SECRET"]);
    expect(redactor.redact(`x ${revealed.values?.JWT_SECRET} y`)).toBe("x *** y");
    expect(workers.uploads).toEqual([]);
    expect(await vault.exists()).toBe(false);

    const kept = await manager.generate(scope("production"), { specs, persist: true });
    expect(kept.secrets.every((s) => s.persisted && !s.pushed)).toBe(true);
    expect(await vault.getSecrets({ service: "api", env: "production" })).toHaveLength(2);
  });

  it("generate for the required secrets (the seed's --domain/--environment) does nothing when all are set", async () => {
    const workers = memoryWorkers();
    const manager = new EnhancedSecretManager({ ...workers, vault });
    const first = await manager.generate(scope("staging"), { specs: [], fillMissing: true, push: true });
    expect(first.secrets.map((s) => [s.name, s.reason])).toEqual([
      ["API_KEY", "missing"],
      ["JWT_SECRET", "missing"],
    ]);
    const again = await manager.generate(scope("staging"), { specs: [], fillMissing: true, push: true });
    expect(again.secrets).toEqual([]);
    expect(again.unchanged).toEqual(["API_KEY", "JWT_SECRET"]);
    expect(workers.uploads).toHaveLength(1);
    await expect(manager.generate(scope("staging"), { specs: [], push: true })).rejects.toMatchObject({
      code: "ERR_SECRET_TYPE_UNKNOWN",
      exitCode: 2,
    });
  });

  it("rotate replaces one value, and updates the vault when it was persisted there", async () => {
    const workers = memoryWorkers();
    const manager = new EnhancedSecretManager({ ...workers, vault });
    await manager.push(scope("staging"), { persist: true });
    const before = workers.scripts.get("api-staging")!.get("JWT_SECRET");
    const apiKey = workers.scripts.get("api-staging")!.get("API_KEY");
    const result = await manager.rotate(scope("staging"), "JWT_SECRET");
    expect(result.secrets).toEqual([
      expect.objectContaining({ name: "JWT_SECRET", pushed: true, persisted: true }),
    ]);
    const after = workers.scripts.get("api-staging")!.get("JWT_SECRET");
    expect(after).not.toBe(before);
    expect(after).toHaveLength(86);
    expect(workers.scripts.get("api-staging")!.get("API_KEY")).toBe(apiKey);
    const stored = await vault.getSecrets({ service: "api", env: "staging" });
    expect(stored.find((s) => s.name === "JWT_SECRET")?.value).toBe(after);
  });

  it("sync copies persisted values only after confirmation", async () => {
    const workers = memoryWorkers();
    const base = { ...workers, vault };
    await new EnhancedSecretManager(base).push(scope("staging"), { persist: true });
    const request = { from: scope("staging"), to: scope("production") };

    await expect(new EnhancedSecretManager(base).sync(request)).rejects.toMatchObject({
      code: "ERR_SYNC_NOT_CONFIRMED",
      exitCode: 2,
    });
    await expect(
      new EnhancedSecretManager({ ...base, prompter: createNonInteractivePrompter() }).sync(request),
    ).rejects.toMatchObject({ exitCode: 2 });
    const declined = createScriptedPrompter([false]);
    await expect(
      new EnhancedSecretManager({ ...base, prompter: declined }).sync(request),
    ).rejects.toMatchObject({
      code: "ERR_SYNC_NOT_CONFIRMED",
    });
    expect(declined.asked[0]).toContain("from staging to production");
    expect(workers.scripts.has("api-production")).toBe(false);

    const accepted = createScriptedPrompter([true]);
    const result = await new EnhancedSecretManager({ ...base, prompter: accepted }).sync(request);
    expect(result.secrets.map((s) => [s.name, s.pushed, s.persisted])).toEqual([
      ["API_KEY", true, true],
      ["JWT_SECRET", true, true],
    ]);
    expect(workers.scripts.get("api-production")).toEqual(workers.scripts.get("api-staging"));
    expect(await vault.getSecrets({ service: "api", env: "production" })).toHaveLength(2);
    const yes = await new EnhancedSecretManager(base).sync({ ...request, yes: true });
    expect(yes.secrets).toHaveLength(2);
  });

  it("list shows names with required, set and persisted flags, never values", async () => {
    const workers = memoryWorkers();
    const manager = new EnhancedSecretManager({ ...workers, vault });
    workers.scripts.set("api-staging", new Map([["MANUAL", "manual-value-123"]]));
    await manager.generate(scope("staging"), { specs: parseSecretTypes("jwt"), persist: true, push: true });
    expect(await manager.list(scope("staging"))).toEqual([
      { name: "API_KEY", required: true, set: false, persisted: false },
      { name: "JWT_SECRET", required: true, set: true, persisted: true },
      { name: "MANUAL", required: false, set: true, persisted: false },
    ]);
  });
});
