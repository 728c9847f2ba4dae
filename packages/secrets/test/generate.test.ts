import { describe, expect, it } from "vitest";
import {
  alphabets,
  type GeneratedSecret,
  generateSecrets,
  inferSecretType,
  parseCustomSecret,
  parseSecretTypes,
  type RandomSource,
  randomString,
  secretTypes,
} from "../src/index.ts";

function scripted(bytes: number[]): RandomSource & { calls: number[] } {
  const queue = [...bytes];
  const calls: number[] = [];
  const source = (size: number) => {
    calls.push(size);
    return Uint8Array.from(queue.splice(0, size));
  };
  return Object.assign(source, { calls });
}

const byName = (secrets: GeneratedSecret[], name: string) =>
  secrets.find((s) => s.name === name)?.value ?? "";

describe("generateSecrets", () => {
  it("makes each built-in type with its documented name, length and alphabet", () => {
    const secrets = generateSecrets("database,api-keys,jwt,encryption,webhook");
    expect(secrets.map((s) => s.name)).toEqual([
      "DATABASE_PASSWORD",
      "API_KEY",
      "JWT_SECRET",
      "ENCRYPTION_KEY",
      "WEBHOOK_SECRET",
    ]);
    expect(byName(secrets, "DATABASE_PASSWORD")).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(byName(secrets, "API_KEY")).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(byName(secrets, "JWT_SECRET")).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(Buffer.from(byName(secrets, "JWT_SECRET"), "base64url")).toHaveLength(64);
    expect(Buffer.from(byName(secrets, "ENCRYPTION_KEY"), "base64")).toHaveLength(32);
    expect(byName(secrets, "ENCRYPTION_KEY")).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(byName(secrets, "WEBHOOK_SECRET")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("never repeats a value", () => {
    const values = new Set<string>();
    for (let i = 0; i < 500; i++) for (const s of generateSecrets(["api-keys", "jwt"])) values.add(s.value);
    expect(values.size).toBe(1000);
  });

  it("accepts the seed's spellings and aliases, once each, and names the known types on a typo", () => {
    expect(parseSecretTypes(["db", "API-Key", "jwt,jwt-secret"]).map((s) => s.type)).toEqual([
      "database",
      "api-keys",
      "jwt",
    ]);
    expect(() => parseSecretTypes("database,passwords")).toThrowError(
      expect.objectContaining({
        code: "ERR_SECRET_TYPE_UNKNOWN",
        exitCode: 2,
        hint: expect.stringContaining("api-keys"),
      }),
    );
  });
});

describe("randomString (rejection sampling)", () => {
  it("drops bytes at or above the largest multiple of the alphabet size", () => {
    // 62 characters: 256 - 256 % 62 = 248, so 248..255 are rejected.
    const random = scripted([248, 255, 0, 61, 62, 247, 250, 1]);
    expect(randomString(4, alphabets.alnum, random)).toBe("A9A9");
  });

  it("asks for more bytes when too many are rejected", () => {
    // 3 characters: 255 is the one rejected byte. The first batch is all rejections.
    const random = scripted([...Array(11).fill(255), 1, 255, 2, 3]);
    expect(randomString(2, "abc", random)).toBe("bc");
    expect(random.calls).toHaveLength(2);
  });

  it("is uniform where a plain modulo would double some characters", () => {
    // With 129 characters, byte % 129 would pick characters 0..126 twice as often as 127 and 128.
    const alphabet = Array.from({ length: 129 }, (_, i) => String.fromCodePoint(0x100 + i)).join("");
    const counts = new Map<string, number>();
    for (const ch of randomString(129 * 400, alphabet)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    const low = (counts.get(alphabet[0] as string) ?? 0) + (counts.get(alphabet[1] as string) ?? 0);
    const high = (counts.get(alphabet[127] as string) ?? 0) + (counts.get(alphabet[128] as string) ?? 0);
    expect(counts.size).toBe(129);
    expect(high / low).toBeGreaterThan(0.7);
    expect(high / low).toBeLessThan(1.4);
  });
});

describe("custom secrets", () => {
  it("parses NAME:LENGTH[:ALPHABET]", () => {
    const [session, pin, salt, code, url] = [
      "SESSION_KEY:48",
      "PIN_CODE:8:numeric",
      "SALT:24:hex",
      "CODE:12:chars=ABCDEFGHJKLMNPQRSTUVWXYZ23456789",
      "URL_KEY:16:base64url",
    ].map(parseCustomSecret);
    const values = generateSecrets([session!, pin!, salt!, code!, url!]);
    expect(byName(values, "SESSION_KEY")).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(byName(values, "PIN_CODE")).toMatch(/^[0-9]{8}$/);
    expect(byName(values, "SALT")).toMatch(/^[0-9a-f]{48}$/);
    expect(byName(values, "CODE")).toMatch(/^[A-HJ-NP-Z2-9]{12}$/);
    expect(Buffer.from(byName(values, "URL_KEY"), "base64url")).toHaveLength(16);
    expect(values.every((v) => v.type === "custom")).toBe(true);
  });

  it("rejects bad names, lengths and alphabets with exit 2", () => {
    for (const bad of [
      "1ABC:32",
      "KEY:4",
      "KEY:abc",
      "KEY:99999",
      "KEY:16:klingon",
      "KEY:16:chars=a",
      "KEY:16:chars=aab",
    ]) {
      expect(() => parseCustomSecret(bad), bad).toThrowError(
        expect.objectContaining({ code: "ERR_SECRET_SPEC_INVALID", exitCode: 2 }),
      );
    }
  });
});

describe("inferSecretType", () => {
  it("guesses the kind of a required secret from its name", () => {
    expect(inferSecretType("JWT_SIGNING_KEY")).toBe("jwt");
    expect(inferSecretType("STRIPE_WEBHOOK_SECRET")).toBe("webhook");
    expect(inferSecretType("DATA_ENCRYPTION_KEY")).toBe("encryption");
    expect(inferSecretType("DB_PASSWORD")).toBe("database");
    expect(inferSecretType("PARTNER_API_KEY")).toBe("api-keys");
    expect(Object.keys(secretTypes)).toHaveLength(5);
  });
});
