/**
 * `bytes` random bytes as hex, for unique file and run names. From the Web Crypto global, which Node
 * loads on first use: a static import of node:crypto costs every command ~10 ms at start-up.
 */
export function randomHex(bytes: number): string {
  const buf = globalThis.crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const b of buf) out += b.toString(16).padStart(2, "0");
  return out;
}
