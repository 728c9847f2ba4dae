import type { CloudState } from "../state/types.ts";

/** Where an incoming request goes: the API, a Worker script, or nowhere. */
export type HostTarget =
  | { kind: "api" }
  | { kind: "script"; script: string; hostname: string }
  | { kind: "none"; hostname: string };

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1", "0.0.0.0"]);

/** Splits a Host header into hostname (lowercase) and strips the port. */
export function hostnameOf(hostHeader: string | undefined): string {
  const host = (hostHeader ?? "").trim().toLowerCase();
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

/**
 * The hostname a Worker sees: `api.example.com.localhost` → `api.example.com`. Browsers resolve every
 * `*.localhost` name to loopback, which is what makes the `.localhost` form reachable without DNS.
 */
export function canonicalHostname(hostname: string): string {
  return hostname.endsWith(".localhost") ? hostname.slice(0, -".localhost".length) : hostname;
}

/** Compiles a Cloudflare route pattern (`*.example.com/api/*`) to a matcher of `host + path`. */
export function routeMatcher(pattern: string): RegExp {
  const withoutScheme = pattern.replace(/^https?:\/\//i, "");
  const slash = withoutScheme.indexOf("/");
  const host = slash === -1 ? withoutScheme : withoutScheme.slice(0, slash);
  const path = slash === -1 ? "/*" : withoutScheme.slice(slash);
  const esc = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  const hostRe = esc(host.toLowerCase()).replace(/\*/g, "[^/]*");
  const pathRe = esc(path).replace(/\*/g, ".*");
  return new RegExp(`^${hostRe}${pathRe}$`);
}

/**
 * Resolves a request to a target, in Cloudflare's order: custom domain (exact hostname), then the most
 * specific matching route, then `<script>.<accountSubdomain>.workers.dev` for scripts with workers.dev on.
 * The loopback names (127.0.0.1, localhost) are the API.
 */
export function resolveHost(state: CloudState, hostHeader: string | undefined, path: string): HostTarget {
  const raw = hostnameOf(hostHeader);
  if (raw === "" || LOOPBACK.has(raw)) return { kind: "api" };
  const hostname = canonicalHostname(raw);
  const domain = state.domains.find((d) => d.hostname === hostname);
  if (domain && state.scripts[domain.service]) return { kind: "script", script: domain.service, hostname };
  const pathOnly = path.split("?")[0] ?? "/";
  const matches = state.routes
    .filter((r) => routeMatcher(r.pattern).test(hostname + pathOnly))
    .sort((a, b) => b.pattern.length - a.pattern.length);
  const route = matches[0];
  if (route && state.scripts[route.script]) return { kind: "script", script: route.script, hostname };
  const suffix = `.${state.accountSubdomain}.workers.dev`;
  if (hostname.endsWith(suffix)) {
    const name = hostname.slice(0, -suffix.length);
    const script = state.scripts[name];
    if (script?.subdomain.enabled) return { kind: "script", script: name, hostname };
  }
  return { kind: "none", hostname };
}
