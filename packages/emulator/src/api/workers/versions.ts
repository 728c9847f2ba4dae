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
  versionObject,
} from "./shared.ts";
import { versionFromUpload } from "./upload.ts";

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
