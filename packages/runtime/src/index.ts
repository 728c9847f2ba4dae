/** Worker-side helpers: the domain config schema, initializeService, feature flags and guards. Runs in Workers (no node: imports). */
export const packageName = "@lego/runtime";
