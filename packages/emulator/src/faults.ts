/** One fault rule. Off unless configured. */
export interface FaultRule {
  /**
   * Which API requests it hits: a RegExp, or a glob (`*` any run of characters) matched against
   * `"METHOD /path"` when it contains a space, else against the path. Paths are tried both below
   * `/client/v4` and in full, without the query string. Example: "PUT *secrets" hits every secret upload.
   */
  route: string | RegExp;
  /**
   * `429` (with Retry-After, Cloudflare code 971), `5xx`, `latency` (then answer normally), `drop` (close
   * the socket before anything happens), `lost` (apply the request, then close the socket without the
   * answer: the change is made, the caller never learns it).
   */
  kind: "429" | "5xx" | "latency" | "drop" | "lost";
  /** Chance in [0, 1] that a matching request is hit. Default 1. */
  probability?: number;
  /** Seconds for Retry-After on `429`. Default 1. */
  retryAfter?: number;
  /** Delay for `latency`. Default 1000 ms. */
  latencyMs?: number;
  /** Status for `5xx`. Default 503. */
  status?: number;
  /** Hits at most this many requests, then the rule is spent (a fault on the first attempt only: 1). Default: no limit. */
  times?: number;
}

/** What to do to one request. */
export interface FaultDecision {
  delayMs: number;
  action?:
    | { kind: "429"; retryAfter: number }
    | { kind: "5xx"; status: number }
    | { kind: "drop" }
    | { kind: "lost" };
}

/** A small seeded PRNG (mulberry32): the same seed gives the same fault sequence. */
export function createPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The fault kinds, for validating rules read from a file. */
export const FAULT_KINDS = ["429", "5xx", "latency", "drop", "lost"] as const;

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${esc}$`);
}

/** Decides, per request, which configured fault (if any) applies. Rules can be replaced at runtime. */
export class FaultInjector {
  #rules: Array<FaultRule & { re: RegExp; withMethod: boolean; hits: number }> = [];
  #random: () => number;

  constructor(rules: readonly FaultRule[] = [], seed = 1) {
    this.#random = createPrng(seed);
    this.set(rules);
  }

  /** Replaces the rules; a new `seed` restarts the random sequence. */
  set(rules: readonly FaultRule[], seed?: number): void {
    if (seed !== undefined) this.#random = createPrng(seed);
    this.#rules = rules.map((r) => {
      const re = typeof r.route === "string" ? globToRegExp(r.route) : r.route;
      const withMethod =
        typeof r.route === "string" ? r.route.includes(" ") : /^\^?[A-Z]+ /.test(r.route.source);
      return { ...r, re, withMethod, hits: 0 };
    });
  }

  /** True when no rule is configured (the default). */
  get empty(): boolean {
    return this.#rules.length === 0;
  }

  /** The faults for `method path` (path below /client/v4). */
  decide(method: string, path: string): FaultDecision | undefined {
    if (this.#rules.length === 0) return undefined;
    const pathOnly = path.split("?")[0] ?? path;
    const candidates = [pathOnly, `/client/v4${pathOnly}`];
    let delayMs = 0;
    for (const rule of this.#rules) {
      const hit = candidates.some((p) => rule.re.test(rule.withMethod ? `${method} ${p}` : p));
      if (!hit) continue;
      if (rule.times !== undefined && rule.hits >= rule.times) continue;
      if (this.#random() >= (rule.probability ?? 1)) continue;
      rule.hits++;
      switch (rule.kind) {
        case "latency":
          delayMs += rule.latencyMs ?? 1000;
          break;
        case "429":
          return { delayMs, action: { kind: "429", retryAfter: rule.retryAfter ?? 1 } };
        case "5xx":
          return { delayMs, action: { kind: "5xx", status: rule.status ?? 503 } };
        case "drop":
          return { delayMs, action: { kind: "drop" } };
        case "lost":
          return { delayMs, action: { kind: "lost" } };
      }
    }
    return delayMs > 0 ? { delayMs } : undefined;
  }
}
