import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createManualClock, createRedactor } from "@lego/core";
import { describe, expect, it } from "vitest";
import {
  DeploymentAuditor,
  listRuns,
  type RunReport,
  readRunReport,
  renderReportMarkdown,
  resolveActor,
  writeRunReport,
} from "../src/index.ts";

const exec = promisify(execFile);
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

const report: RunReport = {
  runId: "20261125-050000-abcdef",
  command: "deploy api --env staging",
  target: { kind: "local", apiBaseUrl: "http://127.0.0.1:1234/client/v4" },
  who: "Ada <ada@example.com>",
  startedAt: "2026-11-25T05:00:00.000Z",
  finishedAt: "2026-11-25T05:00:04.000Z",
  durationMs: 4000,
  ok: false,
  services: [
    {
      service: "api",
      environment: "staging",
      scriptName: "api-staging",
      ok: false,
      versionBefore: "v-old",
      versionAfter: "v-new",
      url: "http://staging-api.example.com.localhost:1234/",
      rolledBack: true,
      error: { code: "ERR_TESTS_FAILED", message: "health <failed>", hint: "see the checks" },
      steps: [
        { name: "validate", status: "ok", startedAt: "2026-11-25T05:00:00.000Z", durationMs: 200 },
        {
          name: "deploy",
          status: "ok",
          startedAt: "2026-11-25T05:00:00.200Z",
          durationMs: 2000,
          message: "version v-new",
        },
        {
          name: "tests",
          status: "failed",
          startedAt: "2026-11-25T05:00:02.200Z",
          durationMs: 800,
          message: "1 check failed",
        },
        { name: "rollback", status: "ok", startedAt: "2026-11-25T05:00:03.000Z", durationMs: 1000 },
      ],
      tests: {
        ok: false,
        baseUrl: "http://staging-api.example.com.localhost:1234/",
        startedAt: "2026-11-25T05:00:02.200Z",
        durationMs: 800,
        checks: [
          { id: "health", ok: false, message: "GET /health: expected status 200, got 500", durationMs: 12 },
        ],
      },
    },
  ],
};

describe("DeploymentAuditor", () => {
  it("names the git user of the portfolio (its own config winning over the global one), else the OS user", async () => {
    const repo = await mkdtemp(join(tmpdir(), "lego-actor-"));
    await exec("git", ["init", "-q"], { cwd: repo });
    await exec("git", ["config", "user.name", "Ada Lovelace"], { cwd: repo });
    await exec("git", ["config", "user.email", "ada@example.com"], { cwd: repo });
    expect(await resolveActor(repo)).toBe("Ada Lovelace <ada@example.com>");
    // No git repository and no global config (HOME elsewhere): the OS user.
    const plain = await mkdtemp(join(tmpdir(), "lego-actor-plain-"));
    const home = process.env.HOME;
    const xdg = process.env.XDG_CONFIG_HOME;
    process.env.HOME = plain;
    process.env.XDG_CONFIG_HOME = plain;
    try {
      const who = await resolveActor(plain);
      expect(who).not.toContain("<");
      expect(who.length).toBeGreaterThan(0);
    } finally {
      process.env.HOME = home;
      if (xdg === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = xdg;
    }
    // The auditor starts the lookup when it is made and stamps every event with it.
    const auditor = new DeploymentAuditor({ root: repo });
    const event = await auditor.record({ runId: "r0", action: "run.started" });
    expect(event.who).toBe("Ada Lovelace <ada@example.com>");
  });

  it("appends events with who and when, and filters them", async () => {
    const root = await mkdtemp(join(tmpdir(), "lego-audit-"));
    const clock = createManualClock(Date.parse("2026-11-25T05:00:00Z"));
    const auditor = new DeploymentAuditor({
      root,
      who: "ci-bot",
      clock,
      redactor: createRedactor(["sekrit-value-1"]),
    });
    await auditor.record({
      runId: "r1",
      action: "deploy.started",
      service: "api",
      environment: "staging",
      target: "local",
    });
    await clock.sleep(60_000);
    await auditor.record({
      runId: "r1",
      action: "deploy.finished",
      service: "api",
      result: "ok",
      versionBefore: null,
      versionAfter: "v1",
      durationMs: 1200,
      details: { note: "sekrit-value-1" },
    });
    await auditor.logDeployment("r2", "started", { domains: ["auth"] });
    const lines = (await readFile(auditor.path, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatchObject({
      at: "2026-11-25T05:01:00.000Z",
      who: "ci-bot",
      action: "deploy.finished",
      versionAfter: "v1",
      details: { note: "***" },
    });
    expect(await auditor.query({ service: "api" })).toHaveLength(2);
    expect(await auditor.query({ since: new Date("2026-11-25T05:00:30Z") })).toHaveLength(2);
    expect((await auditor.query({ action: "deployment." }))[0]).toMatchObject({
      runId: "r2",
      details: { domains: ["auth"] },
    });
  });
});

describe("run reports", () => {
  it("writes json, md and html; lists and reads runs", async () => {
    const root = await mkdtemp(join(tmpdir(), "lego-report-"));
    const dir = await writeRunReport(root, report);
    expect(JSON.parse(await readFile(join(dir, "report.json"), "utf8"))).toEqual(report);
    const md = await readFile(join(dir, "report.md"), "utf8");
    expect(md).toContain("| tests | failed |");
    expect(md).toContain("rolled back");
    expect(renderReportMarkdown(report)).toBe(md);
    expect((await listRuns(root)).map((r) => r.runId)).toEqual([report.runId]);
    expect((await readRunReport(root, report.runId))?.command).toBe(report.command);
    const html = await readFile(join(dir, "report.html"), "utf8");
    expect(html).toContain("health &lt;failed&gt;");
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it.skipIf(!CHROMIUM && !process.env.CI)(
    "the HTML report renders in headless Chromium with its timeline and checks",
    async () => {
      expect(CHROMIUM, "CI installs Debian's chromium (.ci/run)").toBeDefined();
      const root = await mkdtemp(join(tmpdir(), "lego-report-html-"));
      const dir = await writeRunReport(root, report);
      const profile = await mkdtemp(join(tmpdir(), "lego-chromium-"));
      const flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
      ];
      const { stdout } = await exec(
        CHROMIUM as string,
        [...flags, "--dump-dom", `file://${join(dir, "report.html")}`],
        { timeout: 60_000 },
      );
      expect(stdout).toContain('<code id="run-id">20261125-050000-abcdef</code>');
      expect(stdout.match(/class="row"/g)).toHaveLength(4);
      expect(stdout).toContain('data-check="health" class="fail"');
      const png = join(profile, "report.png");
      await exec(
        CHROMIUM as string,
        [...flags, `--screenshot=${png}`, "--window-size=1000,700", `file://${join(dir, "report.html")}`],
        { timeout: 60_000 },
      );
      const bytes = await readFile(png);
      expect(bytes.subarray(1, 4).toString()).toBe("PNG");
      expect(bytes.length).toBeGreaterThan(5_000);
    },
  );
});
