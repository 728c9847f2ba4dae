import { UsageError } from "@lego/core";

/**
 * The nearest-rank percentile of `values` (the same rule as the production tester's latency check):
 * the smallest value with at least `p` percent of the values at or below it. `undefined` when empty.
 *
 * @example
 * percentile([10, 20, 30, 40], 50) // 20
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The median (p50), or `undefined` when empty. */
export const median = (values: readonly number[]): number | undefined => percentile(values, 50);

/** The mean, or `undefined` when empty. */
export function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * Parses a duration flag: a number and a unit (`500ms`, `5s`, `10m`, `12h`, `30d`, `2w`). A bare
 * number is read in `defaultUnit`. Anything else is `ERR_BAD_DURATION` (exit 2) naming the flag.
 *
 * @example
 * parseDuration("30d", "--since") // 2_592_000_000
 */
export function parseDuration(text: string, flag: string, defaultUnit: keyof typeof UNITS = "s"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  const value = m ? Number(m[1]) : Number.NaN;
  const unit = (m?.[2] ?? defaultUnit).toLowerCase();
  const factor = UNITS[unit];
  if (!m || !Number.isFinite(value) || value <= 0 || factor === undefined) {
    throw new UsageError({
      code: "ERR_BAD_DURATION",
      message: `${flag} ${JSON.stringify(text)} is not a duration`,
      hint: `Pass a positive number with a unit: ms, s, m, h, d or w (e.g. ${flag} ${flag === "--since" ? "30d" : "5s"}).`,
      details: { flag, value: text },
    });
  }
  return Math.round(value * factor);
}

/**
 * The start of a window: a duration back from `now` (`30d`, `12h`, `2w`) or an ISO date
 * (`2026-11-01`). Anything else is `ERR_BAD_DURATION` (exit 2) naming the flag.
 *
 * @example
 * parseSince("30d", Date.now()) // 30 days ago
 */
export function parseSince(text: string, now: number, flag = "--since"): Date {
  if (/^\s*\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)\s*$/i.test(text)) return new Date(now - parseDuration(text, flag));
  const at = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (!Number.isFinite(at) || at > now) {
    throw new UsageError({
      code: "ERR_BAD_DURATION",
      message: `${flag} ${JSON.stringify(text)} is not a duration or a past date`,
      hint: `Pass a duration back from now (${flag} 30d, 12h, 2w) or a date (${flag} 2026-11-01).`,
      details: { flag, value: text },
    });
  }
  return new Date(at);
}
