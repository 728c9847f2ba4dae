const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The claims a token carries. */
export interface TokenClaims {
  /** Who the token is for. */
  sub: string;
  /** The service that issued it. */
  iss: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
}

/** The shortest JWT_SECRET accepted: HS256 keys should carry at least 256 bits. */
export const MIN_SECRET_LENGTH = 32;

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function importKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

const HEADER = toBase64Url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

/** Signs `claims` into a compact JWT. */
export async function signToken(claims: TokenClaims, secret: string): Promise<string> {
  const payload = toBase64Url(encoder.encode(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign(
    "HMAC",
    await importKey(secret),
    encoder.encode(`${HEADER}.${payload}`),
  );
  return `${HEADER}.${payload}.${toBase64Url(new Uint8Array(signature))}`;
}

/**
 * The claims of a token signed with `secret` and not expired at `nowSeconds`, or undefined.
 * The signature check is Web Crypto's `verify`, which compares in constant time.
 */
export async function verifyToken(
  token: string,
  secret: string,
  nowSeconds: number,
): Promise<TokenClaims | undefined> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
  const signature = fromBase64Url(parts[2]!);
  const payload = fromBase64Url(parts[1]!);
  if (!signature || !payload) return undefined;
  const valid = await crypto.subtle.verify(
    "HMAC",
    await importKey(secret),
    signature,
    encoder.encode(`${parts[0]}.${parts[1]}`),
  );
  if (!valid) return undefined;
  let claims: TokenClaims;
  try {
    claims = JSON.parse(decoder.decode(payload)) as TokenClaims;
  } catch {
    return undefined;
  }
  if (typeof claims.sub !== "string" || typeof claims.exp !== "number") return undefined;
  return claims.exp > nowSeconds ? claims : undefined;
}

/** The token in an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(request: Request): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1];
}
