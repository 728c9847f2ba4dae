/** One upstream of the gateway: requests under `prefix` go to the bound service with the prefix removed. */
export interface Upstream {
  prefix: string;
  binding: Fetcher;
}

/** True when `pathname` is `prefix` or below it (`/auth`, `/auth/token`, not `/authx`). */
export function matchesPrefix(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/**
 * Forwards `request` to the upstream: `/auth/token?x=1` reaches the auth service as `/token?x=1`, with the
 * method, headers and body unchanged, plus `x-forwarded-host` naming the host the client called.
 */
export function forward(request: Request, upstream: Upstream): Promise<Response> {
  const url = new URL(request.url);
  const rest = url.pathname.slice(upstream.prefix.length) || "/";
  const target = new URL(rest + url.search, url.origin);
  const forwarded = new Request(target, request);
  forwarded.headers.set("x-forwarded-host", url.host);
  return upstream.binding.fetch(forwarded);
}
