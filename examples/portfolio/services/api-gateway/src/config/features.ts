/** The feature flags of api-gateway. Defaults and per-environment values live in ./domains.ts. */
export const FEATURES = {
  /** Forward /auth/* to the auth service. */
  AUTH_PROXY: "authProxy",
  /** Forward /data/* to the data service. */
  DATA_PROXY: "dataProxy",
} as const;

/** One of the flag names of this service. */
export type Feature = (typeof FEATURES)[keyof typeof FEATURES];
