import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedactor, isLegoError } from "@lego/core";
import type { ServiceRunReport } from "@lego/deployment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { executeRun } from "../src/run.ts";
import { listRunSummaries, readRun } from "../src/runs.ts";
import { executeServiceRun } from "../src/service-run.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-run-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const target = { kind: "local", apiBaseUrl: "http://127.0.0.1:1/client/v4" };
const service = (name: string, status: ServiceRunReport["status"] = "ok"): ServiceRunReport => ({
  service: name,
  environment: "staging",
  scriptName: `${name}-staging`,
  ok: status === "ok",
  status,
  steps: [],
});
const auditLines = async () =>
  (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("executeRun", () => {
  it("writes the journal, one audit writer's events (redacted) and the report, and releases the locks", async () => {
    const redactor = createRedactor(["s3cret-value"]);
    const { report, result, dir } = await executeRun(
      { root, kind: "deploy", command: "lego deploy a", services: ["a"], target, redactor, audit: undefined },
      async (run) => {
        await run.record({ action: "deploy.finished", service: "a", details: { note: "s3cret-value" } });
        return { services: [service("a")], result: 42 };
      },
    );
    expect(result).toBe(42);
    expect(report).toMatchObject({ ok: true, kind: "deploy", command: "lego deploy a" });
    const journal = (await readFile(join(dir, "journal.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(journal[0]).toMatchObject({
      type: "run.started",
      kind: "deploy",
      pid: process.pid,
      services: ["a"],
    });
    expect(journal.at(-1)).toMatchObject({ type: "run.finished", ok: true, result: "ok" });
    const audit = await auditLines();
    expect(audit.map((e) => e.action)).toEqual(["run.started", "deploy.finished", "run.finished"]);
    expect(new Set(audit.map((e) => e.who)).size).toBe(1);
    expect(JSON.stringify(audit)).not.toContain("s3cret-value");
    expect(JSON.parse(await readFile(join(dir, "report.json"), "utf8")).runId).toBe(report.runId);
    // Released: the same service can be run again.
    await executeRun({ root, kind: "deploy", command: "again", services: ["a"], target }, async () => ({
      services: [service("a")],
      result: 0,
    }));
  });

  it("runs over disjoint services go on at once; an overlapping run is exit 4 naming the holder's run", async () => {
    let release!: () => void;
    const holding = new Promise<void>((r) => {
      release = r;
    });
    let firstId = "";
    const first = executeRun(
      { root, kind: "deploy", command: "lego deploy a b", services: ["a", "b"], target },
      async (run) => {
        firstId = run.id;
        await holding;
        return { services: [service("a"), service("b")], result: undefined };
      },
    );
    await new Promise((r) => setTimeout(r, 50));
    const disjoint = await executeRun(
      { root, kind: "deploy", command: "lego deploy c", services: ["c"], target },
      async () => ({ services: [service("c")], result: "c done" }),
    );
    expect(disjoint.result).toBe("c done");
    const overlap = await executeRun(
      { root, kind: "rollback", command: "lego rollback b", services: ["b"], target },
      async () => ({ services: [], result: undefined }),
    ).catch((e: unknown) => e);
    expect(isLegoError(overlap) && overlap.exitCode).toBe(4);
    expect((overlap as Error).message).toContain(firstId);
    expect((overlap as Error).message).toContain("lego deploy a b");
    release();
    await first;
  });

  it("a lock left by a dead run is explained (its run and journal), and taken over with breakStaleLock", async () => {
    const dead = spawnSync(process.execPath, [
      "-e",
      "process.stdout.write(String(process.pid))",
    ]).stdout.toString();
    await mkdir(join(root, ".lego", "locks"), { recursive: true });
    await writeFile(
      join(root, ".lego", "locks", "a.lock"),
      JSON.stringify({
        pid: Number(dead),
        hostname: (await import("node:os")).hostname(),
        command: "lego deploy a",
        runId: "20261206-000000-dead00",
        journal: "/x/journal.jsonl",
        startedAt: "2026-12-06T00:00:00.000Z",
      }),
    );
    const run = () =>
      executeRun(
        { root, kind: "deploy", command: "lego deploy a", services: ["a"], target, breakStaleLock: broken },
        async () => ({
          services: [service("a")],
          result: undefined,
        }),
      );
    let broken = false;
    const error = await run().catch((e: unknown) => e);
    expect(isLegoError(error) && error.code).toBe("ERR_LOCK_STALE");
    expect((error as Error).message).toContain("20261206-000000-dead00");
    expect(isLegoError(error) && error.hint).toContain("/x/journal.jsonl");
    broken = true;
    await expect(run()).resolves.toBeDefined();
  });

  it("an interrupted run still writes journal, audit and report, then throws exit 130", async () => {
    const controller = new AbortController();
    const error = await executeRun(
      {
        root,
        kind: "deploy",
        command: "lego deploy a b",
        services: ["a", "b"],
        target,
        signal: controller.signal,
      },
      async () => {
        controller.abort();
        return { services: [service("a"), service("b", "interrupted")], result: undefined };
      },
    ).catch((e: unknown) => e);
    expect(isLegoError(error) && error.exitCode).toBe(130);
    const [summary] = await listRunSummaries(root);
    expect(summary).toMatchObject({ status: "interrupted", hasReport: true });
    expect((await auditLines()).at(-1)).toMatchObject({ action: "run.finished", result: "interrupted" });
  });

  it("a run killed mid-way (no run.finished, its pid gone) lists as interrupted, where its journal ends", async () => {
    const script = `
      const { executeRun } = await import(${JSON.stringify(new URL("../src/run.ts", import.meta.url).href)});
      await executeRun({ root: ${JSON.stringify(root)}, kind: "deploy", command: "lego deploy a b", services: ["a", "b"], target: { kind: "local" } },
        async (run) => { await run.journal.append("step.started", { service: "a", step: "deploy" }); process.kill(process.pid, "SIGKILL"); });
    `;
    const child = spawnSync(
      process.execPath,
      ["--conditions=@lego/source", "--input-type=module", "-e", script],
      {
        cwd: join(import.meta.dirname, ".."),
      },
    );
    expect(child.signal).toBe("SIGKILL");
    const [summary] = await listRunSummaries(root);
    expect(summary).toMatchObject({
      status: "interrupted",
      hasReport: false,
      lastEvent: "step.started a deploy",
    });
    expect(summary?.services).toEqual([
      { service: "a", status: "interrupted", step: "deploy" },
      { service: "b", status: "not started" },
    ]);
    expect((await readRun(root, summary?.runId as string))?.journal.length).toBe(2);
  });

  it("executeServiceRun reports every service it touches ok, or failed with the work's error, which it throws", async () => {
    const portfolio = { services: [] };
    const ok = await executeServiceRun(
      {
        root,
        portfolio,
        kind: "db.migrate",
        command: "lego db migrate a b",
        services: ["a", "b"],
        environment: "staging",
        target,
      },
      async () => "migrated",
    );
    expect(ok.result).toBe("migrated");
    expect(ok.report.services.map((s) => [s.service, s.status, s.environment])).toEqual([
      ["a", "ok", "staging"],
      ["b", "ok", "staging"],
    ]);
    const error = await executeServiceRun(
      {
        root,
        portfolio,
        kind: "db.migrate",
        command: "lego db migrate a",
        services: ["a"],
        environment: "staging",
        target,
      },
      async () => {
        throw new Error("boom");
      },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe("boom");
    // Two runs in one second: find the failed one by its command, not by order.
    const latest = (await listRunSummaries(root)).find((r) => r.command === "lego db migrate a");
    expect(latest).toMatchObject({
      kind: "db.migrate",
      status: "failed",
      services: [{ service: "a", status: "failed" }],
    });
  });
});
