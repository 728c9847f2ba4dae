import type { CloudState, DeploymentRecord, ScriptRecord, VersionRecord } from "../state/types.ts";

/** Binding types the local cloud runs. Anything else in an upload is refused with a Cloudflare 400. */
export const SUPPORTED_BINDING_TYPES = [
  "plain_text",
  "secret_text",
  "json",
  "d1",
  "service",
  "version_metadata",
  "kv_namespace",
  "r2_bucket",
  "assets",
  "durable_object_namespace",
  "queue",
  "inherit",
] as const;

/** The Miniflare worker name of one version of a script. */
export function workerNameOf(script: string, versionId: string): string {
  return `${script}--v-${versionId}`;
}

/** The name of the internal worker that binds every D1 database, for the API's query/export/import. */
export const D1_ADMIN_WORKER = "lego-internal-d1-admin";

/** The binding name under which the D1 admin worker sees database `uuid`. */
export function d1AdminBinding(uuid: string): string {
  return `D1_${uuid.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** The active (latest) deployment of a script, if any. */
export function activeDeployment(script: ScriptRecord): DeploymentRecord | undefined {
  return script.deployments.at(-1);
}

/** A version of a script that should run, with its share of traffic. */
export interface RunningVersion {
  script: string;
  version: VersionRecord;
  percentage: number;
  workerName: string;
}

/**
 * Every version that the active deployments put in service, across all scripts. A version deployed at
 * 0% runs too: it serves no share of the traffic, but a version override can still reach it (as on
 * Cloudflare, where an override applies to any version of the current deployment).
 */
export function runningVersions(state: CloudState): RunningVersion[] {
  const out: RunningVersion[] = [];
  for (const script of Object.values(state.scripts)) {
    const deployment = activeDeployment(script);
    if (!deployment) continue;
    for (const entry of deployment.versions) {
      if (!(entry.percentage >= 0)) continue;
      const version = script.versions.find((v) => v.id === entry.version_id);
      if (!version) continue;
      out.push({
        script: script.name,
        version,
        percentage: entry.percentage,
        workerName: workerNameOf(script.name, version.id),
      });
    }
  }
  return out;
}

/**
 * Picks the version serving one request of a split deployment: `roll` in [0, 100). A
 * `Cloudflare-Workers-Version-Overrides: script="<version-id>"` override wins when it names a version
 * of the current deployment (also one at 0%); otherwise the percentages decide, and a 0% version never
 * serves.
 */
export function pickVersion(
  versions: readonly RunningVersion[],
  roll: number,
  override?: string,
): RunningVersion | undefined {
  if (versions.length === 0) return undefined;
  if (override) {
    const forced = versions.find((v) => v.version.id === override);
    if (forced) return forced;
  }
  const serving = versions.filter((v) => v.percentage > 0);
  let acc = 0;
  for (const v of serving) {
    acc += v.percentage;
    if (roll < acc) return v;
  }
  return serving.at(-1);
}

/**
 * Parses `Cloudflare-Workers-Version-Overrides` for `script`, as Cloudflare does: the header is an RFC 8941
 * Dictionary whose keys are Worker names and whose values are Strings (the version id), e.g.
 * `my-worker="dc8dcd28-…", other="…"`. A header that is not a valid Dictionary, or a member whose value is
 * not a String, is ignored (the request is routed by the percentages). Parameters (`;a=1`) are allowed
 * and ignored; a key given twice takes its last value (RFC 8941 §4.2.2).
 */
export function versionOverrideFor(header: string | undefined, script: string): string | undefined {
  if (header === undefined) return undefined;
  const dict = parseStructuredDictionary(header);
  const value = dict?.get(script);
  return typeof value === "string" ? value : undefined;
}

/** A bare item of a Structured Field: only the types an override can carry are told apart. */
type BareItem = string | number | boolean | { token: string } | { bytes: string };

/**
 * Parses an RFC 8941 Dictionary (§4.2.2). Returns undefined when the text is not a valid Dictionary.
 * Inner lists and parameters are validated and dropped: only members' bare items are returned.
 */
export function parseStructuredDictionary(text: string): Map<string, BareItem | BareItem[]> | undefined {
  let i = 0;
  const s = text;
  const skipSp = () => {
    while (s[i] === " ") i++;
  };
  const skipOws = () => {
    while (s[i] === " " || s[i] === "\t") i++;
  };
  const fail = (): never => {
    throw new SyntaxError("not a structured dictionary");
  };
  const parseKey = (): string => {
    const c = s[i] ?? "";
    if (!/[a-z*]/.test(c)) fail();
    const start = i;
    while (i < s.length && /[a-z0-9_\-.*]/.test(s[i] as string)) i++;
    return s.slice(start, i);
  };
  const parseBareItem = (): BareItem => {
    const c = s[i] ?? "";
    if (c === '"') {
      i++;
      let out = "";
      for (;;) {
        if (i >= s.length) fail();
        const ch = s[i++] as string;
        if (ch === "\\") {
          const next = s[i++];
          if (next !== '"' && next !== "\\") fail();
          out += next;
        } else if (ch === '"') return out;
        else {
          const code = ch.charCodeAt(0);
          if (code < 0x20 || code > 0x7e) fail();
          out += ch;
        }
      }
    }
    if (c === "-" || /[0-9]/.test(c)) {
      const m = /^-?[0-9]{1,15}(\.[0-9]{1,3})?/.exec(s.slice(i));
      if (!m) fail();
      const [num] = m as RegExpExecArray;
      i += num.length;
      return Number(num);
    }
    if (c === "?") {
      const b = s[i + 1];
      if (b !== "0" && b !== "1") fail();
      i += 2;
      return b === "1";
    }
    if (c === ":") {
      const end = s.indexOf(":", i + 1);
      if (end < 0 || !/^[A-Za-z0-9+/=]*$/.test(s.slice(i + 1, end))) fail();
      const bytes = s.slice(i + 1, end);
      i = end + 1;
      return { bytes };
    }
    if (/[A-Za-z*]/.test(c)) {
      const start = i;
      while (i < s.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/.test(s[i] as string)) i++;
      return { token: s.slice(start, i) };
    }
    return fail();
  };
  const parseParameters = () => {
    while (s[i] === ";") {
      i++;
      skipSp();
      parseKey();
      if (s[i] === "=") {
        i++;
        parseBareItem();
      }
    }
  };
  const parseItemOrInnerList = (): BareItem | BareItem[] => {
    if (s[i] === "(") {
      i++;
      const items: BareItem[] = [];
      for (;;) {
        skipSp();
        if (s[i] === ")") {
          i++;
          parseParameters();
          return items;
        }
        items.push(parseBareItem());
        parseParameters();
        if (s[i] !== " " && s[i] !== ")") fail();
      }
    }
    const item = parseBareItem();
    parseParameters();
    return item;
  };
  try {
    const out = new Map<string, BareItem | BareItem[]>();
    skipSp();
    if (i >= s.length) return out;
    for (;;) {
      const key = parseKey();
      let value: BareItem | BareItem[] = true;
      if (s[i] === "=") {
        i++;
        value = parseItemOrInnerList();
      } else parseParameters();
      out.set(key, value);
      skipOws();
      if (i >= s.length) return out;
      if (s[i] !== ",") fail();
      i++;
      skipOws();
      if (i >= s.length) fail();
    }
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
