// The long-lived wrangler processes' contract (host.ts), with a stand-in for wrangler's CLI bundle that
// defines `main` and `FatalError` as wrangler-dist/cli.js does: each command's output, environment and
// working folder are its own; a `process.exit` or a failure ends the process (the next command gets a new
// one); listeners a command adds do not pile up; a process runs at most MAX_COMMANDS_PER_HOST commands.
// The real wrangler in long-lived processes is tested in wrangler.test.ts.
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_COMMANDS_PER_HOST } from "../src/wrangler/host.ts";
import { createWranglerRunner, type WranglerRunner } from "../src/wrangler/runner.ts";

const FAKE_CLI = `"use strict";
class FatalError extends Error {
  constructor(message, code) { super(message); this.code = code; }
}
async function main(argv) {
  const [command, arg] = argv;
  if (command === "echo") { process.stdout.write("out:" + arg); process.stderr.write("err:" + arg); return; }
  if (command === "env") { process.stdout.write(process.env.LEGO_HOST_TEST ?? "unset"); return; }
  if (command === "cwd") { process.stdout.write(process.cwd()); return; }
  if (command === "pid") { process.stdout.write(String(process.pid)); return; }
  if (command === "exit") process.exit(Number(arg));
  if (command === "fatal") { process.stderr.write("something failed"); throw new FatalError("failed", Number(arg)); }
  if (command === "listen") {
    process.on("SIGTERM", () => {});
    process.stdout.write(String(process.listenerCount("SIGTERM")));
    return;
  }
  throw new Error("unknown command " + command);
}
if (require.main === module) main(process.argv.slice(2));
`;

let root: string;
let other: string;
let runner: WranglerRunner;

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "lego-host-")));
  await mkdir(join(root, "wrangler-dist"));
  await writeFile(join(root, "wrangler-dist", "cli.js"), FAKE_CLI);
  other = join(root, "other");
  await mkdir(other);
  runner = createWranglerRunner({
    cwd: root,
    wranglerBin: join(root, "wrangler-dist", "cli.js"),
    target: { apiBaseUrl: "http://127.0.0.1:9/client/v4", token: "t0ken-host-test" },
    stateDir: join(root, "state"),
    baseEnv: { PATH: process.env.PATH },
    relay: false,
  });
});
afterAll(async () => {
  await runner?.dispose();
  await rm(root, { recursive: true, force: true });
});

const run = (args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) =>
  runner.run(args, { outputFile: false, ...options });

describe("long-lived wrangler processes", () => {
  it("give each command its own output, environment and working folder", async () => {
    const pid = (await run(["pid"])).stdout;
    const a = await run(["echo", "a"]);
    const b = await run(["echo", "b"]);
    expect([a.stdout, a.stderr, b.stdout, b.stderr]).toEqual(["out:a", "err:a", "out:b", "err:b"]);
    expect(await run(["env"], { env: { LEGO_HOST_TEST: "set" } })).toMatchObject({ stdout: "set" });
    expect(await run(["env"])).toMatchObject({ stdout: "unset" });
    expect((await run(["cwd"], { cwd: other })).stdout).toBe(other);
    expect((await run(["cwd"])).stdout).toBe(root);
    const again = await run(["pid"]);
    expect(again.stdout).toBe(pid);
    expect(again.reusedProcess).toBe(true);
  });

  it("remove the listeners a command added", async () => {
    expect((await run(["listen"])).stdout).toBe("1");
    expect((await run(["listen"])).stdout).toBe("1");
  });

  it("end the process when a command calls process.exit or fails, and report its exit code", async () => {
    const before = (await run(["pid"])).stdout;
    expect((await run(["exit", "0"])).exitCode).toBe(0);
    const after = await run(["pid"]);
    expect(after.stdout).not.toBe(before);
    expect(after.reusedProcess).toBe(false);

    const failed = await run(["fatal", "3"]).then(
      () => undefined,
      (e: { code?: string; details?: { exitCode?: number; stderrTail?: string } }) => e,
    );
    expect(failed?.code).toBe("ERR_WRANGLER_FAILED");
    expect(failed?.details?.exitCode).toBe(3);
    expect(failed?.details?.stderrTail).toContain("something failed");
    expect((await run(["pid"])).stdout).not.toBe(after.stdout);
  });

  it(`run at most ${MAX_COMMANDS_PER_HOST} commands each`, async () => {
    await run(["exit", "0"]); // a fresh process from here
    const pids: string[] = [];
    for (let i = 0; i <= MAX_COMMANDS_PER_HOST; i++) pids.push((await run(["pid"])).stdout);
    expect(new Set(pids.slice(0, MAX_COMMANDS_PER_HOST)).size).toBe(1);
    expect(pids[MAX_COMMANDS_PER_HOST]).not.toBe(pids[0]);
  });
});
