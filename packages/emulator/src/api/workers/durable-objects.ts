import { stableHex32 } from "../../ids.ts";
import type { BindingRecord, DurableObjectClass, ScriptRecord } from "../../state/types.ts";
import { requireAccount } from "../account.ts";
import { ok } from "../context.ts";
import { CfApiError, CfCode, paginate } from "../envelope.ts";
import type { Route } from "../router.ts";

/** One migration step as wrangler uploads it. */
interface MigrationStep {
  new_classes?: unknown;
  new_sqlite_classes?: unknown;
  renamed_classes?: unknown;
  deleted_classes?: unknown;
  transferred_classes?: unknown;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

function newClass(script: string, cls: string, storage: DurableObjectClass["storage"]): DurableObjectClass {
  return { storage, key: `${script}-${cls}`, id: stableHex32(`do:${script}:${cls}`) };
}

/**
 * Applies an upload's `migrations` (`{ old_tag?, new_tag, steps }` or one step inline) to the classes of
 * the script's newest version: `new_classes` (KV-backed), `new_sqlite_classes`, `renamed_classes` (the
 * objects keep their storage) and `deleted_classes`. A stale `old_tag` is Cloudflare's 400 / 10079.
 * Pure over its inputs.
 */
export function applyMigrations(
  script: ScriptRecord,
  migrations: unknown,
): { classes: Record<string, DurableObjectClass>; tag: string | undefined } {
  const latest = script.versions.at(-1);
  const classes: Record<string, DurableObjectClass> = { ...(latest?.durable_objects ?? {}) };
  const tag = latest?.migration_tag;
  if (migrations === undefined || migrations === null) return { classes, tag };
  if (typeof migrations !== "object")
    throw new CfApiError(400, CfCode.BadRequest, "metadata.migrations must be an object");
  const m = migrations as { old_tag?: unknown; new_tag?: unknown; steps?: unknown } & MigrationStep;
  if (typeof m.old_tag === "string" && m.old_tag !== (tag ?? "")) {
    throw new CfApiError(
      400,
      10079,
      `Migration tag precondition failed: the script's current tag is "${tag ?? ""}", the upload expects "${m.old_tag}"`,
    );
  }
  const steps: MigrationStep[] = Array.isArray(m.steps) ? (m.steps as MigrationStep[]) : [m];
  for (const step of steps) {
    for (const [list, storage] of [
      [step.new_classes, "legacy-kv"],
      [step.new_sqlite_classes, "sqlite"],
    ] as const) {
      for (const cls of strings(list)) {
        if (classes[cls]) {
          throw new CfApiError(400, 10074, `Cannot create Durable Object class "${cls}": it already exists`);
        }
        classes[cls] = newClass(script.name, cls, storage);
      }
    }
    const renamed = Array.isArray(step.renamed_classes)
      ? (step.renamed_classes as Array<{ from?: unknown; to?: unknown }>)
      : [];
    for (const r of renamed) {
      const from = String(r.from ?? "");
      const to = String(r.to ?? "");
      const old = classes[from];
      if (!old)
        throw new CfApiError(400, 10074, `Cannot rename Durable Object class "${from}": no such class`);
      if (classes[to]) throw new CfApiError(400, 10074, `Cannot rename to "${to}": that class exists`);
      delete classes[from];
      classes[to] = old;
    }
    for (const cls of strings(step.deleted_classes)) {
      if (!classes[cls])
        throw new CfApiError(400, 10074, `Cannot delete Durable Object class "${cls}": no such class`);
      delete classes[cls];
    }
  }
  return { classes, tag: typeof m.new_tag === "string" ? m.new_tag : tag };
}

/** Refuses a binding to a class of this script that no migration created (Cloudflare's 400). */
export function checkDurableObjectBindings(
  script: string,
  bindings: readonly BindingRecord[],
  classes: Record<string, DurableObjectClass>,
): void {
  for (const b of bindings) {
    if (b.type !== "durable_object_namespace") continue;
    const target = typeof b.script_name === "string" && b.script_name ? b.script_name : script;
    if (target !== script) continue;
    const cls = String(b.class_name ?? "");
    if (!classes[cls]) {
      throw new CfApiError(
        400,
        10061,
        `Cannot create binding for class '${cls}' because it is not currently configured to implement Durable Objects. Did you forget to apply a Durable Object migration (new_sqlite_classes)?`,
      );
    }
  }
}

/** `GET …/workers/durable_objects/namespaces`: every class of every script's newest version. */
export const durableObjectRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/accounts/:account/workers/durable_objects/namespaces",
    handler: (req) => {
      const state = requireAccount(req);
      const all = Object.values(state.scripts).flatMap((s) =>
        Object.entries(s.versions.at(-1)?.durable_objects ?? {}).map(([cls, d]) => ({
          id: d.id,
          name: `${s.name}_${cls}`,
          script: s.name,
          class: cls,
          use_sqlite: d.storage === "sqlite",
        })),
      );
      const { items, info } = paginate(all, req.query, 1000);
      return ok(items, info);
    },
  },
];
