/** The local cloud: Cloudflare's v4 REST API on 127.0.0.1, running what is deployed in workerd, D1 on SQLite. */
export const packageName = "@lego/emulator";
