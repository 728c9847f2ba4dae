import { UsageError } from "@lego/core";
import type { Portfolio, PortfolioService } from "./model.ts";
import { hostnameOfPattern } from "./wrangler-config.ts";

/** How an argument matched a service. */
export type MatchKind = "name" | "hostname" | "script";

/** A service an argument resolved to; a hostname or script name also pins the environment. */
export interface ResolvedService {
  service: PortfolioService;
  matchedBy: MatchKind;
  /** The environment the hostname or script name belongs to; absent for a match by name. */
  environment?: string | undefined;
}

/** Every way a user may name a service, each with what it means. Exact values only. */
function identifiers(
  service: PortfolioService,
): Array<{ value: string; kind: MatchKind; environment?: string }> {
  const out: Array<{ value: string; kind: MatchKind; environment?: string }> = [
    { value: service.name, kind: "name" },
  ];
  for (const env of Object.values(service.environments)) {
    for (const host of env.hostnames) out.push({ value: host, kind: "hostname", environment: env.name });
    out.push({ value: env.scriptName, kind: "script", environment: env.name });
  }
  out.push({ value: service.wranglerName, kind: "script" });
  return out;
}

function normalizeArgument(arg: string): string {
  const trimmed = arg.trim();
  // A pasted URL names its hostname; a bare name stays as written.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) || trimmed.includes("/")
    ? hostnameOfPattern(trimmed)
    : trimmed.toLowerCase();
}

/** Levenshtein distance, bounded: enough to suggest "did you mean". */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Names close to `arg` (by edit distance, or sharing it as a part), best first, at most `limit`. */
export function closeNames(portfolio: Portfolio, arg: string, limit = 5): string[] {
  const wanted = normalizeArgument(arg);
  const scored = new Map<string, number>();
  for (const service of portfolio.services) {
    for (const { value } of identifiers(service)) {
      const d = distance(wanted, value.toLowerCase());
      const near =
        d <= Math.max(2, Math.floor(value.length / 3)) || (wanted.length >= 3 && value.includes(wanted));
      if (near) scored.set(value, Math.min(scored.get(value) ?? Number.POSITIVE_INFINITY, d));
    }
  }
  return [...scored.entries()]
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([value]) => value);
}

/**
 * Every service an argument names, by exact match on parsed values: the service name, a hostname of
 * any environment, or a Worker script name. Never by folder name, never by a substring of a file.
 */
export function matchServices(portfolio: Portfolio, arg: string): ResolvedService[] {
  const wanted = normalizeArgument(arg);
  const matches: ResolvedService[] = [];
  for (const service of portfolio.services) {
    const hits = identifiers(service).filter((id) => id.value.toLowerCase() === wanted);
    if (hits.length === 0) continue;
    // Prefer the most specific meaning: a name, then a hostname, then a script name.
    const best =
      hits.find((h) => h.kind === "name") ??
      hits.find((h) => h.kind === "hostname") ??
      hits.find((h) => h.kind === "script")!;
    const envs = new Set(hits.filter((h) => h.environment !== undefined).map((h) => h.environment));
    matches.push({
      service,
      matchedBy: best.kind,
      ...(best.kind !== "name" && envs.size === 1 ? { environment: [...envs][0] } : {}),
    });
  }
  return matches;
}

/**
 * Resolves a user's argument (service name, hostname or script name) to exactly one service.
 * No match: `ERR_SERVICE_NOT_FOUND` (exit 2) with the closest names. Several: `ERR_SERVICE_AMBIGUOUS`
 * (exit 2) listing each candidate and its folder.
 *
 * @example
 * const { service, environment } = resolveService(portfolio, "staging-api.example.com");
 * // service.name === "api", environment === "staging"
 */
export function resolveService(portfolio: Portfolio, arg: string): ResolvedService {
  const matches = matchServices(portfolio, arg);
  if (matches.length === 1) return matches[0]!;
  // Service names are unique, so a match by name settles it even when another service's script shares it.
  const byName = matches.filter((m) => m.matchedBy === "name");
  if (byName.length === 1) return byName[0]!;
  if (matches.length === 0) {
    const close = closeNames(portfolio, arg);
    throw new UsageError({
      code: "ERR_SERVICE_NOT_FOUND",
      message: `No service is named "${arg}" or serves it as a hostname or Worker script`,
      hint:
        close.length > 0
          ? `Did you mean ${close.map((c) => `"${c}"`).join(", ")}? \`lego list\` shows every service.`
          : portfolio.services.length === 0
            ? `No services were found under ${portfolio.root} (${portfolio.patterns.join(", ")}); pass --root or add lego.config.json.`
            : "`lego list` shows every service with its hostnames and script names.",
      details: { argument: arg, close },
    });
  }
  const candidates = matches.map((m) => `${m.service.name} (${m.service.dir}, by ${m.matchedBy})`);
  throw new UsageError({
    code: "ERR_SERVICE_AMBIGUOUS",
    message: `"${arg}" matches ${matches.length} services: ${candidates.join("; ")}`,
    hint: "Name the service itself instead (its domain config name), which is unique.",
    details: {
      argument: arg,
      candidates: matches.map((m) => ({ name: m.service.name, dir: m.service.dir, matchedBy: m.matchedBy })),
    },
  });
}

/**
 * Throws `ERR_CONFIG_INVALID` (exit 2) naming the file and key of the first problem when a service's
 * configs point to something missing (`main`, `migrations_dir`) or lack what wrangler needs
 * (`compatibility_date`). Call it before deploying or migrating the services a user picked: listing
 * and resolving them does not (a portfolio with one half-written service still lists).
 *
 * @example
 * const { service } = resolveService(portfolio, "api");
 * assertServicesReady([service]);
 */
export function assertServicesReady(services: readonly PortfolioService[]): void {
  const problems = services.flatMap((s) => s.problems ?? []);
  const first = problems[0];
  if (!first) return;
  const lines = problems.map((p) => `${p.file}: ${p.keyPath}: ${p.message}`);
  throw new UsageError({
    code: "ERR_CONFIG_INVALID",
    message: `${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more problem${lines.length > 2 ? "s" : ""})` : ""}`,
    hint:
      lines.length > 1
        ? `Fix each of these:\n  ${lines.join("\n  ")}`
        : `Fix ${first.keyPath} in ${first.file}; \`lego validate\` checks every service.`,
    details: { file: first.file, keyPath: first.keyPath, problems },
  });
}
