/** Reading a Worker upload: bindings resolved against the account, modules stored by sha-256. */
import { nowIso, uuid } from "../../ids.ts";
import { SUPPORTED_BINDING_TYPES } from "../../runtime/plan.ts";
import type { BindingRecord, CloudState, ModuleRef, ScriptRecord, VersionRecord } from "../../state/types.ts";
import type { ApiRequest } from "../context.ts";
import { CfApiError, CfCode } from "../envelope.ts";
import { moduleTypeOf, type UploadedPart } from "../multipart.ts";
import { newBucket } from "../storage.ts";
import { assetsFromUpload } from "./assets.ts";
import { applyMigrations, checkDurableObjectBindings } from "./durable-objects.ts";
import { primaryVersion } from "./shared.ts";

/**
 * Checks and resolves uploaded bindings against the draft: `inherit` copies the previous binding, a
 * `secret_text` with text goes to the secrets store, D1 ids unknown to the account are created (so a
 * config with a fixed `database_id` deploys locally), and service targets must exist.
 */
export function resolveBindings(
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
    if (type === "kv_namespace") {
      const id = typeof b.namespace_id === "string" ? b.namespace_id : typeof b.id === "string" ? b.id : "";
      if (!id)
        throw new CfApiError(
          400,
          CfCode.ScriptValidation,
          `Binding "${name}" (kv_namespace) needs a \`namespace_id\``,
        );
      draft.kv ??= [];
      if (!draft.kv.some((n) => n.id === id)) draft.kv.push({ id, title: id, created_on: nowIso() });
    }
    if (type === "r2_bucket") {
      const bucket = typeof b.bucket_name === "string" ? b.bucket_name : "";
      if (!bucket)
        throw new CfApiError(
          400,
          CfCode.ScriptValidation,
          `Binding "${name}" (r2_bucket) needs a \`bucket_name\``,
        );
      draft.r2 ??= [];
      if (!draft.r2.some((x) => x.name === bucket)) draft.r2.push(newBucket(bucket));
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
export async function versionFromUpload(
  req: ApiRequest,
  draft: CloudState,
  script: ScriptRecord,
  metadata: Record<string, unknown>,
  parts: UploadedPart[],
  source: string,
): Promise<VersionRecord> {
  const mainModule = typeof metadata.main_module === "string" ? metadata.main_module : undefined;
  const bodyPart = typeof metadata.body_part === "string" ? metadata.body_part : undefined;
  const previous = primaryVersion(script);
  const assets = await assetsFromUpload(req, metadata, previous);
  if (!mainModule && !bodyPart && !assets) {
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
  if (mainIndex === -1 && entry !== undefined) {
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
  const bindings = resolveBindings(draft, script.name, metadata.bindings, previous, keep);
  const annotations: Record<string, string> = { "workers/triggered_by": "upload" };
  const rawAnn = metadata.annotations;
  if (rawAnn && typeof rawAnn === "object") {
    for (const [k, v] of Object.entries(rawAnn as Record<string, unknown>))
      if (typeof v === "string") annotations[k] = v;
  }
  const migrated = applyMigrations(script, metadata.migrations);
  checkDurableObjectBindings(script.name, bindings, migrated.classes);
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
    handlers: entry === undefined ? [] : ["fetch"],
    ...(assets ? { assets } : {}),
    ...(Object.keys(migrated.classes).length ? { durable_objects: migrated.classes } : {}),
    ...(migrated.tag ? { migration_tag: migrated.tag } : {}),
  };
}
