// Cron expressions as Cloudflare's cron triggers take them: five fields (minute, hour, day of month,
// month, day of week), `*`, lists, ranges, steps, month and weekday names, 0 or 7 for Sunday, in UTC.

const FIELDS = [
  { min: 0, max: 59, names: [] as string[] },
  { min: 0, max: 23, names: [] as string[] },
  { min: 1, max: 31, names: [] as string[] },
  {
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  { min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
] as const;

/** A parsed cron expression: the allowed values of each field, and which day fields were restricted. */
export interface Cron {
  source: string;
  sets: Array<Set<number>>;
  domStar: boolean;
  dowStar: boolean;
}

function value(token: string, field: (typeof FIELDS)[number], offset: number): number {
  const upper = token.toUpperCase();
  const named = field.names.indexOf(upper as never);
  if (named !== -1) return named + offset;
  if (!/^\d+$/.test(token)) throw new Error(`"${token}" is not a number`);
  return Number(token);
}

/** Parses a five-field cron expression; throws naming the field that is wrong. */
export function parseCron(source: string): Cron {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`A cron expression has 5 fields, "${source}" has ${parts.length}`);
  const sets = parts.map((part, i) => {
    const field = FIELDS[i] as (typeof FIELDS)[number];
    const offset = i === 3 ? 1 : 0;
    const set = new Set<number>();
    for (const item of part.split(",")) {
      const [range = "", stepText] = item.split("/");
      const step = stepText === undefined ? 1 : Number(stepText);
      if (!Number.isInteger(step) || step < 1) throw new Error(`Bad step in "${item}"`);
      let lo: number;
      let hi: number;
      if (range === "*") {
        lo = field.min;
        hi = field.max;
      } else if (range.includes("-")) {
        const [a = "", b = ""] = range.split("-");
        lo = value(a, field, offset);
        hi = value(b, field, offset);
      } else {
        lo = value(range, field, offset);
        hi = stepText === undefined ? lo : field.max;
      }
      if (lo < field.min || hi > field.max || lo > hi) throw new Error(`"${item}" is out of range`);
      for (let v = lo; v <= hi; v += step) set.add(i === 4 && v === 7 ? 0 : v);
    }
    return set;
  });
  return { source, sets, domStar: parts[2] === "*", dowStar: parts[4] === "*" };
}

/** Whether `cron` fires at the minute of `date` (UTC). Day of month and weekday combine as in cron(8). */
export function cronMatches(cron: Cron, date: Date): boolean {
  const [min, hour, dom, mon, dow] = cron.sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  if (!min.has(date.getUTCMinutes()) || !hour.has(date.getUTCHours()) || !mon.has(date.getUTCMonth() + 1)) {
    return false;
  }
  const domOk = dom.has(date.getUTCDate());
  const dowOk = dow.has(date.getUTCDay());
  if (cron.domStar || cron.dowStar) return domOk && dowOk;
  return domOk || dowOk;
}
