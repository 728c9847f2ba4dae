/** What the Workers endpoints share: lookups, the public shapes of scripts, versions and deployments. */
import { nowIso, randomHex32, uuid } from "../../ids.ts";
import { activeDeployment } from "../../runtime/plan.ts";
import { WorkerStartupError } from "../../runtime/runner.ts";
import type {
  BindingRecord,
  CloudState,
  DeploymentRecord,
  ModuleRef,
  ScriptRecord,
  VersionRecord,
} from "../../state/types.ts";
import type { ApiRequest } from "../context.ts";
import { CfApiError, CfCode } from "../envelope.ts";

const SCRIPT_NAME = /^[a-z0-9_][a-z0-9_-]{0,62}$/i;

function missingScript(name: string): CfApiError {
  return new CfApiError(
    404,
    CfCode.WorkerNotFound,
    `This Worker does not exist on your account (script "${name}")`,
  );
}

/** Finds a script or throws Cloudflare's 404 / 10007, which wrangler reads as "new Worker". */
export function requireScript(state: CloudState, name: string): ScriptRecord {
  const script = state.scripts[name];
  if (!script) throw missingScript(name);
  return script;
}

/** A Worker that does not start is Cloudflare's 400 / 10021; any other error is passed on as it is. */
export function startupRefusal(error: unknown): unknown {
  return error instanceof WorkerStartupError
    ? new CfApiError(
        400,
        CfCode.ScriptValidation,
        `Uncaught error while starting the Worker: ${error.message}`,
      )
    : error;
}

/** Runs the runtime on `draft`; a Worker that does not start is Cloudflare's 400 / 10021. */
export async function applyRuntime(req: ApiRequest, draft: CloudState): Promise<void> {
  try {
    await req.services.runtime.apply(draft);
  } catch (error) {
    throw startupRefusal(error);
  }
}

export function mainModuleOf(v: VersionRecord): ModuleRef | undefined {
  return v.modules.find((m) => m.name === (v.main_module ?? v.body_part));
}

export function versionObject(state: CloudState, script: ScriptRecord, v: VersionRecord) {
  const main = mainModuleOf(v);
  return {
    id: v.id,
    number: v.number,
    metadata: {
      author_email: v.author_email,
      author_id: "10ca1c10d00000000000000000005e00",
      created_on: v.created_on,
      modified_on: v.created_on,
      source: v.source,
      hasPreview: false,
      has_preview: false,
    },
    annotations: v.annotations,
    resources: {
      script: {
        etag: main?.sha256 ?? "",
        handlers: v.handlers,
        last_deployed_from: v.source,
        placement_mode: null,
      },
      script_runtime: {
        compatibility_date: v.compatibility_date,
        compatibility_flags: v.compatibility_flags,
        usage_model: "standard",
        limits: { cpu_ms: 30000 },
      },
      bindings: publicBindings(state, script.name, v),
    },
    startup_time_ms: 1,
  };
}

export function publicBindings(state: CloudState, script: string, v: VersionRecord): BindingRecord[] {
  const out: BindingRecord[] = v.bindings.filter((b) => b.type !== "secret_text" && b.type !== "secret_key");
  for (const [name, s] of Object.entries(state.secrets[script] ?? {})) out.push({ type: s.type, name });
  return out;
}

export function deploymentObject(d: DeploymentRecord) {
  return {
    id: d.id,
    created_on: d.created_on,
    source: d.source,
    strategy: d.strategy,
    author_email: d.author_email,
    annotations: d.annotations,
    versions: d.versions,
  };
}

export function primaryVersion(script: ScriptRecord): VersionRecord | undefined {
  const dep = activeDeployment(script);
  const best = dep ? [...dep.versions].sort((a, b) => b.percentage - a.percentage)[0] : undefined;
  return best ? script.versions.find((v) => v.id === best.version_id) : script.versions.at(-1);
}

export function scriptSummary(state: CloudState, script: ScriptRecord) {
  const v = primaryVersion(script);
  const main = v ? mainModuleOf(v) : undefined;
  return {
    id: script.name,
    tag: script.tag,
    etag: main?.sha256 ?? "",
    handlers: v?.handlers ?? [],
    modified_on: script.modified_on,
    created_on: script.created_on,
    compatibility_date: v?.compatibility_date,
    compatibility_flags: v?.compatibility_flags ?? [],
    usage_model: "standard",
    last_deployed_from: "wrangler",
    has_modules: Boolean(v?.main_module),
    has_assets: Boolean(v?.assets),
    migration_tag: script.versions.at(-1)?.migration_tag,
    logpush: script.settings.logpush,
    placement_mode: null,
    tail_consumers: script.settings.tail_consumers,
    tags: script.settings.tags,
    routes: state.routes
      .filter((r) => r.script === script.name)
      .map((r) => ({ id: r.id, pattern: r.pattern })),
  };
}

export function settingsObject(state: CloudState, script: ScriptRecord) {
  const v = primaryVersion(script);
  return {
    bindings: v ? publicBindings(state, script.name, v) : [],
    compatibility_date: v?.compatibility_date,
    compatibility_flags: v?.compatibility_flags ?? [],
    logpush: script.settings.logpush,
    observability: script.settings.observability,
    placement: {},
    tags: script.settings.tags,
    tail_consumers: script.settings.tail_consumers,
    usage_model: "standard",
  };
}

export function newScript(name: string): ScriptRecord {
  const now = nowIso();
  return {
    name,
    tag: randomHex32(),
    created_on: now,
    modified_on: now,
    versions: [],
    deployments: [],
    settings: { logpush: false, observability: { enabled: false }, tags: [], tail_consumers: [] },
    subdomain: { enabled: false, previews_enabled: false },
  };
}

export function newDeployment(
  draft: CloudState,
  versions: Array<{ version_id: string; percentage: number }>,
  annotations: Record<string, string>,
): DeploymentRecord {
  return {
    id: uuid(),
    created_on: nowIso(),
    source: "wrangler",
    strategy: "percentage",
    author_email: draft.email,
    annotations,
    versions,
  };
}

export function applyScriptSettings(script: ScriptRecord, body: Record<string, unknown>): void {
  if (typeof body.logpush === "boolean") script.settings.logpush = body.logpush;
  if (body.observability && typeof body.observability === "object") {
    script.settings.observability = body.observability as Record<string, unknown>;
  }
  if (Array.isArray(body.tags))
    script.settings.tags = body.tags.filter((t): t is string => typeof t === "string");
  if (Array.isArray(body.tail_consumers)) script.settings.tail_consumers = body.tail_consumers;
  script.modified_on = nowIso();
}

export function scriptParam(req: ApiRequest): string {
  const name = req.params.script ?? "";
  if (!SCRIPT_NAME.test(name)) {
    throw new CfApiError(
      400,
      CfCode.BadRequest,
      `Invalid Worker name "${name}": use letters, digits, - and _ (at most 63)`,
    );
  }
  return name;
}
