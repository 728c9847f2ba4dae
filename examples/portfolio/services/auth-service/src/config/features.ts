/** The feature flags of auth-service. Defaults and per-environment values live in ./domains.ts. */
export const FEATURES = {
  /** Issue new tokens at POST /token. */
  TOKEN_ISSUING: "tokenIssuing",
} as const;

/** One of the flag names of this service. */
export type Feature = (typeof FEATURES)[keyof typeof FEATURES];
