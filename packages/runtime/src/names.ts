// The name rules shared by the schema (validation) and the Worker side (resolution). Kept free of zod so the
// Worker bundle does not pay for it.

/** A service name: a Worker script name (lowercase letters, digits and `-`, at most 63 characters). */
export const SERVICE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** An environment name, as wrangler's `--env` takes it. */
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
/** A feature flag name, e.g. `premiumFeatures`. */
export const FLAG_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;
/** A binding name (var or secret), e.g. `API_KEY`. */
export const BINDING_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
/** A Cloudflare account or zone id: 32 hex digits. */
export const CLOUDFLARE_ID = /^[0-9a-f]{32}$/i;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** True for a fully qualified hostname such as `api.example.com` (no scheme, port, path or wildcard). */
export function isHostname(value: string): boolean {
  if (value.length > 253) return false;
  const labels = value.split(".");
  if (labels.length < 2) return false;
  for (const label of labels) if (!LABEL.test(label)) return false;
  // "10.0.0.1" is an address, not a hostname: a top-level label is never all digits.
  return !/^\d+$/.test(labels[labels.length - 1] ?? "");
}

/**
 * The hostname a request was addressed to, as the domain config spells it: lowercased, without the port,
 * and without the `.localhost` suffix the local cloud serves Workers under (`api.example.com.localhost:8787`).
 */
export function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  const colon = h.lastIndexOf(":");
  if (colon !== -1 && !h.endsWith("]")) h = h.slice(0, colon);
  if (h.endsWith(".")) h = h.slice(0, -1);
  if (h.endsWith(".localhost")) h = h.slice(0, -".localhost".length);
  return h;
}

/** The `FEATURE_*` binding names that override a flag: `premiumFeatures` → `FEATURE_PREMIUMFEATURES`, `FEATURE_PREMIUM_FEATURES`. */
export function featureBindingNames(flag: string): string[] {
  const compact = `FEATURE_${flag.replace(/[^A-Za-z0-9]/g, "").toUpperCase()}`;
  const snake = `FEATURE_${flag
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toUpperCase()}`;
  return compact === snake ? [compact] : [compact, snake];
}
