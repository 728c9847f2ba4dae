/** The feature flags of inventory. Defaults and per-environment values live in ./domains.ts. */
export const FEATURES = {
  /** Allow creating, updating and deleting notes (reads stay on when off). */
  NOTES_WRITE: "notesWrite",
} as const;

/** One of the flag names of this service. */
export type Feature = (typeof FEATURES)[keyof typeof FEATURES];
