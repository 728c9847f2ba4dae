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
 * (no API call) and reads from the target what is live, to list the new version, custom domains and
 * routes added or removed, and required secrets that are missing. Writes nothing under `.lego/`.
 */
export async function describeDryRun(plan: DeploymentPlan, ctx: DryRunContext): Promise<DryRunReport> {
  const services: DryRunService[] = [];
  for (const service of plan.services) services.push(await describeService(service, ctx));
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
  let liveDomains: string[] = [];
  if (exists) {
    try {
      liveDomains = (await ctx.client.listWorkerDomains({ service: service.scriptName }, opts)).map(
        (d) => d.hostname,
      );
    } catch (error) {
      if (!isLegoError(error)) throw error;
      out.changes.push({ kind: "change", what: `custom domains not compared: ${error.message}` });
    }
  }
  for (const host of service.hostnames)
    if (!liveDomains.includes(host))
      out.changes.push({ kind: "add", what: `custom domain or route ${host}` });
  for (const host of liveDomains)
    if (!service.hostnames.includes(host))
      out.changes.push({ kind: "remove", what: `custom domain ${host}` });
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
