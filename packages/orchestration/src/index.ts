/** Deploys many services at once, in dependency order, with bounded parallelism. */
export const packageName = "@lego/orchestration";
