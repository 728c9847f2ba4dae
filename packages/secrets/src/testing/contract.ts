// Through the package itself, so the built ./testing entry shares the main entry instead of a copy.
import type { SecretsReader, SecretsScope, SecretsWriter } from "@lego/secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** One implementation of the secret-store ports, ready for the contract suite. */
export interface SecretsStoreUnderTest {
  reader: SecretsReader;
  writer: SecretsWriter;
  /**
   * A scope whose script exists (deployed, or created) and has no secrets yet. Called once per test with
   * a distinct `id`, so tests do not see each other's secrets.
   */
  existingScope(id: string): Promise<SecretsScope>;
  /** A scope whose script does not exist. */
  missingScope(id: string): SecretsScope;
  /** Optional: the value a script holds, for implementations that can show it (fakes, a Worker echo). */
  readValue?(scope: SecretsScope, name: string): Promise<string | undefined>;
  close?(): Promise<void>;
}

/**
 * The contract every implementation of the secret-store ports meets: the in-memory store, the API reader
 * with the wrangler writer against a fake API, and the same against the local cloud. One suite, so the
 * fakes cannot drift from the real thing.
 *
 * @example
 * describeSecretsStoreContract("memory", async () => {
 *   const store = createMemorySecretsStore();
 *   return { ...store, existingScope: async (id) => { store.createScript(id); return scopeOf(id); }, missingScope: scopeOf };
 * });
 */
export function describeSecretsStoreContract(name: string, make: () => Promise<SecretsStoreUnderTest>): void {
  describe(`secrets store contract: ${name}`, () => {
    let store: SecretsStoreUnderTest;
    beforeAll(async () => {
      store = await make();
    });
    afterAll(async () => {
      await store?.close?.();
    });

    it("lists no names (undefined) for a script that does not exist", async () => {
      expect(await store.reader.listSecretNames(store.missingScope("absent"))).toBeUndefined();
    });

    it("lists an existing script with no secrets as an empty list", async () => {
      expect(await store.reader.listSecretNames(await store.existingScope("empty"))).toEqual([]);
    });

    it("sets every value of one upload, lists the names sorted (never values), and keeps scripts apart", async () => {
      const scope = await store.existingScope("upload");
      const other = await store.existingScope("other");
      const values = { ZETA_KEY: "zeta-value-0123456789", ALPHA_KEY: 'alpha "quoted" value, with ünïcode' };
      await store.writer.putSecrets(scope, values);
      const names = await store.reader.listSecretNames(scope);
      expect(names).toEqual(["ALPHA_KEY", "ZETA_KEY"]);
      expect(JSON.stringify(names)).not.toContain("zeta-value");
      expect(await store.reader.listSecretNames(other)).toEqual([]);
      if (store.readValue) {
        for (const [key, value] of Object.entries(values))
          expect(await store.readValue(scope, key)).toBe(value);
      }
    });

    it("a later upload adds and replaces names without dropping others", async () => {
      const scope = await store.existingScope("merge");
      await store.writer.putSecrets(scope, { FIRST: "first-value-0001", SECOND: "second-value-0001" });
      await store.writer.putSecrets(scope, { SECOND: "second-value-0002", THIRD: "third-value-0001" });
      expect(await store.reader.listSecretNames(scope)).toEqual(["FIRST", "SECOND", "THIRD"]);
      if (store.readValue) expect(await store.readValue(scope, "SECOND")).toBe("second-value-0002");
    });
  });
}
