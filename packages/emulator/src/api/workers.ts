import { nowIso, randomHex32, uuid } from "../ids.ts";
import { activeDeployment, SUPPORTED_BINDING_TYPES } from "../runtime/plan.ts";
import { WorkerStartupError } from "../runtime/runner.ts";
import type {
  BindingRecord,
  CloudState,
  DeploymentRecord,
  DomainRecord,
  ModuleRef,
  RouteRecord,
  ScriptRecord,
  VersionRecord,
} from "../state/types.ts";
import { ensureZoneForHostname, requireAccount, requireZone } from "./account.ts";
import { type ApiRequest, contentType, jsonBody, ok } from "./context.ts";
import { CfApiError, CfCode, paginate } from "./envelope.ts";
import { moduleTypeOf, parseFormData, parseWorkerUpload, type UploadedPart } from "./multipart.ts";
import type { Route } from "./router.ts";

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

/** Runs the runtime on `draft`; a Worker that does not start is Cloudflare's 400 / 10021. */
async function applyRuntime(req: ApiRequest, draft: CloudState): Promise<void> {
  try {
    await req.services.runtime.apply(draft);
  } catch (error) {
    if (error instanceof WorkerStartupError) {
      throw new CfApiError(
        400,
        CfCode.ScriptValidation,
        `Uncaught error while starting the Worker: ${error.message}`,
      );
    }
    throw error;
  }
}

function mainModuleOf(v: VersionRecord): ModuleRef | undefined {
  return v.modules.find((m) => m.name === (v.main_module ?? v.body_part));
}

function versionObject(state: CloudState, script: ScriptRecord, v: VersionRecord) {
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

function publicBindings(state: CloudState, script: string, v: VersionRecord): BindingRecord[] {
  const out: BindingRecord[] = v.bindings.filter((b) => b.type !== "secret_text" && b.type !== "secret_key");
  for (const [name, s] of Object.entries(state.secrets[script] ?? {})) out.push({ type: s.type, name });
  return out;
}

function deploymentObject(d: DeploymentRecord) {
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

function primaryVersion(script: ScriptRecord): VersionRecord | undefined {
  const dep = activeDeployment(script);
  const best = dep ? [...dep.versions].sort((a, b) => b.percentage - a.percentage)[0] : undefined;
  return best ? script.versions.find((v) => v.id === best.version_id) : script.versions.at(-1);
}

function scriptSummary(state: CloudState, script: ScriptRecord) {
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
    has_assets: false,
    logpush: script.settings.logpush,
    placement_mode: null,
    tail_consumers: script.settings.tail_consumers,
    tags: script.settings.tags,
    routes: state.routes
      .filter((r) => r.script === script.name)
      .map((r) => ({ id: r.id, pattern: r.pattern })),
  };
}

function settingsObject(state: CloudState, script: ScriptRecord) {
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

function newScript(name: string): ScriptRecord {
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

/**
 * Checks and resolves uploaded bindings against the draft: `inherit` copies the previous binding, a
 * `secret_text` with text goes to the secrets store, D1 ids unknown to the account are created (so a
 * config with a fixed `database_id` deploys locally), and service targets must exist.
 */
function resolveBindings(
  draft: CloudState,
  scriptName: string,
  raw: unknown,
  previous: VersionRecord | undefined,
  keep: readonly string[],
): BindingRecord[] {
  if (raw !== undefined && !Array.isArray(raw)) {
    throw new CfApiError(400, CfCode.BadRequest, "metadata.bindings must be an array");
  }
  const list = (raw ?? []) as Array<Record<string, unknown>>;
  const out: BindingRecord[] = [];
  const seen = new Set<string>();
  for (const b of list) {
    const type = typeof b.type === "string" ? b.type : "";
    const name = typeof b.name === "string" ? b.name : "";
    if (!name) throw new CfApiError(400, CfCode.BadRequest, "Every binding needs a `name`");
    if (!(SUPPORTED_BINDING_TYPES as readonly string[]).includes(type)) {
      throw new CfApiError(
        400,
        CfCode.ScriptValidation,
        `Unknown or unsupported binding type "${type}" for binding "${name}". The local cloud supports: ${SUPPORTED_BINDING_TYPES.join(", ")}`,
      );
    }
    seen.add(name);
    if (type === "inherit") {
      const oldName = typeof b.old_name === "string" ? b.old_name : name;
      if (draft.secrets[scriptName]?.[oldName]) continue;
      const prev = previous?.bindings.find((x) => x.name === oldName);
      if (!prev) {
        throw new CfApiError(
          400,
          CfCode.ScriptValidation,
          `Binding "${name}" asks to inherit "${oldName}", but the previous version has no such binding`,
        );
      }
      out.push({ ...prev, name });
      continue;
    }
    if (type === "secret_text") {
      if (typeof b.text === "string") {
        draft.secrets[scriptName] ??= {};
        (draft.secrets[scriptName] as Record<string, { type: string; text: string }>)[name] = {
          type: "secret_text",
          text: b.text,
        };
      }
      continue;
    }
    if (type === "plain_text" && typeof b.text !== "string") {
      throw new CfApiError(
        400,
        CfCode.ScriptValidation,
        `Binding "${name}" (plain_text) needs a string \`text\``,
      );
    }
    if (type === "d1") {
      const id = typeof b.id === "string" ? b.id : typeof b.database_id === "string" ? b.database_id : "";
      if (!id) throw new CfApiError(400, CfCode.ScriptValidation, `Binding "${name}" (d1) needs an \`id\``);
      if (!draft.d1.some((d) => d.uuid === id)) {
        draft.d1.push({
          uuid: id,
          name: typeof b.database_name === "string" ? b.database_name : id,
          created_at: nowIso(),
        });
      }
    }
    if (type === "service") {
      const target = typeof b.service === "string" ? b.service : "";
      if (!target)
        throw new CfApiError(400, CfCode.ScriptValidation, `Binding "${name}" (service) needs a \`service\``);
      if (target !== scriptName && !draft.scripts[target]) {
        throw new CfApiError(
          400,
          CfCode.ServiceBindingTarget,
          `Could not resolve service binding '${name}'. Target script '${target}' not found.`,
        );
      }
    }
    out.push({ ...b, type, name });
  }
  // keep_bindings: types whose previous bindings survive when the upload does not mention them.
  if (previous) {
    for (const b of previous.bindings) {
      if (!seen.has(b.name) && keep.includes(b.type)) out.push(b);
    }
  }
  return out;
}

/** Builds a version from a parsed upload. Module bytes are stored content-addressed. */
async function versionFromUpload(
  req: ApiRequest,
  draft: CloudState,
  script: ScriptRecord,
  metadata: Record<string, unknown>,
  parts: UploadedPart[],
  source: string,
): Promise<VersionRecord> {
  const mainModule = typeof metadata.main_module === "string" ? metadata.main_module : undefined;
  const bodyPart = typeof metadata.body_part === "string" ? metadata.body_part : undefined;
  if (!mainModule && !bodyPart) {
    throw new CfApiError(
      400,
      CfCode.ScriptValidation,
      "metadata needs `main_module` (modules) or `body_part` (service worker)",
    );
  }
  const modules: ModuleRef[] = [];
  for (const part of parts) {
    const type = part.name === bodyPart ? "cjs" : moduleTypeOf(part.contentType, part.name);
    const sha256 = await req.services.store.putModule(part.bytes);
    modules.push({ name: part.name, type, sha256, size: part.bytes.byteLength });
  }
  const entry = mainModule ?? bodyPart;
  const mainIndex = modules.findIndex((m) => m.name === entry);
  if (mainIndex === -1) {
    throw new CfApiError(
      400,
      CfCode.ScriptValidation,
      `No such module "${entry}": the upload has no part with that name`,
    );
  }
  const [main] = modules.splice(mainIndex, 1);
  if (main) modules.unshift(main);
  if (mainModule && main && main.type !== "esm" && main.type !== "cjs") {
    throw new CfApiError(400, CfCode.ScriptValidation, `The main module "${mainModule}" must be JavaScript`);
  }
  const keep = Array.isArray(metadata.keep_bindings) ? (metadata.keep_bindings as string[]) : [];
  const bindings = resolveBindings(draft, script.name, metadata.bindings, primaryVersion(script), keep);
  const annotations: Record<string, string> = { "workers/triggered_by": "upload" };
  const rawAnn = metadata.annotations;
  if (rawAnn && typeof rawAnn === "object") {
    for (const [k, v] of Object.entries(rawAnn as Record<string, unknown>))
      if (typeof v === "string") annotations[k] = v;
  }
  const flags = Array.isArray(metadata.compatibility_flags) ? (metadata.compatibility_flags as string[]) : [];
  return {
    id: uuid(),
    number: (script.versions.at(-1)?.number ?? 0) + 1,
    created_on: nowIso(),
    source,
    author_email: draft.email,
    annotations,
    main_module: mainModule,
    body_part: mainModule ? undefined : bodyPart,
    modules,
    compatibility_date:
      typeof metadata.compatibility_date === "string" ? metadata.compatibility_date : undefined,
    compatibility_flags: flags,
    bindings,
    handlers: ["fetch"],
  };
}

function newDeployment(
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

function applyScriptSettings(script: ScriptRecord, body: Record<string, unknown>): void {
  if (typeof body.logpush === "boolean") script.settings.logpush = body.logpush;
  if (body.observability && typeof body.observability === "object") {
    script.settings.observability = body.observability as Record<string, unknown>;
  }
  if (Array.isArray(body.tags))
    script.settings.tags = body.tags.filter((t): t is string => typeof t === "string");
  if (Array.isArray(body.tail_consumers)) script.settings.tail_consumers = body.tail_consumers;
  script.modified_on = nowIso();
}

function scriptParam(req: ApiRequest): string {
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

/** Upload + deploy at 100% (first deploy `PUT /scripts/:script`, and the draft Worker of `secret put`). */
async function putScript(req: ApiRequest) {
  requireAccount(req);
  const name = scriptParam(req);
  const upload = await parseWorkerUpload(req.body, contentType(req));
  return req.services.store.mutate(async (draft) => {
    const script = draft.scripts[name] ?? newScript(name);
    draft.scripts[name] = script;
    const version = await versionFromUpload(req, draft, script, upload.metadata, upload.parts, "wrangler");
    script.versions.push(version);
    script.deployments.push(
      newDeployment(draft, [{ version_id: version.id, percentage: 100 }], {
        "workers/triggered_by": "upload",
      }),
    );
    script.modified_on = nowIso();
    if (typeof upload.metadata.logpush === "boolean") script.settings.logpush = upload.metadata.logpush;
    if (Array.isArray(upload.metadata.tags)) applyScriptSettings(script, { tags: upload.metadata.tags });
    await applyRuntime(req, draft);
    return ok({ ...scriptSummary(draft, script), deployment_id: version.id, startup_time_ms: 1 });
  });
}

/**
 * Throws {@link WorkerStartupError} when `version` does not start. With `prepare`, it is checked by
 * building the generation that deploying it at 100% would run (wrangler's next call on a redeploy), which
 * that deployment then reuses; when that build fails, the version is checked on its own, so the
 * answer does not depend on the other Workers.
 */
async function checkVersionStarts(
  req: ApiRequest,
  draft: CloudState,
  script: ScriptRecord,
  version: VersionRecord,
  prepare: boolean,
): Promise<void> {
  const secrets = draft.secrets[script.name] ?? {};
  if (!prepare) return req.services.runtime.validate(script.name, version, secrets);
  const deployed: ScriptRecord = {
    ...script,
    versions: [...script.versions, version],
    deployments: [
      ...script.deployments,
      newDeployment(draft, [{ version_id: version.id, percentage: 100 }], {}),
    ],
  };
  try {
    await req.services.runtime.prepare({ ...draft, scripts: { ...draft.scripts, [script.name]: deployed } });
  } catch (error) {
    if (!(error instanceof WorkerStartupError)) throw error;
    await req.services.runtime.validate(script.name, version, secrets);
  }
}

/** `POST /scripts/:script/versions`: upload a version without deploying it. */
async function postVersion(req: ApiRequest) {
  requireAccount(req);
  const name = scriptParam(req);
  const upload = await parseWorkerUpload(req.body, contentType(req));
  return req.services.store.mutate(async (draft) => {
    const script = requireScript(draft, name);
    const version = await versionFromUpload(req, draft, script, upload.metadata, upload.parts, "wrangler");
    const newD1 = draft.d1.length !== req.services.store.state.d1.length;
    try {
      await checkVersionStarts(req, draft, script, version, !newD1);
    } catch (error) {
      if (error instanceof WorkerStartupError) {
        throw new CfApiError(
          400,
          CfCode.ScriptValidation,
          `Uncaught error while starting the Worker: ${error.message}`,
        );
      }
      throw error;
    }
    script.versions.push(version);
    script.modified_on = nowIso();
    // A D1 created by this upload must be loaded by the runtime for the API.
    if (newD1) await applyRuntime(req, draft);
    return ok(versionObject(draft, script, version));
  });
}

/** `POST /scripts/:script/deployments`: deploy (or roll back to) versions at percentages. */
async function postDeployment(req: ApiRequest) {
  requireAccount(req);
  const name = scriptParam(req);
  const body = jsonBody<{
    strategy?: string;
    versions?: Array<{ version_id?: string; percentage?: number }>;
    annotations?: Record<string, unknown>;
  }>(req);
  if (body.strategy !== undefined && body.strategy !== "percentage") {
    throw new CfApiError(400, CfCode.DeploymentInvalid, `Unsupported deployment strategy "${body.strategy}"`);
  }
  const versions = (body.versions ?? []).map((v) => ({
    version_id: String(v.version_id ?? ""),
    percentage: Number(v.percentage),
  }));
  if (versions.length === 0 || versions.length > 2) {
    throw new CfApiError(400, CfCode.DeploymentInvalid, "A deployment needs one or two versions");
  }
  const total = versions.reduce((a, v) => a + v.percentage, 0);
  if (
    versions.some((v) => !Number.isFinite(v.percentage) || v.percentage < 0) ||
    Math.abs(total - 100) > 1e-9
  ) {
    throw new CfApiError(
      400,
      CfCode.DeploymentInvalid,
      `Version percentages must add up to 100 (got ${total})`,
    );
  }
  return req.services.store.mutate(async (draft) => {
    const script = requireScript(draft, name);
    for (const v of versions) {
      if (!script.versions.some((x) => x.id === v.version_id)) {
        throw new CfApiError(
          404,
          CfCode.VersionNotFound,
          `Version ${v.version_id} of Worker "${name}" not found`,
        );
      }
    }
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(body.annotations ?? {}))
      if (typeof v === "string") annotations[k] = v;
    const current = activeDeployment(script);
    if (current && versions.length === 1) {
      const target = script.versions.find((x) => x.id === versions[0]?.version_id);
      const newest = Math.max(
        ...current.versions.map((cv) => script.versions.find((x) => x.id === cv.version_id)?.number ?? 0),
      );
      if (target && target.number < newest) annotations["workers/triggered_by"] = "rollback";
    }
    const deployment = newDeployment(draft, versions, annotations);
    script.deployments.push(deployment);
    script.modified_on = nowIso();
    await applyRuntime(req, draft);
    return ok(deploymentObject(deployment));
  });
}

/** `PATCH /scripts/:script/settings` (multipart `settings` part, or JSON): may change bindings → new version. */
async function patchSettings(req: ApiRequest) {
  requireAccount(req);
  const name = scriptParam(req);
  const ct = contentType(req);
  let body: Record<string, unknown>;
  if (/multipart\/form-data/i.test(ct)) {
    const form = await parseFormData(req.body, ct);
    const part = form.get("settings");
    if (part === null) throw new CfApiError(400, CfCode.BadRequest, "Missing the `settings` part");
    try {
      body = JSON.parse(typeof part === "string" ? part : await part.text()) as Record<string, unknown>;
    } catch (error) {
      throw new CfApiError(
        400,
        CfCode.BadRequest,
        `The \`settings\` part is not JSON: ${(error as Error).message}`,
      );
    }
  } else {
    body = jsonBody<Record<string, unknown>>(req);
  }
  return req.services.store.mutate(async (draft) => {
    const script = requireScript(draft, name);
    applyScriptSettings(script, body);
    const previous = primaryVersion(script);
    const changesRuntime =
      body.bindings !== undefined ||
      body.compatibility_date !== undefined ||
      body.compatibility_flags !== undefined;
    if (changesRuntime && previous) {
      const mentioned = new Set(
        (Array.isArray(body.bindings) ? (body.bindings as Array<{ name?: string }>) : []).map((b) => b.name),
      );
      const bindings =
        body.bindings === undefined
          ? previous.bindings
          : resolveBindings(draft, name, body.bindings, previous, []);
      // Secrets left out of a bindings list are removed, as Cloudflare does.
      if (Array.isArray(body.bindings)) {
        for (const secretName of Object.keys(draft.secrets[name] ?? {})) {
          if (!mentioned.has(secretName)) delete draft.secrets[name]?.[secretName];
        }
      }
      const version: VersionRecord = {
        ...previous,
        id: uuid(),
        number: (script.versions.at(-1)?.number ?? 0) + 1,
        created_on: nowIso(),
        annotations: { "workers/triggered_by": "secret" },
        bindings,
        compatibility_date:
          typeof body.compatibility_date === "string" ? body.compatibility_date : previous.compatibility_date,
        compatibility_flags: Array.isArray(body.compatibility_flags)
          ? (body.compatibility_flags as string[])
          : previous.compatibility_flags,
      };
      script.versions.push(version);
      script.deployments.push(
        newDeployment(draft, [{ version_id: version.id, percentage: 100 }], {
          "workers/triggered_by": "secret",
        }),
      );
      await applyRuntime(req, draft);
    }
    return ok(settingsObject(draft, script));
  });
}

async function changeSecrets(
  req: ApiRequest,
  name: string,
  change: (secrets: Record<string, { type: string; text: string }>) => void,
) {
  return req.services.store.mutate(async (draft) => {
    const script = requireScript(draft, name);
    draft.secrets[name] ??= {};
    change(draft.secrets[name] as Record<string, { type: string; text: string }>);
    script.modified_on = nowIso();
    if (activeDeployment(script)) await applyRuntime(req, draft);
  });
}

function routeObject(r: RouteRecord) {
  return { id: r.id, pattern: r.pattern, script: r.script, zone_id: r.zone_id, zone_name: r.zone_name };
}

function domainObject(d: DomainRecord) {
  return {
    id: d.id,
    zone_id: d.zone_id,
    zone_name: d.zone_name,
    hostname: d.hostname,
    service: d.service,
    environment: d.environment,
    cert_id: d.id,
    enabled: true,
    previews_enabled: false,
  };
}

function routeHostname(pattern: string): string {
  const noScheme = pattern.replace(/^https?:\/\//i, "");
  return (noScheme.split("/")[0] ?? "").toLowerCase();
}

function upsertDomain(
  draft: CloudState,
  req: ApiRequest,
  hostname: string,
  service: string,
  override: boolean,
): DomainRecord {
  const host = hostname.toLowerCase();
  const existing = draft.domains.find((d) => d.hostname === host);
  if (existing && existing.service !== service && !override) {
    throw new CfApiError(
      409,
      CfCode.DomainConflict,
      `Hostname ${host} is already a Custom Domain of Worker "${existing.service}"`,
    );
  }
  const zone = ensureZoneForHostname(draft, host, req.services.strictZones);
  if (existing) {
    existing.service = service;
    return existing;
  }
  const record: DomainRecord = {
    id: randomHex32(),
    hostname: host,
    service,
    environment: "production",
    zone_id: zone.id,
    zone_name: zone.name,
    created_on: nowIso(),
  };
  draft.domains.push(record);
  return record;
}

/** `DELETE /scripts/:script` (and `/services/:script`): refuses while bound by another Worker unless forced. */
async function deleteScript(req: ApiRequest) {
  requireAccount(req);
  const name = req.params.script ?? "";
  return req.services.store.mutate(async (draft) => {
    requireScript(draft, name);
    const boundBy = Object.values(draft.scripts).find(
      (s) =>
        s.name !== name &&
        primaryVersion(s)?.bindings.some((b) => b.type === "service" && b.service === name),
    );
    if (boundBy && req.query.get("force") !== "true") {
      throw new CfApiError(
        400,
        CfCode.ServiceBindingTarget,
        `Worker "${name}" is bound by "${boundBy.name}"; delete with ?force=true to remove it anyway`,
      );
    }
    delete draft.scripts[name];
    delete draft.secrets[name];
    draft.routes = draft.routes.filter((r) => r.script !== name);
    draft.domains = draft.domains.filter((d) => d.service !== name);
    await applyRuntime(req, draft);
    return ok({ id: name });
  });
}

/** Workers endpoints: services, scripts, versions, deployments, settings, secrets, subdomains, routes, domains. */
export const workersRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/accounts/:account/workers/services/:script",
    handler: (req) => {
      const state = requireAccount(req);
      const script = state.scripts[req.params.script ?? ""];
      if (!script) throw new CfApiError(404, CfCode.ServiceNotFound, "workers.api.error.service_not_found");
      const summary = scriptSummary(state, script);
      return ok({
        id: script.name,
        default_environment: {
          environment: "production",
          created_on: script.created_on,
          modified_on: script.modified_on,
          script: summary,
        },
        created_on: script.created_on,
        modified_on: script.modified_on,
        environments: [
          { environment: "production", created_on: script.created_on, modified_on: script.modified_on },
        ],
      });
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts",
    handler: (req) => {
      const state = requireAccount(req);
      const all = Object.values(state.scripts)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((s) => scriptSummary(state, s));
      const { items, info } = paginate(all, req.query, Number.POSITIVE_INFINITY);
      return ok(items, info);
    },
  },
  { method: "PUT", pattern: "/accounts/:account/workers/scripts/:script", handler: putScript },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script",
    handler: async (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      const v = primaryVersion(script);
      const main = v ? mainModuleOf(v) : undefined;
      const body = main ? await req.services.store.getModule(main.sha256) : new Uint8Array();
      return { raw: true, status: 200, headers: { "content-type": "application/javascript" }, body };
    },
  },
  { method: "DELETE", pattern: "/accounts/:account/workers/scripts/:script", handler: deleteScript },
  { method: "DELETE", pattern: "/accounts/:account/workers/services/:script", handler: deleteScript },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/references",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      const incoming = Object.values(state.scripts).flatMap((s) =>
        s.name === name
          ? []
          : (primaryVersion(s)?.bindings ?? [])
              .filter((b) => b.type === "service" && b.service === name)
              .map((b) => ({ service: s.name, environment: "production", name: b.name })),
      );
      return ok({
        services: { incoming, outgoing: [], pages_function: false },
        durable_objects: [],
        dispatch_outbounds: [],
      });
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/tails/by-consumer/:script",
    handler: (req) => {
      requireAccount(req);
      return ok([]);
    },
  },
  {
    // wrangler delete looks for Workers Sites namespaces here; the local cloud has no KV management API.
    method: "GET",
    pattern: "/accounts/:account/storage/kv/namespaces",
    handler: (req) => {
      requireAccount(req);
      const { items, info } = paginate([], req.query, 20);
      return ok(items, info);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/durable_objects/namespaces",
    handler: (req) => {
      requireAccount(req);
      const { items, info } = paginate([], req.query, 1000);
      return ok(items, info);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/workers/:script",
    handler: (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      return ok({
        id: script.tag,
        name: script.name,
        created_on: script.created_on,
        updated_on: script.modified_on,
        logpush: script.settings.logpush,
        observability: script.settings.observability,
        subdomain: script.subdomain,
        tags: script.settings.tags,
        tail_consumers: script.settings.tail_consumers,
      });
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/settings",
    handler: (req) => {
      const state = requireAccount(req);
      return ok(settingsObject(state, requireScript(state, req.params.script ?? "")));
    },
  },
  { method: "PATCH", pattern: "/accounts/:account/workers/scripts/:script/settings", handler: patchSettings },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/script-settings",
    handler: (req) => {
      const state = requireAccount(req);
      const s = requireScript(state, req.params.script ?? "");
      return ok({ ...s.settings });
    },
  },
  {
    method: "PATCH",
    pattern: "/accounts/:account/workers/scripts/:script/script-settings",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<Record<string, unknown>>(req);
      const name = req.params.script ?? "";
      const result = await req.services.store.mutate((draft) => {
        const s = requireScript(draft, name);
        applyScriptSettings(s, body);
        return { ...s.settings };
      });
      return ok(result);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/subdomain",
    handler: (req) => ok({ subdomain: requireAccount(req).accountSubdomain }),
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/subdomain",
    handler: (req) => {
      const state = requireAccount(req);
      return ok({ ...requireScript(state, req.params.script ?? "").subdomain });
    },
  },
  {
    method: "POST",
    pattern: "/accounts/:account/workers/scripts/:script/subdomain",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ enabled?: unknown; previews_enabled?: unknown }>(req);
      if (typeof body.enabled !== "boolean") {
        throw new CfApiError(400, CfCode.BadRequest, "`enabled` must be a boolean");
      }
      const name = req.params.script ?? "";
      const result = await req.services.store.mutate((draft) => {
        const s = requireScript(draft, name);
        s.subdomain.enabled = body.enabled as boolean;
        s.subdomain.previews_enabled =
          typeof body.previews_enabled === "boolean" ? body.previews_enabled : (body.enabled as boolean);
        return { ...s.subdomain };
      });
      return ok(result);
    },
  },
  {
    method: "DELETE",
    pattern: "/accounts/:account/workers/scripts/:script/subdomain",
    handler: async (req) => {
      requireAccount(req);
      const name = req.params.script ?? "";
      const result = await req.services.store.mutate((draft) => {
        const s = requireScript(draft, name);
        s.subdomain = { enabled: false, previews_enabled: false };
        return { ...s.subdomain };
      });
      return ok(result);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/schedules",
    handler: (req) => {
      const state = requireAccount(req);
      return ok({ schedules: requireScript(state, req.params.script ?? "").schedules ?? [] });
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/scripts/:script/schedules",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<Array<{ cron?: unknown }>>(req);
      if (!Array.isArray(body) || body.some((c) => typeof c.cron !== "string")) {
        throw new CfApiError(400, CfCode.BadRequest, "Expected an array of `{ cron }`");
      }
      const name = req.params.script ?? "";
      const schedules = await req.services.store.mutate((draft) => {
        const s = requireScript(draft, name);
        const now = nowIso();
        s.schedules = body.map((c) => ({ cron: c.cron as string, created_on: now, modified_on: now }));
        return s.schedules;
      });
      return ok({ schedules });
    },
  },
  // Versions
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/versions",
    handler: (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      const all = [...script.versions].reverse().map((v) => versionObject(state, script, v));
      const { items, info } = paginate(all, req.query, Number.POSITIVE_INFINITY);
      return ok({ items }, info);
    },
  },
  { method: "POST", pattern: "/accounts/:account/workers/scripts/:script/versions", handler: postVersion },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/versions/:version",
    handler: (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      const v = script.versions.find((x) => x.id === req.params.version);
      if (!v) throw new CfApiError(404, CfCode.VersionNotFound, `Version ${req.params.version} not found`);
      return ok(versionObject(state, script, v));
    },
  },
  // Deployments
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/deployments",
    handler: (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      const all = [...script.deployments].reverse().map(deploymentObject);
      const { items, info } = paginate(all, req.query, Number.POSITIVE_INFINITY);
      return ok({ deployments: items, items }, info);
    },
  },
  {
    method: "POST",
    pattern: "/accounts/:account/workers/scripts/:script/deployments",
    handler: postDeployment,
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/deployments/:deployment",
    handler: (req) => {
      const state = requireAccount(req);
      const script = requireScript(state, req.params.script ?? "");
      const d = script.deployments.find((x) => x.id === req.params.deployment);
      if (!d)
        throw new CfApiError(404, CfCode.DeploymentInvalid, `Deployment ${req.params.deployment} not found`);
      return ok(deploymentObject(d));
    },
  },
  // Secrets
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/secrets",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      return ok(Object.entries(state.secrets[name] ?? {}).map(([n, s]) => ({ name: n, type: s.type })));
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/secrets/:secret",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      const s = state.secrets[name]?.[req.params.secret ?? ""];
      if (!s) throw new CfApiError(404, CfCode.SecretNotFound, `Secret ${req.params.secret} not found`);
      return ok({ name: req.params.secret, type: s.type });
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/scripts/:script/secrets",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ name?: unknown; text?: unknown; type?: unknown }>(req);
      if (typeof body.name !== "string" || body.name === "" || typeof body.text !== "string") {
        throw new CfApiError(400, CfCode.BadRequest, "A secret needs a string `name` and `text`");
      }
      const type = typeof body.type === "string" ? body.type : "secret_text";
      if (type !== "secret_text") {
        throw new CfApiError(
          400,
          CfCode.BadRequest,
          `Unsupported secret type "${type}" (the local cloud stores secret_text)`,
        );
      }
      const secretName = body.name;
      const text = body.text;
      await changeSecrets(req, req.params.script ?? "", (secrets) => {
        secrets[secretName] = { type, text };
      });
      return ok({ name: secretName, type });
    },
  },
  {
    method: "DELETE",
    pattern: "/accounts/:account/workers/scripts/:script/secrets/:secret",
    handler: async (req) => {
      requireAccount(req);
      const secretName = req.params.secret ?? "";
      await changeSecrets(req, req.params.script ?? "", (secrets) => {
        if (!secrets[secretName])
          throw new CfApiError(404, CfCode.SecretNotFound, `Secret ${secretName} not found`);
        delete secrets[secretName];
      });
      return ok(null);
    },
  },
  {
    method: "PATCH",
    pattern: "/accounts/:account/workers/scripts/:script/secrets-bulk",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{
        secrets?: Record<string, { name?: string; text?: string; type?: string } | null>;
      }>(req);
      if (!body.secrets || typeof body.secrets !== "object") {
        throw new CfApiError(
          400,
          CfCode.BadRequest,
          "Expected `{ secrets: { NAME: {name, text, type} | null } }`",
        );
      }
      const entries = Object.entries(body.secrets);
      for (const [key, value] of entries) {
        if (value !== null && (typeof value !== "object" || typeof value.text !== "string")) {
          throw new CfApiError(
            400,
            CfCode.BadRequest,
            `Secret ${key} needs a string \`text\` (or null to delete it)`,
          );
        }
      }
      await changeSecrets(req, req.params.script ?? "", (secrets) => {
        for (const [key, value] of entries) {
          if (value === null) delete secrets[key];
          else secrets[value.name ?? key] = { type: value.type ?? "secret_text", text: value.text as string };
        }
      });
      return ok({});
    },
  },
  // Routes
  {
    method: "GET",
    pattern: "/accounts/:account/workers/scripts/:script/routes",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      return ok(state.routes.filter((r) => r.script === name).map(routeObject));
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/scripts/:script/routes",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<Array<{ pattern?: unknown; zone_id?: unknown; zone_name?: unknown }>>(req);
      if (!Array.isArray(body)) throw new CfApiError(400, CfCode.BadRequest, "Expected an array of routes");
      const name = req.params.script ?? "";
      const result = await req.services.store.mutate((draft) => {
        requireScript(draft, name);
        draft.routes = draft.routes.filter((r) => r.script !== name);
        const out: RouteRecord[] = [];
        for (const r of body) {
          if (typeof r.pattern !== "string" || r.pattern === "") {
            throw new CfApiError(400, CfCode.BadRequest, "Every route needs a `pattern`");
          }
          const zone =
            (typeof r.zone_id === "string" ? draft.zones.find((z) => z.id === r.zone_id) : undefined) ??
            (typeof r.zone_name === "string" ? draft.zones.find((z) => z.name === r.zone_name) : undefined) ??
            ensureZoneForHostname(draft, routeHostname(r.pattern), req.services.strictZones);
          const taken = draft.routes.find((x) => x.pattern === r.pattern && x.script !== name);
          if (taken) {
            throw new CfApiError(
              409,
              10020,
              `Route ${r.pattern} is already assigned to Worker "${taken.script}"`,
            );
          }
          const rec: RouteRecord = {
            id: randomHex32(),
            pattern: r.pattern,
            script: name,
            zone_id: zone.id,
            zone_name: zone.name,
          };
          draft.routes.push(rec);
          out.push(rec);
        }
        return out.map(routeObject);
      });
      return ok(result);
    },
  },
  {
    method: "GET",
    pattern: "/zones/:zone/workers/routes",
    handler: (req) => {
      const state = req.services.store.state;
      const zone = requireZone(state, req.params.zone ?? "");
      return ok(state.routes.filter((r) => r.zone_id === zone.id).map(routeObject));
    },
  },
  {
    method: "POST",
    pattern: "/zones/:zone/workers/routes",
    handler: async (req) => {
      const body = jsonBody<{ pattern?: unknown; script?: unknown }>(req);
      if (typeof body.pattern !== "string")
        throw new CfApiError(400, CfCode.BadRequest, "A route needs a `pattern`");
      const pattern = body.pattern;
      const rec = await req.services.store.mutate((draft) => {
        const zone = requireZone(draft, req.params.zone ?? "");
        if (draft.routes.some((r) => r.pattern === pattern)) {
          throw new CfApiError(409, 10020, `Route ${pattern} already exists`);
        }
        const r: RouteRecord = {
          id: randomHex32(),
          pattern,
          script: typeof body.script === "string" ? body.script : "",
          zone_id: zone.id,
          zone_name: zone.name,
        };
        draft.routes.push(r);
        return r;
      });
      return ok(routeObject(rec));
    },
  },
  {
    method: "DELETE",
    pattern: "/zones/:zone/workers/routes/:route",
    handler: async (req) => {
      const id = req.params.route ?? "";
      await req.services.store.mutate((draft) => {
        requireZone(draft, req.params.zone ?? "");
        if (!draft.routes.some((r) => r.id === id)) throw new CfApiError(404, 10019, `Route ${id} not found`);
        draft.routes = draft.routes.filter((r) => r.id !== id);
      });
      return ok({ id });
    },
  },
  // Custom domains
  {
    method: "POST",
    pattern: "/accounts/:account/workers/scripts/:script/domains/changeset",
    handler: (req) => {
      const state = requireAccount(req);
      const name = req.params.script ?? "";
      requireScript(state, name);
      const origins = jsonBody<Array<{ hostname?: string }>>(req);
      if (!Array.isArray(origins))
        throw new CfApiError(400, CfCode.BadRequest, "Expected an array of origins");
      const wanted = new Set(origins.map((o) => String(o.hostname ?? "").toLowerCase()));
      const added: unknown[] = [];
      const updated: unknown[] = [];
      for (const host of wanted) {
        const existing = state.domains.find((d) => d.hostname === host);
        if (!existing) added.push({ hostname: host, previews_enabled: false });
        else updated.push({ ...domainObject(existing), modified: existing.service !== name });
      }
      const removed = state.domains
        .filter((d) => d.service === name && !wanted.has(d.hostname))
        .map(domainObject);
      return ok({ added, removed, updated, conflicting: [] });
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/scripts/:script/domains/records",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{
        override_scope?: boolean;
        override_existing_origin?: boolean;
        origins?: Array<{ hostname?: unknown }>;
      }>(req);
      if (!Array.isArray(body.origins))
        throw new CfApiError(400, CfCode.BadRequest, "Expected `origins`: an array");
      const name = req.params.script ?? "";
      const origins = body.origins;
      const result = await req.services.store.mutate((draft) => {
        requireScript(draft, name);
        const hosts = origins.map((o) => {
          if (typeof o.hostname !== "string" || o.hostname === "") {
            throw new CfApiError(400, CfCode.BadRequest, "Every origin needs a `hostname`");
          }
          return o.hostname.toLowerCase();
        });
        if (body.override_scope) {
          draft.domains = draft.domains.filter((d) => d.service !== name || hosts.includes(d.hostname));
        }
        return hosts.map((h) =>
          domainObject(upsertDomain(draft, req, h, name, body.override_existing_origin === true)),
        );
      });
      return ok(result);
    },
  },
  {
    method: "GET",
    pattern: "/accounts/:account/workers/domains",
    handler: (req) => {
      const state = requireAccount(req);
      const q = req.query;
      const all = state.domains
        .filter((d) => !q.get("hostname") || d.hostname === q.get("hostname"))
        .filter((d) => !q.get("service") || d.service === q.get("service"))
        .filter((d) => !q.get("zone_name") || d.zone_name === q.get("zone_name"))
        .filter((d) => !q.get("zone_id") || d.zone_id === q.get("zone_id"))
        .map(domainObject);
      const { items, info } = paginate(all, q, Number.POSITIVE_INFINITY);
      return ok(items, info);
    },
  },
  {
    method: "PUT",
    pattern: "/accounts/:account/workers/domains",
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ hostname?: unknown; service?: unknown }>(req);
      if (typeof body.hostname !== "string" || typeof body.service !== "string") {
        throw new CfApiError(400, CfCode.BadRequest, "A custom domain needs `hostname` and `service`");
      }
      const hostname = body.hostname;
      const service = body.service;
      const rec = await req.services.store.mutate((draft) => {
        requireScript(draft, service);
        return upsertDomain(draft, req, hostname, service, true);
      });
      return ok(domainObject(rec));
    },
  },
  ...[
    "/accounts/:account/workers/domains/:domain",
    "/accounts/:account/workers/domains/records/:domain",
  ].flatMap((pattern): Route[] => [
    {
      method: "GET",
      pattern,
      handler: (req) => {
        const state = requireAccount(req);
        const d = state.domains.find((x) => x.id === req.params.domain);
        if (!d) throw new CfApiError(404, 100114, `Custom domain ${req.params.domain} not found`);
        return ok(domainObject(d));
      },
    },
    {
      method: "DELETE",
      pattern,
      handler: async (req) => {
        requireAccount(req);
        const id = req.params.domain ?? "";
        await req.services.store.mutate((draft) => {
          if (!draft.domains.some((d) => d.id === id)) {
            throw new CfApiError(404, 100114, `Custom domain ${id} not found`);
          }
          draft.domains = draft.domains.filter((d) => d.id !== id);
        });
        return ok(null);
      },
    },
  ]),
];
