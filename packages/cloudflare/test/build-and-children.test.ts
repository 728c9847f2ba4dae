// wrangler.build() (deploy --dry-run --outdir: no API call) with wrangler's own errors in the failure;
// and children dying with Lego: a parent Node process starts a long wrangler command through the runner
// and is killed with SIGKILL; within 2.5 s neither wrangler nor its esbuild is alive. Without the
// preload (the control) they live on. And the race: a parent killed the moment wrangler's process exists
// (before wrangler has started, so before anything of it could watch Lego) leaves nothing either.
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWranglerRunner, type WranglerRunner } from "../src/wrangler/runner.ts";

const exec = promisify(execFile);
let root: string;
let service: string;
let runner: WranglerRunner;
const target = {
  apiBaseUrl: "http://127.0.0.1:9/client/v4",
  token: "t0ken-for-build",
  accountId: "a".repeat(32),
};

async function writeService(dir: string, source: string) {
  await mkdir(join(dir, "src"), { recursive: true });
  await writeFile(join(dir, "src", "index.js"), source);
  await writeFile(
    join(dir, "wrangler.jsonc"),
    JSON.stringify({ name: "built", main: "src/index.js", compatibility_date: "2025-09-01" }),
  );
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-build-"));
  service = join(root, "ok");
  await writeService(
    service,
    "import { v } from './v.js';\nexport default { fetch() { return new Response(v); } };\n",
  );
  await writeFile(join(service, "src", "v.js"), "export const v = 'built';\n");
  runner = createWranglerRunner({
    cwd: service,
    target,
    baseEnv: { PATH: process.env.PATH, HOME: root },
    stateDir: join(root, "state"),
  });
});
afterAll(async () => {
  await runner?.dispose();
  await rm(root, { recursive: true, force: true });
});

describe("wrangler.build", () => {
  it("bundles without deploying and says where and how big", async () => {
    const result = await runner.build({ env: "" });
    expect(result.main).toMatch(/index\.js$/);
    expect(result.mainBytes).toBeGreaterThan(50);
    expect(result.bytes).toBeGreaterThanOrEqual(result.mainBytes);
    expect(result.files).toContain("index.js");
    // No API call: the target is a closed port.
    expect(runner.relayStats()?.requests ?? 0).toBe(0);
  });

  it("fails with ERR_WRANGLER_BUILD_FAILED carrying each of wrangler's errors", async () => {
    const broken = join(root, "broken");
    await writeService(
      broken,
      "import { nope } from './missing.js';\nimport other from 'not-installed-pkg';\nexport default { fetch() { return new Response(nope + other); } };\n",
    );
    const error = await runner.build({ cwd: broken }).then(
      () => undefined,
      (e: { code?: string; message: string; details?: { errors?: string[] } }) => e,
    );
    expect(error?.code).toBe("ERR_WRANGLER_BUILD_FAILED");
    expect(error?.details?.errors).toHaveLength(2);
    expect(error?.message).toMatch(/src\/index\.js:1:\d+: Could not resolve "\.\/missing\.js"/);
    expect(error?.message).toMatch(/src\/index\.js:2:\d+: Could not resolve "not-installed-pkg"/);
  });
});

/** Every descendant of `pid` (pgrep -P, Linux and macOS). */
async function descendants(pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    const { stdout } = await exec("pgrep", ["-P", String(p)]).catch(() => ({ stdout: "" }));
    for (const c of stdout.split(/\s+/).filter(Boolean).map(Number)) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** Alive and not a zombie (a container's PID 1 may never reap one). */
async function alive(pid: number): Promise<boolean> {
  const { stdout } = await exec("ps", ["-o", "stat=", "-p", String(pid)]).catch(() => ({ stdout: "" }));
  return stdout.trim() !== "" && !stdout.trim().startsWith("Z");
}

async function startParent(watchdog: boolean, apiBaseUrl: string) {
  const runnerPath = fileURLToPath(new URL("../src/wrangler/runner.ts", import.meta.url));
  const script = join(root, `parent-${watchdog}.mts`);
  await writeFile(
    script,
    `import { createWranglerRunner } from ${JSON.stringify(runnerPath)};
const runner = createWranglerRunner({
  cwd: ${JSON.stringify(service)},
  target: { apiBaseUrl: ${JSON.stringify(apiBaseUrl)}, token: "t0ken-kill", accountId: "${"a".repeat(32)}" },
  baseEnv: { PATH: process.env.PATH, HOME: ${JSON.stringify(root)} },
  stateDir: ${JSON.stringify(join(root, `state-${watchdog}`))},
  watchdog: ${watchdog},
  // With the watchdog: a long-lived wrangler process (the default). The control runs wrangler one
  // process per command, as a runner without long-lived processes would leave it.
  reuseProcesses: ${watchdog},
  // Straight to the API: a relay in the dead parent would end wrangler's requests (and so wrangler)
  // by itself; the watchdog alone must do it.
  relay: false,
});
runner.deploy().catch(() => {});
setInterval(() => {}, 60_000);
`,
  );
  return spawn(
    process.execPath,
    ["--experimental-transform-types", "--no-warnings", "--conditions=@lego/source", script],
    { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: "ignore" },
  );
}

describe("children die with Lego", () => {
  it("after SIGKILL of the parent, no wrangler or esbuild it started is alive 2.5 s later", async () => {
    // An API that takes requests and never answers: wrangler bundles (esbuild), then waits on it.
    let hits = 0;
    const hanging = http.createServer(() => {
      hits++;
    });
    await new Promise<void>((r) => hanging.listen(0, "127.0.0.1", () => r()));
    const api = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/client/v4`;
    const leftovers: number[] = [];
    try {
      const measure = async (watchdog: boolean) => {
        const before = hits;
        const parent = await startParent(watchdog, api);
        const started = Date.now();
        while (hits === before) {
          if (Date.now() - started > 60_000) throw new Error("wrangler never reached the API");
          await new Promise((r) => setTimeout(r, 50));
        }
        const children = (await descendants(parent.pid!)).filter((p) => p !== parent.pid);
        const names = await Promise.all(
          children.map((p) =>
            exec("ps", ["-o", "comm=", "-p", String(p)]).then(
              (r) => r.stdout.trim(),
              () => "?",
            ),
          ),
        );
        const killedAt = Date.now();
        parent.kill("SIGKILL");
        let living: number[] = children;
        while (Date.now() - killedAt < 2500) {
          living = [];
          for (const p of children) if (await alive(p)) living.push(p);
          if (living.length === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        leftovers.push(...living);
        return { children, names, living, ms: Date.now() - killedAt };
      };
      const watched = await measure(true);
      // wrangler (node, its main thread named MainThread on Linux) and its esbuild; no watchdog process.
      expect(watched.names).toEqual(expect.arrayContaining(["esbuild"]));
      expect(watched.names).not.toContain("sh");
      expect(watched.names.length).toBeGreaterThanOrEqual(2);
      expect(watched.living).toEqual([]);
      console.log(
        `children gone ${watched.ms} ms after SIGKILL of the parent (${watched.children.length} processes)`,
      );
      const control = await measure(false);
      expect(control.living.length).toBeGreaterThan(0);
    } finally {
      for (const p of leftovers)
        try {
          process.kill(p, "SIGKILL");
        } catch {}
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
  }, 180_000);
});

describe("children die with Lego: no window after the spawn", () => {
  it("a parent killed with SIGKILL as soon as wrangler's process exists leaves no process of wrangler's group", async () => {
    const hanging = http.createServer(() => {});
    await new Promise<void>((r) => hanging.listen(0, "127.0.0.1", () => r()));
    const api = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/client/v4`;
    const leftovers: number[] = [];
    try {
      for (let round = 0; round < 2; round++) {
        const parent = await startParent(true, api);
        const started = Date.now();
        let child: number | undefined;
        // Poll tightly: the kill lands while wrangler's Node is still starting up.
        while (child === undefined) {
          if (Date.now() - started > 30_000) throw new Error("the parent never started wrangler");
          const { stdout } = await exec("pgrep", ["-P", String(parent.pid)]).catch(() => ({ stdout: "" }));
          child = stdout.split(/\s+/).filter(Boolean).map(Number)[0];
        }
        const killedAt = Date.now();
        parent.kill("SIGKILL");
        let living: number[] = [child];
        while (Date.now() - killedAt < 2500) {
          // wrangler leads its own process group: every process in it (wrangler, esbuild).
          const { stdout } = await exec("pgrep", ["-g", String(child)]).catch(() => ({ stdout: "" }));
          living = [];
          for (const p of [child, ...stdout.split(/\s+/).filter(Boolean).map(Number)])
            if (!living.includes(p) && (await alive(p))) living.push(p);
          if (living.length === 0) break;
          await new Promise((r) => setTimeout(r, 25));
        }
        leftovers.push(...living);
        if (living.length > 0)
          console.log(
            (
              await exec("ps", ["-o", "pid,ppid,pgid,stat,etime,args", "-p", living.join(",")]).catch(
                (e) => e,
              )
            ).stdout,
          );
        expect(living).toEqual([]);
        console.log(
          `round ${round}: killed ${killedAt - started} ms after the parent started; group gone after ${Date.now() - killedAt} ms`,
        );
      }
    } finally {
      for (const p of leftovers)
        try {
          process.kill(p, "SIGKILL");
        } catch {}
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
  }, 120_000);
});
