/** Deploy a service for real: plan, deploy with wrangler, wait until live, production tests, audit and rollback. */
export const packageName = "@lego/deployment";
