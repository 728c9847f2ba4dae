// `lego monitor` and `lego analytics` (issue 16 items 3 and 4) with the built CLI on the local cloud:
// a two-service portfolio in a git repository, a few deploys and a rollback by hand, a version left
// failing; then the snapshot is checked against the emulator's API and the metrics against what the
// test did, and the analytics page is rendered in headless Chromium.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/run.ts";
import { capture } from "../helpers.ts";
import { assertBuilt, runBuilt, tempHome } from "./built.ts";

const exec = promisify(execFile);
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

const WRANGLER = (name: string) => `{
  "name": "${name}",
  "main": "src/index.js",
  "compatibility_date": "2025-09-01",
  "version_metadata": { "binding": "CF_VERSION_METADATA" },
  "env": {
    "staging": {
      "version_metadata": { "binding": "CF_VERSION_METADATA" },
      "routes": [{ "pattern": "staging-${name}.example.com", "custom_domain": true }]
    }
  }
}
`;

// The health body names the version: a broken version is told from a starting one (wait-live).
const WORKER = (name: string, release: string, healthStatus: number) => `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const body = { ok: ${healthStatus} === 200, service: "${name}", release: "${release}", version: env.CF_VERSION_METADATA?.id ?? null };
    if (url.pathname === "/health") return Response.json(body, { status: ${healthStatus} });
    return new Response("${name} ${release}\\n");
  },
};
`;

const DOMAINS = (name: string) => `export const domains = {
  ${JSON.stringify(name)}: {
    name: ${JSON.stringify(name)},
    displayName: ${JSON.stringify(name)},
    domains: { staging: "staging-${name}.example.com" },
    features: {},
    tests: { health: { path: "/health", expectStatus: 200, expectJson: { ok: true } } },
  },
};
`;

async function writeService(root: string, name: string, release: string, healthStatus = 200): Promise<void> {
  const dir = join(root, "services", name);
  await mkdir(join(dir, "src", "config"), { recursive: true });
  await writeFile(join(dir, "wrangler.jsonc"), WRANGLER(name));
  await writeFile(join(dir, "src", "index.js"), WORKER(name, release, healthStatus));
  await writeFile(join(dir, "src", "config", "domains.js"), DOMAINS(name));
}

describe("lego monitor and lego analytics on the local cloud", () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let root: string;
  let env: Record<string, string>;
  let cloud: { apiBaseUrl: string; token: string; accountId: string };
  const lego = (args: string[], timeout = 120_000) => runBuilt([...args, "--root", root], { env, timeout });
  const git = async (...args: string[]) => (await exec("git", args, { cwd: root })).stdout.trim();
  const commit = async (message: string) => {
    await git("add", "-A");
    await git("commit", "-q", "-m", message);
    return git("rev-parse", "HEAD");
  };
  /** What the emulator's API says serves a script: the newest deployment's versions and shares. */
  const serving = async (script: string) => {
    const res = await fetch(
      `${cloud.apiBaseUrl}/accounts/${cloud.accountId}/workers/scripts/${script}/deployments`,
      { headers: { authorization: `Bearer ${cloud.token}` } },
    );
    const body = (await res.json()) as {
      result: { deployments: Array<{ versions: Array<{ version_id: string; percentage: number }> }> };
    };
    return (body.result.deployments[0]?.versions ?? []).map((v) => ({
      versionId: v.version_id,
      percentage: v.percentage,
    }));
  };
  const heads: string[] = [];
  let helloV1: string;
  let helloV2: string;
  let broken: string;

  beforeAll(async () => {
    assertBuilt();
    home = await tempHome();
    root = join(home.dir, "portfolio");
    env = { LEGO_HOME: home.legoHome, HOME: home.dir };
    await writeService(root, "hello", "v1");
    await writeService(root, "world", "v1");
    await writeFile(join(root, ".gitignore"), ".lego/\n");
    await git("init", "-q");
    await git("config", "user.name", "Ada");
    await git("config", "user.email", "ada@example.com");
    heads.push(await commit("v1"));
    const up = await runBuilt(["local", "up", "--port", "0", "--zone", "example.com", "--json"], {
      env,
      timeout: 60_000,
    });
    expect(up.exitCode, up.stderr).toBe(0);
    cloud = JSON.parse(await readFile(join(home.legoHome, "local", "server.json"), "utf8"));
  }, 90_000);

  afterAll(async () => {
    await runBuilt(["local", "down"], { env });
    await home?.dispose();
  });

  it("deploys two services, a new version of one, and rolls it back by hand", async () => {
    const all = await lego(["deploy", "--all", "--env", "staging", "--json", "--no-tests"]);
    expect(all.exitCode, all.stderr).toBe(0);
    helloV1 = JSON.parse(all.stdout).data.services.find(
      (s: { service: string }) => s.service === "hello",
    ).versionAfter;
    await writeService(root, "hello", "v2");
    heads.push(await commit("hello v2"));
    const v2 = await lego(["deploy", "hello", "--env", "staging", "--json", "--no-tests"]);
    expect(v2.exitCode, v2.stderr).toBe(0);
    helloV2 = JSON.parse(v2.stdout).data.services[0].versionAfter;
    const rolled = await lego(["rollback", "hello", "--env", "staging", "--json"]);
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    expect(JSON.parse(rolled.stdout).data).toMatchObject({ from: helloV2, to: helloV1 });
    // The run engine records the commit each run deployed (what lead time is measured from).
    const audit = (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const commits = audit.filter((e) => e.action === "run.started").map((e) => e.details?.commit);
    expect(commits).toEqual([heads[0], heads[1], heads[1]]);
  }, 150_000);

  it("lego monitor --once --json: what serves as the API says, health with p50/p95, the last change", async () => {
    const res = await lego(["monitor", "--env", "staging", "--once", "--json", "--probes", "4"]);
    expect(res.exitCode, res.stderr).toBe(0);
    const snap = JSON.parse(res.stdout).data;
    expect(snap).toMatchObject({ environment: "staging", healthy: true, target: { kind: "local" } });
    expect(snap.services.map((s: { service: string }) => s.service)).toEqual(["hello", "world"]);
    for (const s of snap.services) {
      expect(s.serving).toEqual(await serving(s.scriptName));
      expect(s.state).toBe("healthy");
      expect(s.health).toMatchObject({ ok: true, probes: 4, failures: 0, statuses: { 200: 4 } });
      expect(s.health.p50Ms).toBeGreaterThan(0);
      expect(s.health.p95Ms).toBeGreaterThanOrEqual(s.health.p50Ms);
      expect(s.runs).toEqual([]);
    }
    const hello = snap.services[0];
    expect(hello.serving).toEqual([{ versionId: helloV1, percentage: 100 }]);
    expect(hello.lastChange).toMatchObject({
      action: "rollback.finished",
      who: "Ada <ada@example.com>",
      result: "ok",
      versionBefore: helloV2,
      versionAfter: helloV1,
    });
    expect(snap.runs).toEqual([]);
    // Without a terminal (and without --once), it renders once and exits: the human view on stdout.
    const plain = await lego(["monitor", "--env", "staging", "--probes", "2"]);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stdout).toContain("staging on local · 2 services · all healthy");
    expect(plain.stdout).toMatch(new RegExp(`hello\\s+${helloV1.slice(0, 8)} 100%\\s+healthy p50`));
  }, 60_000);

  it("on a terminal it redraws in place until Ctrl-C (exit 0); a lock left by a dead run shows as stale", async () => {
    // No pty for the built CLI here: the same command runs in-process with terminal streams.
    const dead = await exec(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    await mkdir(join(root, ".lego", "locks"), { recursive: true });
    const lock = join(root, ".lego", "locks", "world.lock");
    await writeFile(
      lock,
      JSON.stringify({
        pid: Number(dead.stdout),
        hostname: (await import("node:os")).hostname(),
        command: "lego deploy world --env staging",
        runId: "20261201-000000-dead00",
        startedAt: new Date().toISOString(),
      }),
    );
    const stdout = capture(true);
    const stderr = capture(true);
    const controller = new AbortController();
    const frames = () => stderr.text.split("all healthy").length - 1;
    const watching = runCli(
      ["monitor", "--env", "staging", "--interval", "200ms", "--probes", "1", "--root", root],
      {
        env,
        cwd: root,
        stdout,
        stderr,
        isTTY: true,
        signal: controller.signal,
      },
    );
    const started = Date.now();
    while (frames() < 2 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const outcome = await watching;
    await rm(lock);
    expect(outcome.exitCode, stderr.text).toBe(0);
    expect(frames()).toBeGreaterThanOrEqual(2);
    // log-update erases the previous frame (cursor up, erase line) before drawing the next.
    expect(stderr.text).toMatch(/\u001b\[1A|\u001b\[2K/);
    expect(stderr.text).toContain("stale lock");
    expect(stderr.text).toContain("lego deploy world --env staging");
    expect(stderr.text).toContain("Ctrl-C to stop");
    expect(stdout.text).toBe("");
  }, 60_000);

  it("a version left failing (--no-rollback) makes lego monitor exit 1 naming it", async () => {
    await writeService(root, "hello", "broken", 500);
    heads.push(await commit("hello broken"));
    const dep = await lego([
      "deploy",
      "hello",
      "--env",
      "staging",
      "--json",
      "--no-rollback",
      "--live-timeout",
      "20",
    ]);
    expect(dep.exitCode, dep.stderr).toBe(1);
    // The broken version serves (nothing rolled it back): as the audit trail and the API both say.
    const audit = (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const finished = audit.filter((e) => e.action === "deploy.finished").at(-1);
    expect(finished).toMatchObject({ service: "hello", result: "failed" });
    broken = finished.versionAfter;
    const apiSays = await serving("hello-staging");
    expect(apiSays).toEqual([{ versionId: broken, percentage: 100 }]);
    expect(broken).not.toBe(helloV1);

    const res = await lego(["monitor", "--env", "staging", "--once", "--json", "--probes", "3"]);
    expect(res.exitCode, res.stderr).toBe(1);
    const doc = JSON.parse(res.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe("ERR_UNHEALTHY");
    expect(doc.error.message).toContain("hello");
    const snap = doc.error.details.snapshot;
    expect(snap.healthy).toBe(false);
    const [hello, world] = snap.services;
    expect(hello).toMatchObject({ state: "unhealthy", serving: apiSays });
    expect(hello.health).toMatchObject({ ok: false, failures: 3, statuses: { 500: 3 } });
    expect(hello.health.problem).toContain("expected status 200, got 500");
    expect(hello.lastChange).toMatchObject({
      action: "deploy.finished",
      result: "failed",
      versionAfter: broken,
    });
    expect(world.state).toBe("healthy");
    expect(world.serving).toEqual(await serving("world-staging"));
  }, 90_000);

  it("lego analytics --json counts what the test did; the HTML page renders in Chromium", async () => {
    const res = await lego(["analytics", "--json"]);
    expect(res.exitCode, res.stderr).toBe(0);
    const m = JSON.parse(res.stdout).data;
    // Deploys: hello v1, world v1, hello v2, hello broken. Failed changes: v2 (rolled back by hand) and
    // the broken version (left failing, not restored yet).
    expect(m.portfolio).toMatchObject({
      deploys: 4,
      successful: 3,
      changes: 4,
      failedChanges: 2,
      changeFailureRate: 0.5,
      rollbacks: { automatic: 0, byHand: 1 },
      timeToRestore: { count: 1, open: 1 },
    });
    expect(m.portfolio.deploysPerDay).toBe(Math.round((3 / 30) * 100) / 100);
    expect(m.portfolio.leadTime.count).toBe(3);
    expect(m.portfolio.leadTime.medianMs).toBeGreaterThan(0);
    const hello = m.services.find((s: { service: string }) => s.service === "hello");
    const world = m.services.find((s: { service: string }) => s.service === "world");
    expect(hello).toMatchObject({ deploys: 3, changes: 3, failedChanges: 2, changeFailureRate: 0.667 });
    expect(world).toMatchObject({ deploys: 1, changes: 1, failedChanges: 0, changeFailureRate: 0 });
    expect(m.deploys.map((d: { commit: string }) => d.commit)).toEqual([
      heads[0],
      heads[0],
      heads[1],
      heads[2],
    ]);
    const steps = m.portfolio.steps.map((s: { name: string }) => s.name);
    expect(steps).toEqual(expect.arrayContaining(["rollback-point", "deploy", "wait-live"]));
    expect(m.htmlPath).toBe(join(root, ".lego", "analytics.html"));
    const html = await readFile(m.htmlPath, "utf8");
    expect(html).not.toMatch(/<script|<link|src="http/);

    // --html elsewhere: the page above stays for Chromium below.
    const other = join(home.dir, "world.html");
    const filtered = await lego([
      "analytics",
      "--service",
      "world",
      "--since",
      "1d",
      "--json",
      "--html",
      other,
    ]);
    expect(filtered.exitCode, filtered.stderr).toBe(0);
    const world1d = JSON.parse(filtered.stdout).data;
    expect(world1d.htmlPath).toBe(other);
    expect(await readFile(other, "utf8")).toContain('<tr data-service="world">');
    expect(world1d.windowDays).toBe(1);
    expect(world1d.services.map((s: { service: string }) => s.service)).toEqual(["world"]);
    expect(world1d.portfolio).toMatchObject({ deploys: 1, successful: 1, deploysPerDay: 1 });
  }, 60_000);

  it.skipIf(!CHROMIUM && !process.env.CI)(
    "the analytics page renders in headless Chromium with its charts",
    async () => {
      expect(CHROMIUM, "CI installs Debian's chromium (.ci/run)").toBeDefined();
      const page = join(root, ".lego", "analytics.html");
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
      const { stdout } = await exec(CHROMIUM as string, [...flags, "--dump-dom", `file://${page}`], {
        timeout: 60_000,
      });
      expect(stdout).toContain('<svg id="chart-daily"');
      expect(stdout).toContain('<svg id="chart-steps"');
      expect(stdout).toMatch(/data-day="\d{4}-\d{2}-\d{2}" data-ok="3" data-failed="1"/);
      expect(stdout).toContain('data-step="deploy"');
      expect(stdout).toContain('<tr data-service="hello">');
      expect(stdout).toMatch(/id="change-failure-rate">.*50%/s);
      const png = join(profile, "analytics.png");
      await exec(
        CHROMIUM as string,
        [...flags, `--screenshot=${png}`, "--window-size=1000,900", `file://${page}`],
        {
          timeout: 60_000,
        },
      );
      const bytes = await readFile(png);
      expect(bytes.subarray(1, 4).toString()).toBe("PNG");
      expect(bytes.length).toBeGreaterThan(5_000);
    },
    90_000,
  );

  it("bad flag values exit 2 with a hint; --help shows both commands", async () => {
    const interval = await lego(["monitor", "--env", "staging", "--interval", "soon", "--json"]);
    expect(interval.exitCode).toBe(2);
    expect(JSON.parse(interval.stdout).error).toMatchObject({
      code: "ERR_BAD_DURATION",
      hint: expect.any(String),
    });
    const probes = await lego(["monitor", "--env", "staging", "--probes", "many"]);
    expect(probes.exitCode).toBe(2);
    expect(probes.stderr).toContain("--probes");
    expect(probes.stderr).not.toMatch(/^\s+at /m);
    const unknownEnv = await lego(["monitor", "--env", "nosuch", "--once"]);
    expect(unknownEnv.exitCode).toBe(2);
    expect(unknownEnv.stderr).toContain("staging");
    const since = await lego(["analytics", "--since", "whenever"]);
    expect(since.exitCode).toBe(2);
    expect(since.stderr).toContain("--since");
    // A service, environment or root that matches nothing is exit 2, not an empty answer.
    for (const args of [
      ["--service", "nosuch"],
      ["--env", "nosuch"],
    ]) {
      const res = await lego(["analytics", ...args]);
      expect(res.exitCode, res.stderr).toBe(2);
      expect(res.stderr).toContain(args.join(" "));
    }
    const noRoot = await runBuilt(["analytics", "--root", join(home.dir, "nowhere")], { env });
    expect(noRoot.exitCode).toBe(2);
    expect(existsSync(join(home.dir, "nowhere"))).toBe(false);
    for (const command of ["monitor", "analytics"]) {
      const help = await lego([command, "--help"]);
      expect(help.exitCode).toBe(0);
      expect(help.stdout).toContain(`lego ${command}`);
    }
  }, 60_000);
});
