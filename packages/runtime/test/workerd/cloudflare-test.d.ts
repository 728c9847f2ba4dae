// The slice of `cloudflare:test` these tests use (the plugin's own types need @cloudflare/workers-types).
declare module "cloudflare:test" {
  export const env: Record<string, unknown>;
  export const SELF: { fetch(input: string | Request | URL, init?: RequestInit): Promise<Response> };
}
