import type { Handler } from "./context.ts";

/** A route: method, path pattern with `:params` (one segment) and a last `*param` (the rest), handler. */
export interface Route {
  method: string;
  pattern: string;
  handler: Handler;
}

interface CompiledRoute extends Route {
  re: RegExp;
  keys: string[];
}

/** Matches method + path against a table of routes. */
export class Router {
  readonly #routes: CompiledRoute[] = [];

  /** Adds routes; earlier routes win on ties. */
  add(routes: readonly Route[]): this {
    for (const r of routes) {
      const keys: string[] = [];
      const re = new RegExp(
        `^${r.pattern
          .split("/")
          .map((seg) => {
            if (seg.startsWith("*")) {
              keys.push(seg.slice(1));
              return "(.+)";
            }
            if (seg.startsWith(":")) {
              keys.push(seg.slice(1));
              return "([^/]+)";
            }
            return seg.replace(/[.+?^${}()|[\]\\*]/g, "\\$&");
          })
          .join("/")}/?$`,
      );
      this.#routes.push({ ...r, re, keys });
    }
    return this;
  }

  /**
   * Finds the handler and path parameters for `method path`, or `undefined` when no route has both
   * that method and a matching path (the caller answers 501 naming method and path).
   */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    for (const r of this.#routes) {
      if (r.method !== method) continue;
      const m = r.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1] ?? "");
      });
      return { handler: r.handler, params };
    }
    return undefined;
  }
}
