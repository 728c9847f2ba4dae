/** The feature flags of website. Defaults and per-environment values live in ./domains.ts. */
export const FEATURES = {
  /** Serve the /beta page (on in development and staging, off in production). */
  BETA_PREVIEW: "betaPreview",
} as const;

/** One of the flag names of this service. */
export type Feature = (typeof FEATURES)[keyof typeof FEATURES];
