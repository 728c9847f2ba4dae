import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  AuthError,
  acquireLock,
  type Clock,
  type HeldLock,
  isLegoError,
  LegoError,
  systemClock,
  UsageError,
  writeFileAtomic,
} from "@lego/core";
import {
  type DerivedKey,
  defaultScryptParams,
  deriveVaultKey,
  openVault,
  parseVaultFile,
  type ScryptParams,
  sealVault,
  vaultKdfOf,
} from "./vault-format.ts";

/** The vault file under the user state folder: `$LEGO_HOME/vault.json`. */
export function vaultPath(legoHome: string): string {
  return join(legoHome, "vault.json");
}

/**
 * Where the vault gets its passphrase. The CLI passes one that returns `LEGO_VAULT_PASSPHRASE`, or asks
 * with a hidden prompt on a TTY (twice when `creating`). Called only when the vault must be opened or
 * created, and at most once per salt for the life of a {@link Vault}.
 */
export type PassphraseProvider = (request: { path: string; creating: boolean }) => Promise<string>;

/** What anything that needs the API token asks of the vault (`resolveTarget` in @lego/cloudflare takes this). */
export interface TokenSource {
  /** The stored API token, or undefined when none is stored. Never prompts when there is no vault file. */
  getToken(): Promise<string | undefined>;
}

/** Which generated secret: one value per service, environment and binding name. */
export interface SecretRef {
  service: string;
  env: string;
  name: string;
}

/** A generated secret kept in the vault so it can be pushed again. */
export interface PersistedSecret extends SecretRef {
  value: string;
  /** The generator type it came from (`jwt`, `database`, `custom`, …), so `rotate` makes the same kind. */
  type: string;
  updatedAt: string;
}

/** Non-secret facts about the vault, for `lego token status`. */
export interface VaultSummary {
  path: string;
  exists: boolean;
  hasToken: boolean;
  tokenSetAt?: string | undefined;
  persistedSecrets: number;
  /** File mode as an octal string, e.g. "600". */
  mode?: string | undefined;
  kdf?: ScryptParams | undefined;
}

/** The encrypted token vault (AES-256-GCM, key from scrypt) with the persisted generated secrets. */
export interface Vault extends TokenSource {
  readonly path: string;
  /** True when the vault file exists (does not open it). */
  exists(): Promise<boolean>;
  /** Stores the API token (creating the vault if needed). */
  setToken(token: string): Promise<void>;
  /** Removes the token; deletes the file when nothing else is left. Returns whether there was one. */
  clearToken(): Promise<boolean>;
  /** The persisted secrets of one service and environment (values included: callers must not print them). */
  getSecrets(filter: { service: string; env: string }): Promise<PersistedSecret[]>;
  /** Stores or replaces persisted secrets in one atomic write. */
  putSecrets(secrets: Array<Omit<PersistedSecret, "updatedAt">>): Promise<void>;
  /** Opens the vault and reports what it holds, never a value. */
  summary(): Promise<VaultSummary>;
  /** Deletes the vault file without opening it (for a lost passphrase). Returns whether it existed. */
  destroy(): Promise<boolean>;
}

/** Options of {@link createVault}. */
export interface VaultOptions {
  /** The user state folder ($LEGO_HOME), resolved by the app. */
  legoHome: string;
  passphrase: PassphraseProvider;
  /** scrypt cost for a new vault; an existing vault keeps the parameters in its header. */
  kdf?: ScryptParams;
  clock?: Clock;
}

interface VaultContents {
  token?: { value: string; setAt: string };
  secrets: Record<string, Omit<PersistedSecret, keyof SecretRef>>;
}

/** The shortest passphrase a new vault accepts. */
export const MIN_PASSPHRASE_LENGTH = 8;
const SECRET_KEY_SEPARATOR = "/";

function secretKey(ref: SecretRef): string {
  return [ref.service, ref.env, ref.name].join(SECRET_KEY_SEPARATOR);
}

function emptyContents(): VaultContents {
  return { secrets: {} };
}

function parseContents(text: string, path: string): VaultContents {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const v = value as VaultContents | undefined;
  const ok =
    typeof v === "object" &&
    v !== null &&
    typeof v.secrets === "object" &&
    v.secrets !== null &&
    (v.token === undefined || typeof v.token.value === "string");
  if (!ok) {
    // Authenticated but unreadable: written by a broken Lego, not by an attacker. Still never guess.
    throw new AuthError({
      code: "ERR_VAULT_UNSUPPORTED",
      message: `The vault ${path} decrypts, but its contents are not a Lego vault`,
      hint: "Run `lego token clear --force` to delete it and store the token again.",
      details: { path },
    });
  }
  return v;
}

function ioError(path: string, action: string, error: unknown): LegoError {
  return new LegoError({
    code: "ERR_VAULT_IO",
    message: `Cannot ${action} the vault ${path}: ${(error as Error).message}`,
    hint: "Check that $LEGO_HOME is writable by you.",
    kind: "system",
    exitCode: 1,
    details: { path },
    cause: error,
  });
}

/**
 * Opens (lazily) the encrypted token vault at `$LEGO_HOME/vault.json`.
 *
 * - AES-256-GCM with a fresh random 12-byte nonce on every write; the key comes from scrypt over the
 *   passphrase and a random salt; the header (format, version, kdf parameters) is the associated data.
 * - The file is written atomically with mode 0600; nothing is ever written in plaintext.
 * - A wrong passphrase or a single changed byte is an `AuthError` (exit 3), never a fallback.
 *
 * @example
 * const vault = createVault({ legoHome, passphrase: async () => env.LEGO_VAULT_PASSPHRASE! });
 * await vault.setToken(token);
 * const target = await resolveTarget({ env, legoHome, vault }); // vault.getToken() is all it uses
 */
export function createVault(options: VaultOptions): Vault {
  const path = vaultPath(options.legoHome);
  const clock = options.clock ?? systemClock;
  const kdfParams = options.kdf ?? defaultScryptParams;
  let key: DerivedKey | undefined;

  async function readText(): Promise<string | undefined> {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw ioError(path, "read", error);
    }
  }

  async function keyFor(params: ScryptParams, salt: string): Promise<DerivedKey> {
    if (
      key &&
      key.salt === salt &&
      key.params.N === params.N &&
      key.params.r === params.r &&
      key.params.p === params.p
    )
      return key;
    const passphrase = await options.passphrase({ path, creating: false });
    key = await deriveVaultKey(passphrase, params, salt);
    return key;
  }

  async function load(): Promise<VaultContents | undefined> {
    const text = await readText();
    if (text === undefined) return undefined;
    const file = parseVaultFile(text, path);
    const { params, salt } = vaultKdfOf(file);
    const derived = await keyFor(params, salt);
    return parseContents(openVault(file, derived, path), path);
  }

  async function newKey(): Promise<DerivedKey> {
    const passphrase = await options.passphrase({ path, creating: true });
    if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
      throw new UsageError({
        code: "ERR_VAULT_PASSPHRASE_WEAK",
        message: `A vault passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters`,
        hint: "Choose a longer passphrase (LEGO_VAULT_PASSPHRASE, or type it when asked).",
      });
    }
    key = await deriveVaultKey(passphrase, kdfParams);
    return key;
  }

  async function lock(): Promise<HeldLock> {
    await mkdir(options.legoHome, { recursive: true, mode: 0o700 });
    // Vault writes take milliseconds; wait out a concurrent lego process instead of failing.
    for (let attempt = 0; ; attempt++) {
      try {
        return await acquireLock(`${path}.lock`, { command: "vault write", breakStale: true });
      } catch (error) {
        if (!isLegoError(error) || error.code !== "ERR_LOCK_HELD" || attempt >= 50) throw error;
        await clock.sleep(100);
      }
    }
  }

  async function update(mutate: (contents: VaultContents) => boolean): Promise<void> {
    const held = await lock();
    try {
      const current = await load();
      const contents = current ?? emptyContents();
      if (!mutate(contents)) return;
      if (!contents.token && Object.keys(contents.secrets).length === 0) {
        await rm(path, { force: true });
        return;
      }
      const derived = current && key ? key : await newKey();
      const sealed = sealVault(JSON.stringify(contents), derived, { token: contents.token !== undefined });
      try {
        await writeFileAtomic(path, sealed, { mode: 0o600 });
      } catch (error) {
        throw ioError(path, "write", error);
      }
    } finally {
      await held.release();
    }
  }

  return {
    path,
    async exists() {
      return (await readText()) !== undefined;
    },
    async getToken() {
      // A vault that says it holds no token (only persisted secrets) is not opened: no passphrase asked.
      const text = await readText();
      if (text === undefined) return undefined;
      if (parseVaultFile(text, path).holds?.token === false) return undefined;
      return (await load())?.token?.value;
    },
    async setToken(token) {
      const at = new Date(clock.now()).toISOString();
      await update((c) => {
        c.token = { value: token, setAt: at };
        return true;
      });
    },
    async clearToken() {
      let had = false;
      await update((c) => {
        had = c.token !== undefined;
        delete c.token;
        return had;
      });
      return had;
    },
    async getSecrets(filter) {
      const contents = await load();
      if (!contents) return [];
      const prefix = `${filter.service}${SECRET_KEY_SEPARATOR}${filter.env}${SECRET_KEY_SEPARATOR}`;
      return Object.entries(contents.secrets)
        .filter(([k]) => k.startsWith(prefix) && !k.slice(prefix.length).includes(SECRET_KEY_SEPARATOR))
        .map(([k, v]) => ({ service: filter.service, env: filter.env, name: k.slice(prefix.length), ...v }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    async putSecrets(secrets) {
      if (secrets.length === 0) return;
      const at = new Date(clock.now()).toISOString();
      await update((c) => {
        for (const s of secrets) c.secrets[secretKey(s)] = { value: s.value, type: s.type, updatedAt: at };
        return true;
      });
    },
    async summary() {
      let mode: string | undefined;
      try {
        mode = ((await stat(path)).mode & 0o777).toString(8);
      } catch {
        mode = undefined;
      }
      const text = await readText();
      if (text === undefined) return { path, exists: false, hasToken: false, persistedSecrets: 0 };
      const contents = await load();
      const file = parseVaultFile(text, path);
      return {
        path,
        exists: true,
        hasToken: contents?.token !== undefined,
        tokenSetAt: contents?.token?.setAt,
        persistedSecrets: Object.keys(contents?.secrets ?? {}).length,
        mode,
        kdf: vaultKdfOf(file).params,
      };
    },
    async destroy() {
      const existed = (await readText()) !== undefined;
      await rm(path, { force: true });
      key = undefined;
      return existed;
    },
  };
}
