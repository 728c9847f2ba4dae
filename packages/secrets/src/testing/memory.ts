import type { SecretsReader, SecretsScope, SecretsWriter } from "@lego/secrets";

/** An in-memory secret store, keyed by script name, keeping values so tests can assert on them. */
export interface MemorySecretsStore {
  reader: SecretsReader;
  writer: SecretsWriter;
  /** Script name → secret name → value. A script exists once it is created or written to. */
  scripts: Map<string, Map<string, string>>;
  /** Every upload: the script and the names it set, in order. */
  uploads: Array<{ script: string; names: string[] }>;
  /** Makes a script exist with no secrets (as a first deploy would). */
  createScript(scriptName: string): void;
}

/**
 * A {@link SecretsReader} and {@link SecretsWriter} in memory: for tests of code that takes the ports
 * (the deploy hook, the manager). It passes the same contract suite as the real adapters.
 *
 * @example
 * const store = createMemorySecretsStore();
 * const manager = new EnhancedSecretManager({ reader: store.reader, writer: store.writer, vault });
 */
export function createMemorySecretsStore(): MemorySecretsStore {
  const scripts = new Map<string, Map<string, string>>();
  const uploads: MemorySecretsStore["uploads"] = [];
  return {
    scripts,
    uploads,
    createScript(scriptName) {
      if (!scripts.has(scriptName)) scripts.set(scriptName, new Map());
    },
    reader: {
      async listSecretNames(scope: SecretsScope) {
        const s = scripts.get(scope.scriptName);
        return s ? [...s.keys()].sort() : undefined;
      },
    },
    writer: {
      async putSecrets(scope: SecretsScope, values: Readonly<Record<string, string>>) {
        if (Object.keys(values).length === 0) return;
        const s = scripts.get(scope.scriptName) ?? new Map<string, string>();
        for (const [name, value] of Object.entries(values)) s.set(name, value);
        scripts.set(scope.scriptName, s);
        uploads.push({ script: scope.scriptName, names: Object.keys(values).sort() });
      },
    },
  };
}
