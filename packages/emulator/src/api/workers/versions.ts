import { nowIso } from "../../ids.ts";
import { activeDeployment } from "../../runtime/plan.ts";
import { WorkerStartupError } from "../../runtime/runner.ts";
import type { CloudState, ScriptRecord, VersionRecord } from "../../state/types.ts";
import { requireAccount } from "../account.ts";
import { type ApiRequest, contentType, jsonBody, ok } from "../context.ts";
import { CfApiError, CfCode, paginate } from "../envelope.ts";
import { parseWorkerUpload } from "../multipart.ts";
import type { Route } from "../router.ts";
import {
  applyRuntime,
  deploymentObject,
  newDeployment,
  requireScript,
  scriptParam,
  startupRefusal,
  versionObject,
} from "./shared.ts";
import { versionFromUpload } from "./upload.ts";

/** A deployment of `version` alone at 100%, as wrangler's next call on a redeploy makes it. */
function deployedAlone(draft: CloudState, script: ScriptRecord, version: VersionRecord): ScriptRecord {
  return {
    ...script,
    versions: script.versions.some((v) => v.id === version.id)
      ? script.versions
      : [...script.versions, version],
    deployments: [
      ...script.deployments,
      newDeployment(draft, [{ version_id: version.id, percentage: 100 }], {}),
    ],
  };
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
  try {
    await req.services.runtime.prepare({
      ...draft,
      scripts: { ...draft.scripts, [script.name]: deployedAlone(draft, script, version) },
    });
  } catch (error) {
    if (!(error instanceof WorkerStartupError)) throw error;
    await req.services.runtime.validate(script.name, version, secrets);
  }
}

/** What an upload adds to the draft, for the check that follows it. */
interface Upload {
  script: string;
  version: VersionRecord;
  newD1: boolean;
  response: ReturnType<typeof ok>;
}

/** Refuses the group as a whole, so each upload is checked on its own. */
class CheckAlone extends Error {}

/**
 * Proves the uploads of a group start. One upload: as {@link checkVersionStarts}. Several (wrangler
 * processes uploading at once): one build of every Worker with each new version deployed at 100%, which
 * their deployments then reuse when they also arrive together; any doubt (a new D1, two versions of one
 * Worker, a build that fails) checks each upload on its own.
 */
async function checkUploads(req: ApiRequest, draft: CloudState, uploads: Upload[]): Promise<void> {
  try {
    if (uploads.length === 1) {
      const [u] = uploads as [Upload];
      const script = requireScript(draft, u.script);
      await checkVersionStarts(req, draft, script, u.version, !u.newD1);
      // A D1 created by this upload must be loaded by the runtime for the API.
      if (u.newD1) await applyRuntime(req, draft);
      return;
    }
    const names = new Set(uploads.map((u) => u.script));
    if (names.size !== uploads.length || uploads.some((u) => u.newD1)) throw new CheckAlone();
    const scripts = { ...draft.scripts };
    for (const u of uploads)
      scripts[u.script] = deployedAlone(draft, requireScript(draft, u.script), u.version);
    await req.services.runtime.prepare({ ...draft, scripts }).catch((error: unknown) => {
      throw error instanceof WorkerStartupError ? new CheckAlone() : error;
    });
  } catch (error) {
    throw startupRefusal(error);
  }
}

/**
 * `POST /scripts/:script/versions`: upload a version without deploying it. While the local cloud is busy
 * with other changes (several wrangler processes deploying at once), the version is first checked on its
 * own in a throwaway workerd, outside the queue of changes and beside the other checks, then recorded,
 * and checked again only by the grouped build of its deployment; otherwise it is checked by the build
 * its deployment reuses ({@link checkUploads}).
 */
async function postVersion(req: ApiRequest) {
  requireAccount(req);
  const name = scriptParam(req);
  const upload = await parseWorkerUpload(req.body, contentType(req));
  const { store, runtime } = req.services;
  let checked = false;
  if (store.busy) {
    const probe = structuredClone(store.state);
    const script = requireScript(probe, name);
    const d1Before = probe.d1.length;
    const version = await versionFromUpload(req, probe, script, upload.metadata, upload.parts, "wrangler");
    if (probe.d1.length === d1Before) {
      await runtime.validate(name, version, probe.secrets[name] ?? {}).catch((error: unknown) => {
        throw startupRefusal(error);
      });
      checked = true;
    }
  }
  const record = async (draft: CloudState): Promise<Upload> => {
    const script = requireScript(draft, name);
    const d1Before = draft.d1.length;
    const version = await versionFromUpload(req, draft, script, upload.metadata, upload.parts, "wrangler");
    script.versions.push(version);
    script.modified_on = nowIso();
    return {
      script: name,
      version,
      newD1: draft.d1.length !== d1Before,
      response: ok(versionObject(draft, script, version)),
    };
  };
  if (checked) return (await store.mutate(record)).response;
  const { response } = await store.mutateGrouped<Upload>("workers-upload", record, (draft, uploads) =>
    checkUploads(req, draft, uploads),
  );
  return response;
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
  return req.services.store.mutateGrouped(
    "workers-deploy",
    (draft) => {
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
      return ok(deploymentObject(deployment));
    },
    // Deployments that arrive together start together: one build of every Worker for the group.
    (draft) => applyRuntime(req, draft),
  );
}

/** Versions and deployments (upload without deploying, deploy at percentages, rollback). */
export const versionRoutes: Route[] = [
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
];
