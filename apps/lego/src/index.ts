/** The lego CLI: deploy, test, roll back and audit a portfolio of Cloudflare Workers services. */
export const packageName = "lego";
