import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CloudflareClient, Deployment, WranglerRunner } from "@lego/cloudflare";
import { createManualClock, createRunJournal, isLegoError, OperationError } from "@lego/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AuditEvent,
  DeploymentAuditor,
  listRuns,
  RollbackManager,
  type RollbackScope,
  type RunReport,
  readRunReport,
  rejectedVersions,
  runRollback,
  writeRunReport,
} from "../src/index.ts";

const scope: RollbackScope = {
  service: "api",
  environment: "staging",
  scriptName: "api-staging",
  path: "/nowhere",
  wranglerEnv: "staging",
};

const deployment = (
  n: number,
  versionId: string,
  annotations: Deployment["annotations"] = { "workers/triggered_by": "upload" },
): Deployment => ({
  id: `d${n}`,
  created_on: new Date(Date.UTC(2026, 10, 25, 5, n)).toISOString(),
  versions: [{ version_id: versionId, percentage: 100 }],
  annotations,
});

/**
 * A Worker's deployments, newest first, as the API lists them; `wrangler rollback` appends one the
 * way the local cloud does (`workers/triggered_by: rollback` when the target is older than the live one).
 */
function fakeCloud(history: string[], options: { annotate?: boolean; failRollback?: boolean } = {}) {
  const deployments: Deployment[] = history.map((v, i) => deployment(i + 1, v)).reverse();
  const rollbacks: Array<{ versionId: string; message: string }> = [];
  const client = {
    listDeployments: async () => structuredClone(deployments),
  } as unknown as CloudflareClient;
  const wrangler = {
    rollback: async (opts: { versionId: string; message: string }) => {
      if (options.failRollback) throw new OperationError({ code: "ERR_WRANGLER_FAILED", message: "boom" });
      rollbacks.push({ versionId: opts.versionId, message: opts.message });
      deployments.unshift(
        deployment(deployments.length + 1, opts.versionId, {
          "workers/message": opts.message,
          ...(options.annotate === false ? {} : { "workers/triggered_by": "rollback" }),
        }),
      );
      return { stdout: "", stderr: "", exitCode: 0 };
    },
  } as unknown as WranglerRunner;
  return { client, wrangler, deployments, rollbacks };
}

const deployReport = (runId: string, before: string, after: string, rolledBack: boolean): RunReport => ({
  runId,
  command: "deploy api --env staging",
  target: { kind: "local" },
  who: "test",
  startedAt: "2026-11-25T05:00:00.000Z",
  finishedAt: "2026-11-25T05:00:01.000Z",
  durationMs: 1000,
  ok: !rolledBack,
  services: [
    {
      service: "api",
      environment: "staging",
      scriptName: "api-staging",
      ok: !rolledBack,
      versionBefore: before,
      versionAfter: after,
      rolledBack,
      steps: [],
    },
  ],
});

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-rollback-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("rejectedVersions", () => {
  it("rejects the versions a rollback deployment replaced, from the annotation or lego's message", () => {
    const deployments = [
      deployment(4, "v1", { "workers/message": "lego run 20261125-050000-aaaaaa: automatic rollback" }),
      deployment(3, "v3"),
      deployment(2, "v1", { "workers/triggered_by": "rollback" }),
      deployment(1, "v2"),
      deployment(0, "v1"),
    ];
    expect([...rejectedVersions(deployments, [], scope)].sort()).toEqual(["v2", "v3"]);
  });

  it("rejects only the versions a gradual deployment lost, not the one rolled back to", () => {
    const split: Deployment = {
      ...deployment(1, "v1"),
      versions: [
        { version_id: "v1", percentage: 90 },
        { version_id: "v2", percentage: 10 },
      ],
    };
    const deployments = [deployment(2, "v1", { "workers/triggered_by": "rollback" }), split];
    expect([...rejectedVersions(deployments, [], scope)]).toEqual(["v2"]);
  });

  it("rejects what run reports say was rolled back from, for this service and environment only", () => {
    const rollbackRun: RunReport = {
      ...deployReport("r3", "v4", "v1", false),
      kind: "rollback",
      command: "rollback api --env staging",
    };
    const other = deployReport("r4", "v1", "v9", true);
    other.services[0] = { ...other.services[0]!, environment: "production" };
    const reports = [
      deployReport("r1", "v1", "v2", true),
      deployReport("r2", "v1", "v3", false),
      rollbackRun,
      other,
    ];
    expect([...rejectedVersions([], reports, scope)].sort()).toEqual(["v2", "v4"]);
  });

  it("a plain upload history rejects nothing", () => {
    expect(rejectedVersions([deployment(2, "v2"), deployment(1, "v1")], [], scope).size).toBe(0);
  });
});

describe("RollbackManager.resolveTarget (the default target)", () => {
  it("after an automatic rollback, skips the broken version and goes to the good one before the live one", async () => {
    // v1, v2 good; v3 broken and rolled back to v2 by the deploy.
    const cloud = fakeCloud(["v1", "v2", "v3"]);
    const manager = new RollbackManager({ client: cloud.client, wrangler: cloud.wrangler, root });
    await manager.activate(scope, "v2", "lego run 20261125-050000-aaaaaa: automatic rollback");
    expect(await manager.resolveTarget(scope)).toEqual({ from: "v2", to: "v1" });
  });

  it("refuses (exit 2) instead of re-activating the broken version when nothing good is left", async () => {
    const cloud = fakeCloud(["v1", "broken"]);
    const manager = new RollbackManager({ client: cloud.client, wrangler: cloud.wrangler, root });
    await manager.activate(scope, "v1", "lego run 20261125-050000-aaaaaa: automatic rollback");
    const error = await manager.resolveTarget(scope).catch((e: unknown) => e);
    expect(isLegoError(error)).toBe(true);
    expect(error).toMatchObject({
      code: "ERR_ROLLBACK_NO_PREVIOUS",
      exitCode: 2,
      details: { from: "v1", rejected: ["broken"] },
    });
    expect((error as Error).message).toContain("broken");
  });

  it("uses the run reports when the deployments carry no rollback marker", async () => {
    const cloud = fakeCloud(["v1", "v2", "v3", "v2"]); // a rollback made outside lego, unannotated
    await writeRunReport(root, deployReport("20261125-050000-aaaaaa", "v2", "v3", true));
    const manager = new RollbackManager({ client: cloud.client, wrangler: cloud.wrangler, root });
    expect(await manager.resolveTarget(scope)).toEqual({ from: "v2", to: "v1" });
  });

  it("still picks the plain previous deployment after a good deploy", async () => {
    const manager = new RollbackManager({ ...fakeCloud(["v1", "v2"]), root });
    expect(await manager.resolveTarget(scope)).toEqual({ from: "v2", to: "v1" });
  });

  it("a second plain rollback does not undo the first", async () => {
    const cloud = fakeCloud(["v1", "v2"]);
    const manager = new RollbackManager({ client: cloud.client, wrangler: cloud.wrangler, root });
    await manager.rollback(scope);
    await expect(manager.resolveTarget(scope)).rejects.toMatchObject({ code: "ERR_ROLLBACK_NO_PREVIOUS" });
    expect(cloud.rollbacks.map((r) => r.versionId)).toEqual(["v1"]);
  });
});

describe("runRollback", () => {
  const context = async (cloud: ReturnType<typeof fakeCloud>) => {
    const clock = createManualClock(Date.UTC(2026, 10, 25, 5, 0, 0));
    const journal = await createRunJournal({ root, now: () => new Date(clock.now()) });
    const auditor = new DeploymentAuditor({ root, clock, who: "Ada <ada@example.com>" });
    return {
      root,
      command: "rollback api --env staging",
      target: { kind: "local" },
      client: cloud.client,
      wrangler: cloud.wrangler,
      auditor,
      journal,
      clock,
    };
  };
  const auditLines = async (): Promise<AuditEvent[]> =>
    (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEvent);

  it("writes a report that runs show/list find, and audits the versions", async () => {
    const cloud = fakeCloud(["v1", "v2"]);
    const ctx = await context(cloud);
    const run = await runRollback(scope, {}, ctx);
    expect(run).toMatchObject({ from: "v2", to: "v1", verified: false, runId: ctx.journal.runId });
    expect(cloud.rollbacks).toEqual([
      { versionId: "v1", message: `lego rollback (run ${ctx.journal.runId})` },
    ]);

    const report = await readRunReport(root, run.runId);
    expect(report).toMatchObject({
      kind: "rollback",
      command: "rollback api --env staging",
      ok: true,
      who: "Ada <ada@example.com>",
      services: [
        { service: "api", environment: "staging", ok: true, versionBefore: "v2", versionAfter: "v1" },
      ],
    });
    expect(report?.services[0]?.steps.map((s) => [s.name, s.status])).toEqual([
      ["rollback-point", "ok"],
      ["rollback", "ok"],
    ]);
    expect((await listRuns(root)).map((r) => r.runId)).toContain(run.runId);
    expect(await auditLines()).toEqual([
      expect.objectContaining({
        runId: run.runId,
        action: "rollback.finished",
        service: "api",
        environment: "staging",
        versionBefore: "v2",
        versionAfter: "v1",
        result: "ok",
      }),
    ]);
  });

  it("on a refused target: records a failed run with the live version, then rethrows the same error", async () => {
    const cloud = fakeCloud(["v1"]);
    const ctx = await context(cloud);
    const error = await runRollback(scope, {}, ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_ROLLBACK_NO_PREVIOUS", exitCode: 2 });
    const report = await readRunReport(root, ctx.journal.runId);
    expect(report).toMatchObject({
      ok: false,
      services: [
        {
          ok: false,
          versionBefore: "v1",
          versionAfter: "v1",
          error: { code: "ERR_ROLLBACK_NO_PREVIOUS", exitCode: 2 },
        },
      ],
    });
    expect((await auditLines()).at(-1)).toMatchObject({
      action: "rollback.finished",
      result: "failed",
      versionBefore: "v1",
      versionAfter: "v1",
      details: { error: "ERR_ROLLBACK_NO_PREVIOUS" },
    });
    expect(cloud.rollbacks).toEqual([]);
  });

  it("when wrangler fails: audits from and the intended target, live version unchanged", async () => {
    const cloud = fakeCloud(["v1", "v2"], { failRollback: true });
    const ctx = await context(cloud);
    await expect(runRollback(scope, {}, ctx)).rejects.toMatchObject({ code: "ERR_WRANGLER_FAILED" });
    expect((await auditLines()).at(-1)).toMatchObject({
      result: "failed",
      versionBefore: "v2",
      versionAfter: "v2",
      details: { to: "v1", error: "ERR_WRANGLER_FAILED" },
    });
    const report = await readRunReport(root, ctx.journal.runId);
    expect(report?.services[0]?.steps.map((s) => [s.name, s.status])).toEqual([
      ["rollback-point", "ok"],
      ["rollback", "failed"],
    ]);
  });
});

describe("wrangler's secrets placeholder is no rollback point", () => {
  // `lego secrets push` before the first deploy: wrangler uploads `export default { fetch() {} }` (no
  // compatibility date, 500 on every request), then a secrets version of it; then the first deploy.
  const runtime = (id: string) => ({
    id,
    resources: { script_runtime: id.startsWith("p") ? {} : { compatibility_date: "2025-09-01" } },
  });
  const cloud = (history: string[]) => {
    const fake = fakeCloud(history);
    (fake.client as unknown as { getVersion: (s: string, id: string) => Promise<unknown> }).getVersion =
      async (_s, id) => runtime(id);
    return fake;
  };

  it("a live placeholder is no rollback point: the first deploy after a push has none", async () => {
    const { client, wrangler } = cloud(["p-draft", "p-secrets"]);
    const manager = new RollbackManager({ client, wrangler, root: "/nowhere" });
    expect(await manager.createRollbackPoint("api-staging")).toBeUndefined();
  });

  it("a served version stays a rollback point", async () => {
    const { client, wrangler } = cloud(["p-draft", "p-secrets", "v-real"]);
    const manager = new RollbackManager({ client, wrangler, root: "/nowhere" });
    expect((await manager.createRollbackPoint("api-staging"))?.versions[0]?.versionId).toBe("v-real");
  });
});
