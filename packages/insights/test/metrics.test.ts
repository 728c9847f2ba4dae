import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type AuditEvent, auditLogPath, serviceLockPath } from "@lego/core";
import { type RunReport, writeRunReport } from "@lego/deployment";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  classifyDeploys,
  deliveryMetrics,
  gitCommitTime,
  parseDuration,
  parseSince,
  percentile,
  readRunsInProgress,
  renderAnalyticsHtml,
} from "../src/index.ts";

const exec = promisify(execFile);
const MIN = 60_000;
const HOUR = 60 * MIN;
const until = new Date("2026-11-30T00:00:00.000Z");
const since = new Date(until.getTime() - 30 * 24 * HOUR);
const at = (day: number, h: number, m = 0) => new Date(Date.UTC(2026, 10, day, h, m)).toISOString();

const who = "Ada <ada@example.com>";
const ev = (e: Partial<AuditEvent> & Pick<AuditEvent, "action" | "at" | "runId">): AuditEvent => ({
  who,
  ...e,
});
const deploy = (
  runId: string,
  service: string,
  started: string,
  finished: string,
  result: AuditEvent["result"],
  versionBefore: string | null,
  versionAfter: string | null,
  commit?: string,
): AuditEvent[] => [
  ev({ action: "run.started", at: started, runId, details: commit ? { commit } : {} }),
  ev({ action: "deploy.started", at: started, runId, service, environment: "staging" }),
  ev({
    action: "deploy.finished",
    at: finished,
    runId,
    service,
    environment: "staging",
    result,
    versionBefore,
    versionAfter,
    durationMs: Date.parse(finished) - Date.parse(started),
  }),
];

// A crafted trail: 7 finished deploys in the window (4 ok), 6 changes, 3 failed changes (one rolled
// back by hand, one by its own deploy, one left failing until the next good deploy).
const events: AuditEvent[] = [
  ...deploy(
    "r0",
    "api",
    at(-10, 0) /* 21 October: before the window */,
    at(-10, 0, 1),
    "ok",
    null,
    "a0",
    "c0",
  ),
  ...deploy("r1", "api", at(10, 9, 59), at(10, 10), "ok", "a0", "a1", "c1"),
  ...deploy("r2", "web", at(10, 10, 4), at(10, 10, 5), "ok", null, "w1", "c1"),
  ...deploy("r3", "api", at(11, 9, 59), at(11, 10), "ok", "a1", "a2", "c2"),
  ev({
    action: "rollback.finished",
    at: at(11, 10, 30),
    runId: "r4",
    service: "api",
    environment: "staging",
    versionBefore: "a2",
    versionAfter: "a1",
    result: "ok",
  }),
  ...deploy("r5", "api", at(11, 11), at(11, 11, 2), "rolled-back", "a1", "a3", "c3"),
  ...deploy("r6", "web", at(12, 11, 59), at(12, 12), "failed", "w1", "w2", "c3"),
  ...deploy("r7", "web", at(12, 12, 59), at(12, 13), "ok", "w2", "w3", "c4"),
  ...deploy("r8", "api", at(13, 9), at(13, 9, 1), "failed", "a1", null, "c4"),
  ...deploy("r9", "api", at(13, 10), at(13, 10, 1), "interrupted", "a1", null, "c4"),
];
const commitTimes: Record<string, string> = {
  c0: at(-10, 0),
  c1: at(10, 9),
  c2: at(11, 8),
  c3: at(11, 10, 45),
  c4: at(12, 12, 30),
};

const report = (runId: string, service: string, steps: Array<[string, number]>): RunReport => ({
  runId,
  command: `lego deploy ${service} --env staging`,
  target: { kind: "local" },
  who,
  startedAt: at(10, 9),
  finishedAt: at(10, 10),
  durationMs: 60_000,
  ok: true,
  services: [
    {
      service,
      environment: "staging",
      scriptName: `${service}-staging`,
      ok: true,
      steps: steps.map(([name, durationMs]) => ({ name, status: "ok", startedAt: at(10, 9), durationMs })),
    },
  ],
});

describe("percentile and durations", () => {
  it("nearest rank, as the production tester's latency check", () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([40, 10, 30, 20], 50)).toBe(20);
    expect(percentile([40, 10, 30, 20], 95)).toBe(40);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
  });

  it("parses --interval and --since, and refuses anything else with exit 2", () => {
    expect(parseDuration("5s", "--interval")).toBe(5_000);
    expect(parseDuration("250ms", "--interval")).toBe(250);
    expect(parseDuration("2", "--interval")).toBe(2_000);
    expect(parseSince("30d", until.getTime()).toISOString()).toBe(since.toISOString());
    expect(parseSince("2026-11-01", until.getTime()).toISOString()).toBe("2026-11-01T00:00:00.000Z");
    for (const bad of ["soon", "0s", "-5s", "5 parsecs", ""]) {
      expect(() => parseDuration(bad, "--interval")).toThrowError(
        expect.objectContaining({ code: "ERR_BAD_DURATION", exitCode: 2 }),
      );
    }
    expect(() => parseSince("2099-01-01", until.getTime())).toThrowError(
      expect.objectContaining({ code: "ERR_BAD_DURATION", exitCode: 2 }),
    );
  });
});

describe("deliveryMetrics over a crafted audit trail on disk", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "lego-insights-"));
    await mkdir(join(root, ".lego"), { recursive: true });
    // One torn line (a crash mid-write) among the events: counted, never read as an event.
    const lines = events.map((e) => JSON.stringify(e));
    lines.splice(3, 0, '{"at":"2026-11-10T');
    await writeFile(auditLogPath(root), `${lines.join("\n")}\n`);
    await writeRunReport(
      root,
      report("r1", "api", [
        ["deploy", 3000],
        ["wait-live", 1000],
      ]),
    );
    await writeRunReport(
      root,
      report("r3", "api", [
        ["deploy", 5000],
        ["wait-live", 1000],
        ["tests", 2000],
      ]),
    );
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const metrics = () =>
    deliveryMetrics({
      root,
      since,
      until,
      commitTime: async (sha) => (commitTimes[sha] ? new Date(commitTimes[sha]) : undefined),
    });

  it("counts deploys, changes, failures and rollbacks for the portfolio and each service", async () => {
    const m = await metrics();
    expect(m.unreadable).toBe(1);
    expect(m.windowDays).toBe(30);
    expect(m.portfolio).toMatchObject({
      deploys: 7,
      successful: 4,
      deploysPerDay: 0.13,
      changes: 6,
      failedChanges: 3,
      changeFailureRate: 0.5,
      rollbacks: { automatic: 1, byHand: 1 },
    });
    const api = m.services.find((s) => s.service === "api");
    const web = m.services.find((s) => s.service === "web");
    expect(api).toMatchObject({
      deploys: 4,
      successful: 2,
      changes: 3,
      failedChanges: 2,
      changeFailureRate: 0.667,
    });
    expect(web).toMatchObject({
      deploys: 3,
      successful: 2,
      changes: 3,
      failedChanges: 1,
      changeFailureRate: 0.333,
    });
    expect(m.deploys.map((d) => [d.runId, d.failure ?? null])).toEqual([
      ["r1", null],
      ["r2", null],
      ["r3", "rolled-back-by-hand"],
      ["r5", "rolled-back"],
      ["r6", "failed"],
      ["r7", null],
      ["r8", null],
    ]);
    const nov = (d: string) => m.daily.find((x) => x.day === d);
    expect(nov("2026-11-10")).toEqual({ day: "2026-11-10", ok: 2, failed: 0 });
    expect(nov("2026-11-11")).toEqual({ day: "2026-11-11", ok: 1, failed: 1 });
    expect(m.daily).toHaveLength(31);
  });

  it("lead time is commit to live; time to restore is failure to a good version serving", async () => {
    const m = await metrics();
    // r1 1 h, r2 65 min, r3 2 h, r7 30 min: nearest-rank median 1 h, p95 2 h.
    expect(m.portfolio.leadTime).toEqual({
      count: 4,
      medianMs: HOUR,
      p95Ms: 2 * HOUR,
      meanMs: ((60 + 65 + 120 + 30) * MIN) / 4,
    });
    expect(m.deploys.find((d) => d.runId === "r2")?.leadTimeMs).toBe(65 * MIN);
    // By hand 30 min after it went live; by its own deploy 2 min from its start; left failing 1 h.
    expect(m.deploys.filter((d) => d.failure).map((d) => d.restoreMs)).toEqual([30 * MIN, 2 * MIN, HOUR]);
    expect(m.portfolio.timeToRestore).toEqual({
      count: 3,
      medianMs: 30 * MIN,
      meanMs: Math.round((92 * MIN) / 3),
      open: 0,
    });
  });

  it("where deploy time goes, from the run reports' step durations", async () => {
    const m = await metrics();
    const deployStep = m.portfolio.steps.find((s) => s.name === "deploy");
    expect(deployStep).toEqual({
      name: "deploy",
      count: 2,
      totalMs: 8000,
      meanMs: 4000,
      p50Ms: 3000,
      p95Ms: 5000,
      share: 8000 / 12000,
    });
    expect(m.portfolio.steps.map((s) => s.name).sort()).toEqual(["deploy", "tests", "wait-live"]);
    expect(m.services.find((s) => s.service === "web")?.steps).toEqual([]);
  });

  it("filters by service and by window", async () => {
    const web = await deliveryMetrics({
      root,
      since,
      until,
      service: "web",
      commitTime: async () => undefined,
    });
    expect(web.services.map((s) => s.service)).toEqual(["web"]);
    expect(web.portfolio).toMatchObject({ deploys: 3, leadTime: { count: 0, medianMs: null } });
    const lastDay = await deliveryMetrics({
      root,
      since: new Date(at(12, 0)),
      until,
      commitTime: async () => undefined,
    });
    expect(lastDay.portfolio).toMatchObject({ deploys: 3, successful: 1, changes: 2, failedChanges: 1 });
  });

  it("renders a self-contained HTML page with inline SVG charts", async () => {
    const html = renderAnalyticsHtml(await metrics());
    expect(html).toContain('<svg id="chart-daily"');
    expect(html).toContain('<svg id="chart-steps"');
    expect(html).toContain('data-day="2026-11-11" data-ok="1" data-failed="1"');
    expect(html).toContain('id="change-failure-rate"');
    expect(html).toContain("50%");
    expect(html).not.toMatch(/<script|<link|src="http|url\(/);
  });
});

describe("classifyDeploys", () => {
  it("a version put back by a run's failure policy is a failed change, reverted", () => {
    const [d] = classifyDeploys([
      ...deploy("p1", "api", at(10, 9), at(10, 9, 1), "ok", "a1", "a2"),
      ev({
        action: "rollback.finished",
        at: at(10, 9, 3),
        runId: "p1",
        service: "api",
        environment: "staging",
        versionBefore: "a2",
        versionAfter: "a1",
        result: "ok",
        details: { policy: true },
      }),
    ]);
    expect(d).toMatchObject({ failure: "reverted", restoreMs: 2 * MIN, change: true });
  });

  it("a rollback after a newer version went out does not blame the older deploy", () => {
    const ds = classifyDeploys([
      ...deploy("q1", "api", at(10, 9), at(10, 9, 1), "ok", "a1", "a2"),
      ...deploy("q2", "api", at(10, 10), at(10, 10, 1), "ok", "a2", "a3"),
      ev({
        action: "rollback.finished",
        at: at(10, 11),
        runId: "q3",
        service: "api",
        environment: "staging",
        versionBefore: "a3",
        versionAfter: "a2",
        result: "ok",
      }),
    ]);
    expect(ds.map((d) => d.failure ?? null)).toEqual([null, "rolled-back-by-hand"]);
  });
});

describe("gitCommitTime", () => {
  it("reads a commit's time with git log; undefined for an unknown sha", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lego-insights-git-"));
    const env = {
      ...process.env,
      GIT_AUTHOR_DATE: "2026-11-20T10:00:00Z",
      GIT_COMMITTER_DATE: "2026-11-20T10:00:00Z",
    };
    await exec("git", ["init", "-q"], { cwd: dir });
    await exec(
      "git",
      ["-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "--allow-empty", "-m", "x"],
      { cwd: dir, env },
    );
    const { stdout } = await exec("git", ["rev-parse", "HEAD"], { cwd: dir });
    expect((await gitCommitTime(dir, stdout.trim()))?.toISOString()).toBe("2026-11-20T10:00:00.000Z");
    expect(await gitCommitTime(dir, "0".repeat(40))).toBeUndefined();
    expect(await gitCommitTime(dir, "--help")).toBeUndefined();
    await rm(dir, { recursive: true, force: true });
  });
});

describe("readRunsInProgress", () => {
  it("a lock whose process lives is in progress; one whose process died is stale", async () => {
    const root = await mkdtemp(join(tmpdir(), "lego-insights-locks-"));
    const child = spawn(process.execPath, ["-e", ""]);
    const deadPid = await new Promise<number>((resolve) =>
      child.on("exit", () => resolve(child.pid as number)),
    );
    const lock = (service: string, pid: number, runId: string, startedAt = at(10, 9)) =>
      mkdir(join(root, ".lego", "locks"), { recursive: true }).then(() =>
        writeFile(
          serviceLockPath(root, service),
          JSON.stringify({ pid, hostname: hostname(), command: `lego deploy ${service}`, runId, startedAt }),
        ),
      );
    await lock("api", process.pid, "20261110-090000-aaaaaa");
    await lock("web", process.pid, "20261110-090000-aaaaaa");
    await lock("db", deadPid, "20261110-080000-bbbbbb", at(10, 8));
    await mkdir(join(root, ".lego", "runs", "20261110-090000-aaaaaa"), { recursive: true });
    await writeFile(
      join(root, ".lego", "runs", "20261110-090000-aaaaaa", "journal.jsonl"),
      [
        {
          at: at(10, 9),
          type: "run.started",
          command: "lego deploy api web",
          services: ["api", "web"],
          pid: process.pid,
          hostname: hostname(),
        },
        { at: at(10, 9), type: "step.started", service: "api", step: "wait-live" },
      ]
        .map((e) => JSON.stringify(e))
        .join("\n"),
    );
    const runs = await readRunsInProgress(root);
    expect(runs.map((r) => [r.runId, r.state, r.services])).toEqual([
      ["20261110-080000-bbbbbb", "stale", ["db"]],
      ["20261110-090000-aaaaaa", "running", ["api", "web"]],
    ]);
    expect(runs[1]?.steps).toContainEqual({ service: "api", status: "running", step: "wait-live" });
    await rm(root, { recursive: true, force: true });
  });
});
