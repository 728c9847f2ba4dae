import { createHash, randomBytes, randomUUID } from "node:crypto";

/** 32 lowercase hex characters, random. */
export function randomHex32(): string {
  return randomBytes(16).toString("hex");
}

/** A v4 UUID. */
export function uuid(): string {
  return randomUUID();
}

/** 32 hex characters derived from `value`, stable across runs (zone ids from zone names). */
export function stableHex32(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 32);
}

/** sha-256 hex of bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** md5 hex of bytes (the ETag D1 import uploads answer with). */
export function md5Hex(data: Uint8Array | string): string {
  return createHash("md5").update(data).digest("hex");
}

/** ISO timestamp of now. */
export function nowIso(): string {
  return new Date().toISOString();
}
