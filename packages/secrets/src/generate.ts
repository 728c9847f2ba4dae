import { randomBytes } from "node:crypto";
import { UsageError } from "@lego/core";

/** Where random bytes come from: `crypto.randomBytes` unless a test injects a scripted source. */
export type RandomSource = (size: number) => Uint8Array;

const defaultRandom: RandomSource = (size) => randomBytes(size);

/** Named alphabets for custom secrets. Encodings of raw bytes (`hex`, `base64`, `base64url`) are listed apart. */
export const alphabets = {
  alnum: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
  alpha: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
  lower: "abcdefghijklmnopqrstuvwxyz0123456789",
  numeric: "0123456789",
  // Printable ASCII without quotes, backslash, space and backtick: survives shells, .env files and JSON.
  symbols: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~",
} as const;
/** A named alphabet. */
export type AlphabetName = keyof typeof alphabets;

/** Byte encodings: the value is `bytes` random bytes encoded, so every output is equally likely. */
export type ByteEncoding = "hex" | "base64" | "base64url";

/** How one secret is made: either characters drawn from an alphabet, or random bytes encoded. */
export type SecretFormat =
  | { kind: "chars"; length: number; alphabet: string }
  | { kind: "bytes"; bytes: number; encoding: ByteEncoding };

/** The generator types of the seed's `--types`, plus `custom`. */
export const secretTypeNames = ["jwt", "api-keys", "database", "encryption", "webhook", "custom"] as const;
/** One of {@link secretTypeNames}. */
export type SecretTypeName = (typeof secretTypeNames)[number];

/** One secret to generate: its binding name, its type and its format. */
export interface SecretSpec {
  name: string;
  type: SecretTypeName;
  format: SecretFormat;
}

/** A generated value. Holds a secret: never log it, never put it in an error, a report or argv. */
export interface GeneratedSecret {
  name: string;
  type: SecretTypeName;
  value: string;
}

/**
 * The built-in types: name, what the value is for, and its format.
 * - `jwt`: an HMAC signing key (HS256/HS512): 64 random bytes, base64url.
 * - `api-keys`: an API key: 40 alphanumeric characters (238 bits).
 * - `database`: a database password: 32 alphanumeric characters (190 bits), safe inside connection URLs.
 * - `encryption`: an AES-256 key: 32 random bytes, base64 (decode with `atob` in a Worker).
 * - `webhook`: a webhook signing secret: 32 random bytes, hex.
 */
export const secretTypes: Record<
  Exclude<SecretTypeName, "custom">,
  { name: string; description: string; format: SecretFormat }
> = {
  jwt: {
    name: "JWT_SECRET",
    description: "JWT signing key (HMAC), 64 random bytes, base64url",
    format: { kind: "bytes", bytes: 64, encoding: "base64url" },
  },
  "api-keys": {
    name: "API_KEY",
    description: "API key, 40 alphanumeric characters",
    format: { kind: "chars", length: 40, alphabet: alphabets.alnum },
  },
  database: {
    name: "DATABASE_PASSWORD",
    description: "database password, 32 alphanumeric characters",
    format: { kind: "chars", length: 32, alphabet: alphabets.alnum },
  },
  encryption: {
    name: "ENCRYPTION_KEY",
    description: "AES-256 key, 32 random bytes, base64",
    format: { kind: "bytes", bytes: 32, encoding: "base64" },
  },
  webhook: {
    name: "WEBHOOK_SECRET",
    description: "webhook signing secret, 32 random bytes, hex",
    format: { kind: "bytes", bytes: 32, encoding: "hex" },
  },
};

const typeAliases: Record<string, Exclude<SecretTypeName, "custom">> = {
  jwt: "jwt",
  "jwt-secret": "jwt",
  "jwt-key": "jwt",
  "api-keys": "api-keys",
  "api-key": "api-keys",
  api: "api-keys",
  database: "database",
  db: "database",
  "database-password": "database",
  encryption: "encryption",
  "encryption-key": "encryption",
  "encryption-keys": "encryption",
  webhook: "webhook",
  webhooks: "webhook",
  "webhook-secret": "webhook",
};

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MIN_LENGTH = 8;
const MAX_LENGTH = 4096;

/** Throws `ERR_SECRET_NAME_INVALID` (exit 2) unless `name` is a valid binding name (`[A-Za-z_][A-Za-z0-9_]*`). */
export function assertSecretName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError({
      code: "ERR_SECRET_NAME_INVALID",
      message: `"${name}" is not a valid secret name`,
      hint: "Use letters, digits and underscores, not starting with a digit (e.g. API_KEY).",
      details: { name },
    });
  }
}

/** The spec of a built-in type, optionally under another binding name. */
export function specForType(type: Exclude<SecretTypeName, "custom">, name?: string): SecretSpec {
  const def = secretTypes[type];
  const specName = name ?? def.name;
  assertSecretName(specName);
  return { name: specName, type, format: def.format };
}

/**
 * Parses the seed's `--types` (a comma-separated list or an array): `database,api-keys,jwt`. Aliases
 * such as `db`, `api-key`, `webhooks` are accepted; an unknown type is exit 2 listing the known ones.
 */
export function parseSecretTypes(input: string | readonly string[]): SecretSpec[] {
  const items = (typeof input === "string" ? input.split(",") : input.flatMap((i) => i.split(",")))
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const specs: SecretSpec[] = [];
  for (const item of items) {
    const type = typeAliases[item];
    if (!type) {
      throw new UsageError({
        code: "ERR_SECRET_TYPE_UNKNOWN",
        message: `Unknown secret type "${item}"`,
        hint: `Known types: ${Object.keys(secretTypes).join(", ")}; for anything else use --custom NAME:LENGTH[:ALPHABET].`,
        details: { type: item },
      });
    }
    if (!specs.some((s) => s.type === type)) specs.push(specForType(type));
  }
  return specs;
}

function invalidSpec(input: string, why: string): UsageError {
  return new UsageError({
    code: "ERR_SECRET_SPEC_INVALID",
    message: `Invalid custom secret "${input}": ${why}`,
    hint: `Write NAME:LENGTH[:ALPHABET] with LENGTH ${MIN_LENGTH}-${MAX_LENGTH} and ALPHABET one of ${Object.keys(alphabets).join(", ")}, hex, base64, base64url, or chars=<at least 2 distinct characters>.`,
    details: { spec: input },
  });
}

/**
 * Validates a custom format: a length in 8..4096 and an alphabet of 2..256 distinct characters (for
 * `chars`), or 8..4096 bytes (for byte encodings).
 */
export function customSpec(name: string, format: SecretFormat): SecretSpec {
  assertSecretName(name);
  const label = `${name}`;
  if (format.kind === "chars") {
    if (!Number.isInteger(format.length) || format.length < MIN_LENGTH || format.length > MAX_LENGTH)
      throw invalidSpec(label, `length ${format.length} is out of range`);
    const distinct = new Set(format.alphabet);
    if (distinct.size !== [...format.alphabet].length)
      throw invalidSpec(label, "the alphabet repeats a character (that would bias the output)");
    if (distinct.size < 2 || distinct.size > 256)
      throw invalidSpec(label, `the alphabet has ${distinct.size} characters`);
  } else if (!Number.isInteger(format.bytes) || format.bytes < MIN_LENGTH || format.bytes > MAX_LENGTH) {
    throw invalidSpec(label, `${format.bytes} bytes is out of range`);
  }
  return { name, type: "custom", format };
}

/**
 * Parses `--custom NAME:LENGTH[:ALPHABET]`, e.g. `SESSION_KEY:48`, `PIN:8:numeric`, `SALT:32:hex`
 * (32 random bytes, hex), `CODE:12:chars=ABCDEFGHJKLMNPQRSTUVWXYZ23456789`. The default alphabet is `alnum`.
 */
export function parseCustomSecret(input: string): SecretSpec {
  const [name = "", lengthText = "", ...rest] = input.split(":");
  const alphabetText = rest.join(":");
  if (!NAME_PATTERN.test(name)) throw invalidSpec(input, "the name must be like API_KEY");
  if (!/^\d+$/.test(lengthText)) throw invalidSpec(input, "the length must be a whole number");
  const length = Number(lengthText);
  if (alphabetText === "hex" || alphabetText === "base64" || alphabetText === "base64url")
    return customSpec(name, { kind: "bytes", bytes: length, encoding: alphabetText });
  let alphabet: string;
  if (alphabetText === "") alphabet = alphabets.alnum;
  else if (alphabetText.startsWith("chars=")) alphabet = alphabetText.slice("chars=".length);
  else if (alphabetText in alphabets) alphabet = alphabets[alphabetText as AlphabetName];
  else throw invalidSpec(input, `unknown alphabet "${alphabetText}"`);
  return customSpec(name, { kind: "chars", length, alphabet });
}

/**
 * `length` characters drawn uniformly from `alphabet` with rejection sampling over random bytes: a byte
 * is used only when it falls below the largest multiple of the alphabet size, so no character is favoured.
 */
export function randomString(length: number, alphabet: string, random: RandomSource = defaultRandom): string {
  const chars = [...alphabet];
  const size = chars.length;
  if (size < 2 || size > 256) throw new RangeError(`alphabet size ${size} is outside 2..256`);
  const limit = 256 - (256 % size);
  const out: string[] = [];
  while (out.length < length) {
    // Ask for a little more than needed so one call usually suffices despite rejections.
    const batch = random(Math.ceil((length - out.length) * 1.25) + 8);
    for (const byte of batch) {
      if (byte >= limit) continue;
      out.push(chars[byte % size] as string);
      if (out.length === length) break;
    }
  }
  return out.join("");
}

/** Generates one value for a spec. */
export function generateValue(format: SecretFormat, random: RandomSource = defaultRandom): string {
  if (format.kind === "chars") return randomString(format.length, format.alphabet, random);
  return Buffer.from(random(format.bytes)).toString(format.encoding);
}

/** Guesses a generator type from a required secret's name, for required secrets that declare none. */
export function inferSecretType(name: string): Exclude<SecretTypeName, "custom"> {
  const n = name.toUpperCase();
  if (n.includes("JWT")) return "jwt";
  if (n.includes("WEBHOOK")) return "webhook";
  if (n.includes("ENCRYPTION") || n.includes("CIPHER") || n.endsWith("_ENC_KEY")) return "encryption";
  if (n.includes("PASSWORD") || n.includes("DATABASE") || n.startsWith("DB_")) return "database";
  return "api-keys";
}

/**
 * The seed's `EnhancedSecretManager.generateSecrets(types)`, as a function: generates one value per
 * spec (or per type name). Values come from `crypto.randomBytes`.
 *
 * @example
 * const secrets = generateSecrets(["database", "api-keys", "jwt"]);
 * // [{ name: "DATABASE_PASSWORD", type: "database", value: "…" }, …]
 */
export function generateSecrets(
  types: string | readonly string[] | readonly SecretSpec[],
  random: RandomSource = defaultRandom,
): GeneratedSecret[] {
  const specs: SecretSpec[] =
    typeof types === "string" || types.every((t) => typeof t === "string")
      ? parseSecretTypes(types as string | string[])
      : (types as SecretSpec[]);
  return specs.map((spec) => ({
    name: spec.name,
    type: spec.type,
    value: generateValue(spec.format, random),
  }));
}
