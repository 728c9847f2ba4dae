import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
} from "node:crypto";
import { AuthError } from "@lego/core";

/** The `format` field of every vault file. */
export const VAULT_FORMAT = "lego-vault";
/** The vault format version this Lego writes and reads. */
export const VAULT_VERSION = 1;

/**
 * scrypt cost parameters, stored in the vault header so a later Lego can raise the defaults and still
 * open older vaults. `N` is the CPU/memory cost (a power of two), `r` the block size, `p` the parallelism.
 */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * Default cost: N=2^17, r=8, p=1 (128 MiB, about a quarter of a second on a small machine), the
 * OWASP recommendation for scrypt. One derivation per command; the key is cached for the command's life.
 */
export const defaultScryptParams: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

// A tampered header must not make us allocate gigabytes before the tag check can fail.
const LIMITS = { minLogN: 10, maxLogN: 20, maxR: 32, maxP: 16 } as const;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_CHECK_BYTES = 16;
const KEY_CHECK_LABEL = "lego-vault/v1/key-check";

/**
 * The vault file header: everything but the encrypted payload. Format, version, cipher and kdf parameters
 * are bound to the payload as associated data.
 */
export interface VaultHeader {
  format: typeof VAULT_FORMAT;
  version: typeof VAULT_VERSION;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: "aes-256-gcm";
  /** A MAC of a fixed label under a subkey: tells a wrong passphrase from a modified file. */
  keyCheck: string;
  /**
   * What the payload holds, readable without the passphrase (and bound to it as associated data), so a
   * command that only wants the API token does not ask for the passphrase of a vault that has none.
   * Absent in vaults written before it existed.
   */
  holds?: { token: boolean } | undefined;
}

/** The whole vault file, as stored (base64 fields). */
export interface VaultFile extends VaultHeader {
  nonce: string;
  ciphertext: string;
  tag: string;
}

/** A key derived from the passphrase for one salt: the AES key and the key-check subkey. */
export interface DerivedKey {
  salt: string;
  params: ScryptParams;
  encryptionKey: Buffer;
  keyCheck: string;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** True when the parameters are within the bounds Lego accepts (a power-of-two N between 2^10 and 2^20). */
export function isValidScryptParams(params: ScryptParams): boolean {
  const { N, r, p } = params;
  return (
    isPowerOfTwo(N) &&
    N >= 2 ** LIMITS.minLogN &&
    N <= 2 ** LIMITS.maxLogN &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= LIMITS.maxR &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= LIMITS.maxP
  );
}

function scrypt(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const maxmem = 128 * params.N * params.r * params.p + 32 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCallback(
      passphrase.normalize("NFC"),
      salt,
      64,
      { N: params.N, r: params.r, p: params.p, maxmem },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/**
 * Derives the vault keys from a passphrase with scrypt: 64 bytes, the first half the AES-256-GCM key,
 * the second half the subkey of the key check. A new random salt unless one is given.
 */
export async function deriveVaultKey(
  passphrase: string,
  params: ScryptParams = defaultScryptParams,
  salt: string = randomBytes(SALT_BYTES).toString("base64"),
): Promise<DerivedKey> {
  const material = await scrypt(passphrase, Buffer.from(salt, "base64"), params);
  const encryptionKey = material.subarray(0, 32);
  const keyCheck = createHmac("sha256", material.subarray(32))
    .update(KEY_CHECK_LABEL)
    .digest()
    .subarray(0, KEY_CHECK_BYTES)
    .toString("base64");
  return { salt, params: { ...params }, encryptionKey, keyCheck };
}

function headerOf(key: DerivedKey, holds?: { token: boolean }): VaultHeader {
  return {
    format: VAULT_FORMAT,
    version: VAULT_VERSION,
    kdf: { name: "scrypt", N: key.params.N, r: key.params.r, p: key.params.p, salt: key.salt },
    cipher: "aes-256-gcm",
    keyCheck: key.keyCheck,
    ...(holds ? { holds: { token: holds.token } } : {}),
  };
}

// Key order is fixed here, so the associated data and the file text are canonical.
function canonicalHeader(h: VaultHeader): VaultHeader {
  return {
    format: h.format,
    version: h.version,
    kdf: { name: h.kdf.name, N: h.kdf.N, r: h.kdf.r, p: h.kdf.p, salt: h.kdf.salt },
    cipher: h.cipher,
    keyCheck: h.keyCheck,
    ...(h.holds ? { holds: { token: h.holds.token } } : {}),
  };
}

// The key check stays out of the associated data: it is verified on its own, and keeping it out lets a
// modified key check be told apart from a wrong passphrase.
function associatedData(header: VaultHeader): Buffer {
  const { format, version, kdf, cipher, holds } = canonicalHeader(header);
  return Buffer.from(JSON.stringify({ format, version, kdf, cipher, ...(holds ? { holds } : {}) }), "utf8");
}

/** The canonical text of a vault file: fixed key order, two-space indent, a trailing newline. */
export function serializeVaultFile(file: VaultFile): string {
  const doc: VaultFile = {
    ...canonicalHeader(file),
    nonce: file.nonce,
    ciphertext: file.ciphertext,
    tag: file.tag,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Encrypts a plaintext with AES-256-GCM under a derived key, with a fresh random 12-byte nonce and
 * the header (format, version, kdf parameters, what it holds) as associated data. Returns the file text.
 */
export function sealVault(plaintext: string, key: DerivedKey, holds?: { token: boolean }): string {
  const header = headerOf(key, holds);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key.encryptionKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(header));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return serializeVaultFile({
    ...header,
    nonce: nonce.toString("base64"),
    ciphertext: ciphertext.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  });
}

function tampered(path: string, why: string): AuthError {
  return new AuthError({
    code: "ERR_VAULT_TAMPERED",
    message: `The vault ${path} was modified or is damaged (${why}); it cannot be trusted`,
    hint: "Restore it from a backup, or run `lego token clear --force` to delete it and store the token again.",
    details: { path },
  });
}

// Buffer.from(…, "base64") skips characters it does not know; a flipped byte must not slip through that way.
function strictBase64(value: unknown, bytes: number | undefined, path: string, field: string): Buffer {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
    throw tampered(path, `${field} is not base64`);
  const decoded = Buffer.from(value, "base64");
  if (decoded.toString("base64") !== value) throw tampered(path, `${field} is not canonical base64`);
  if (bytes !== undefined && decoded.length !== bytes)
    throw tampered(path, `${field} has ${decoded.length} bytes, expected ${bytes}`);
  return decoded;
}

const FILE_KEYS = ["format", "version", "kdf", "cipher", "keyCheck", "nonce", "ciphertext", "tag"];
const KDF_KEYS = ["name", "N", "r", "p", "salt"];

function sameKeys(value: unknown, keys: string[]): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => own.includes(k));
}

/**
 * Parses a vault file strictly: exact keys, canonical text (so even a changed space is caught),
 * strict base64, sane kdf bounds. Does not decrypt. Every failure is an `AuthError` (exit 3).
 */
export function parseVaultFile(text: string, path: string): VaultFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw tampered(path, "not valid JSON");
  }
  if (typeof doc === "object" && doc !== null && !Array.isArray(doc)) {
    const d = doc as Record<string, unknown>;
    if (d.format === VAULT_FORMAT && typeof d.version === "number" && d.version !== VAULT_VERSION) {
      throw new AuthError({
        code: "ERR_VAULT_UNSUPPORTED",
        message: `The vault ${path} has format version ${String(d.version)}; this Lego reads version ${VAULT_VERSION}`,
        hint: "Use the Lego version that wrote it, or run `lego token clear --force` and store the token again.",
        details: { path, version: d.version },
      });
    }
  }
  if (!sameKeys(doc, FILE_KEYS) && !sameKeys(doc, [...FILE_KEYS, "holds"]))
    throw tampered(path, "unexpected fields");
  if ("holds" in doc && (!sameKeys(doc.holds, ["token"]) || typeof doc.holds.token !== "boolean"))
    throw tampered(path, "unknown holds field");
  if (doc.format !== VAULT_FORMAT || doc.version !== VAULT_VERSION || doc.cipher !== "aes-256-gcm")
    throw tampered(path, "unknown format, version or cipher");
  const kdf = doc.kdf;
  if (!sameKeys(kdf, KDF_KEYS) || kdf.name !== "scrypt") throw tampered(path, "unknown key derivation");
  const params = { N: kdf.N, r: kdf.r, p: kdf.p } as ScryptParams;
  if (!isValidScryptParams(params)) throw tampered(path, "key derivation parameters out of bounds");
  strictBase64(kdf.salt, SALT_BYTES, path, "kdf.salt");
  strictBase64(doc.keyCheck, KEY_CHECK_BYTES, path, "keyCheck");
  strictBase64(doc.nonce, NONCE_BYTES, path, "nonce");
  strictBase64(doc.ciphertext, undefined, path, "ciphertext");
  strictBase64(doc.tag, TAG_BYTES, path, "tag");
  const file = doc as unknown as VaultFile;
  if (serializeVaultFile(file) !== text) throw tampered(path, "not in canonical form");
  return file;
}

/** The scrypt parameters and salt a parsed vault file was sealed with. */
export function vaultKdfOf(file: VaultFile): { params: ScryptParams; salt: string } {
  return { params: { N: file.kdf.N, r: file.kdf.r, p: file.kdf.p }, salt: file.kdf.salt };
}

/**
 * Decrypts a parsed vault file with a key derived for its salt. A key check that does not match is a
 * wrong passphrase (`ERR_VAULT_PASSPHRASE`); a tag that does not verify is tampering (`ERR_VAULT_TAMPERED`).
 * Both are exit 3, and nothing is ever returned unauthenticated.
 */
export function openVault(file: VaultFile, key: DerivedKey, path: string): string {
  const expected = Buffer.from(file.keyCheck, "base64");
  const actual = Buffer.from(key.keyCheck, "base64");
  const keyMatches = expected.length === actual.length && timingSafeEqual(expected, actual);
  const plaintext = decrypt(file, key);
  if (plaintext !== undefined && keyMatches) return plaintext;
  if (plaintext !== undefined) throw tampered(path, "key check modified");
  if (keyMatches) throw tampered(path, "authentication tag mismatch");
  throw new AuthError({
    code: "ERR_VAULT_PASSPHRASE",
    message: `The passphrase does not open the vault ${path} (or the vault's header was modified)`,
    hint: "Check LEGO_VAULT_PASSPHRASE (or what you typed). If it is lost, `lego token clear --force` deletes the vault.",
    details: { path },
  });
}

function decrypt(file: VaultFile, key: DerivedKey): string | undefined {
  const header: VaultHeader = {
    format: file.format,
    version: file.version,
    kdf: file.kdf,
    cipher: file.cipher,
    keyCheck: file.keyCheck,
    ...(file.holds ? { holds: file.holds } : {}),
  };
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.encryptionKey, Buffer.from(file.nonce, "base64"), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(associatedData(header));
    decipher.setAuthTag(Buffer.from(file.tag, "base64"));
    return Buffer.concat([
      decipher.update(Buffer.from(file.ciphertext, "base64")),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    return undefined;
  }
}
