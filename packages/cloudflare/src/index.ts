/** The one place that talks to Cloudflare: API client, wrangler runner, targets and credentials, retries, error translation. */
export const packageName = "@lego/cloudflare";
