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

/** Every version that the active deployments put in service, across all scripts. */
export function runningVersions(state: CloudState): RunningVersion[] {
  const out: RunningVersion[] = [];
  for (const script of Object.values(state.scripts)) {
    const deployment = activeDeployment(script);
    if (!deployment) continue;
    for (const entry of deployment.versions) {
      if (entry.percentage <= 0) continue;
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
 * `Cloudflare-Workers-Version-Overrides: script="<version-id>"` header wins when it names a running version.
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
  let acc = 0;
  for (const v of versions) {
    acc += v.percentage;
    if (roll < acc) return v;
  }
  return versions.at(-1);
}

/** Parses `Cloudflare-Workers-Version-Overrides` (a dictionary `script="version-id"`) for `script`. */
export function versionOverrideFor(header: string | undefined, script: string): string | undefined {
  if (!header) return undefined;
  for (const item of header.split(",")) {
    const [key, raw] = item.split("=", 2);
    if (key?.trim() === script && raw) return raw.trim().replace(/^"|"$/g, "");
  }
  return undefined;
}
