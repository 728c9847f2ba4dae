import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CloudflareClient, WranglerRunner } from "@lego/cloudflare";
import { isLegoError } from "@lego/core";
import { checkRequiredSecrets } from "@lego/secrets";
import { urlForHostname } from "./apply.ts";
import type { DeploymentPlan, PlannedService, StepName } from "./plan.ts";

/** One thing a deploy would change on the target. */
export interface DryRunChange {
  kind: "add" | "remove" | "change";
  /** e.g. `custom domain staging-api.example.com`, `new version (live: 0a1b…)`. */
  what: string;
}

/** What deploying one service would do. */
export interface DryRunService {
  service: string;
  environment: string;
  scriptName: string;
  url?: string;
  steps: StepName[];
  /** The bundle `wrangler deploy --dry-run` built. */
  bundle?: { bytes: number; files: number };
  /** The version live now; absent on a first deploy. */
  liveVersion?: string;
  changes: DryRunChange[];
  secretsMissing: string[];
}

/** The plan plus what it would change, read from the live target. */
export interface DryRunReport {
  environment: string;
  services: DryRunService[];
}

export interface DryRunContext {
  client: CloudflareClient;
  wrangler: WranglerRunner;
  workersUrlPattern: string;
  signal?: AbortSignal;
  /** How many services are described at once (each builds its bundle). Default 4. */
  concurrency?: number;
}

async function folderSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || entry.name.endsWith(".map")) continue;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
    files++;
  }
  return { bytes, files };
}

/**
 * Describes a deploy without changing anything: builds each bundle with `wrangler deploy --dry-run`
 * (no API call) and reads from the target what is live, to list the new version, custom domains, zone
 * routes and D1/service bindings added, removed or changed, and required secrets that are missing.
 * Writes nothing under `.lego/`.
 */
export async function describeDryRun(plan: DeploymentPlan, ctx: DryRunContext): Promise<DryRunReport> {
  // Each description builds a bundle (a wrangler process): a few at once, results in plan order.
  const services: DryRunService[] = new Array(plan.services.length);
  let next = 0;
  const worker = async () => {
    while (next < plan.services.length) {
      const i = next++;
      services[i] = await describeService(plan.services[i] as PlannedService, ctx);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(ctx.concurrency ?? 4, plan.services.length)) }, worker),
  );
  return { environment: plan.environment, services };
}

async function describeService(service: PlannedService, ctx: DryRunContext): Promise<DryRunService> {
  const opts = ctx.signal ? { signal: ctx.signal } : undefined;
  const out: DryRunService = {
    service: service.service,
    environment: service.environment,
    scriptName: service.scriptName,
    steps: service.steps,
    changes: [],
    secretsMissing: [],
    ...(service.primaryHostname
      ? { url: urlForHostname(ctx.workersUrlPattern, service.primaryHostname) }
      : {}),
  };
  const outdir = await mkdtemp(join(tmpdir(), "lego-dry-run-"));
  try {
    await ctx.wrangler.deploy({ cwd: service.path, env: service.wranglerEnv, dryRun: true, outdir, ...opts });
    out.bundle = await folderSize(outdir);
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
  const exists = (await ctx.client.getWorkerService(service.scriptName, opts)) !== undefined;
  if (!exists) {
    out.changes.push({ kind: "add", what: `new Worker ${service.scriptName}` });
  } else {
    const live = (await ctx.client.listDeployments(service.scriptName, opts))[0];
    const version = live?.versions[0]?.version_id;
    if (version) out.liveVersion = version;
    out.changes.push({ kind: "change", what: `new version replaces ${version ?? "the live one"}` });
  }
  // Each comparison that cannot be read (a token without that permission, say) is said, not guessed.
  const compare = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      if (!isLegoError(error)) throw error;
      out.changes.push({ kind: "change", what: `${what} not compared: ${error.message}` });
    }
  };
  await compare("custom domains", async () => {
    const planned = service.routes.filter((r) => r.customDomain).map((r) => r.pattern.toLowerCase());
    const live = exists
      ? (await ctx.client.listWorkerDomains({ service: service.scriptName }, opts)).map((d) =>
          d.hostname.toLowerCase(),
        )
      : [];
    diff(out, "custom domain", planned, live);
  });
  const zoneRoutes = service.routes.filter((r) => !r.customDomain);
  if (zoneRoutes.length > 0 || (exists && service.hostnames.length > 0)) {
    await compare("zone routes", async () => {
      const zones = await zonesOf(service, ctx, opts);
      const live: string[] = [];
      for (const zoneId of zones)
        for (const r of await ctx.client.listRoutes(zoneId, opts))
          if (r.script === service.scriptName) live.push(r.pattern);
      diff(
        out,
        "route",
        zoneRoutes.map((r) => r.pattern),
        live,
      );
    });
  }
  if (out.liveVersion) {
    const liveVersion = out.liveVersion;
    await compare("bindings", async () => {
      const version = await ctx.client.getVersion(service.scriptName, liveVersion, opts);
      const resources = (version as { resources?: { bindings?: LiveBinding[] } }).resources;
      const live = new Map(
        (resources?.bindings ?? [])
          .filter((b) => b.type === "d1" || b.type === "service")
          .map((b) => [b.name, b]),
      );
      for (const b of service.bindings) {
        const was = live.get(b.name);
        live.delete(b.name);
        const label = `${b.type === "d1" ? "D1" : "service"} binding ${b.name} → ${b.target}`;
        if (!was) out.changes.push({ kind: "add", what: label });
        else if (was.type !== b.type)
          out.changes.push({ kind: "change", what: `${label} (was ${was.type})` });
        else if (b.type === "service" && was.service !== b.target)
          out.changes.push({ kind: "change", what: `${label} (was → ${was.service})` });
        else if (b.type === "d1" && b.databaseId && was.id && was.id !== b.databaseId)
          out.changes.push({ kind: "change", what: `${label} (another database: ${was.id})` });
      }
      for (const [name, b] of live)
        out.changes.push({
          kind: "remove",
          what: `${b.type === "d1" ? "D1" : "service"} binding ${name}${b.service ? ` → ${b.service}` : ""}`,
        });
    });
  }
  if (service.secretsRequired.length > 0) {
    out.secretsMissing = exists
      ? (
          await checkRequiredSecrets({
            service,
            client: ctx.client,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          })
        ).missing
      : [...service.secretsRequired];
  }
  return out;
}

/** A binding as the versions API reports it. */
interface LiveBinding {
  type: string;
  name: string;
  service?: string;
  id?: string;
}

function diff(out: DryRunService, what: string, planned: readonly string[], live: readonly string[]): void {
  for (const p of planned) if (!live.includes(p)) out.changes.push({ kind: "add", what: `${what} ${p}` });
  for (const l of live) if (!planned.includes(l)) out.changes.push({ kind: "remove", what: `${what} ${l}` });
}

/**
 * The zones whose routes may point at this Worker: those its routes name (`zone_id`, `zone_name`), and
 * the zone of each of its hostnames (the longest matching suffix among the account's zones).
 */
async function zonesOf(
  service: PlannedService,
  ctx: DryRunContext,
  opts: { signal: AbortSignal } | undefined,
): Promise<string[]> {
  const ids = new Set<string>();
  const hosts = new Set<string>();
  for (const r of service.routes) {
    if (r.customDomain) continue;
    if (r.zoneId) ids.add(r.zoneId);
    else hosts.add((r.zoneName ?? r.pattern.split("/")[0] ?? "").replace(/^\*\.?/, "").toLowerCase());
  }
  // The zones of its other hostnames too, so a route taken out of the config shows as removed.
  for (const h of service.hostnames) hosts.add(h.toLowerCase());
  if (hosts.size > 0) {
    const zones = await ctx.client.listZones({}, opts);
    for (const host of hosts) {
      const zone = zones
        .filter((z) => host === z.name || host.endsWith(`.${z.name}`))
        .sort((a, b) => b.name.length - a.name.length)[0];
      if (zone) ids.add(zone.id);
    }
  }
  return [...ids];
}
