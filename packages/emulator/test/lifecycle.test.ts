// `lego local up | status | down | reset` as library calls: a real detached process, its server.json,
// and a wrangler-free deploy through its API.
import { access, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localCloudInfoPath, localCloudInfoSchema } from "@lego/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureLocalCloud,
  localCloudDown,
  localCloudReset,
  localCloudStateDir,
  localCloudStatus,
  localCloudUp,
} from "../src/index.ts";
import { copyFixture, request, runWrangler, uploadForm } from "./helpers.ts";

let legoHome: string;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  legoHome = await mkdtemp(join(tmpdir(), "lego-emu-home-"));
});
afterAll(async () => {
  await localCloudDown({ legoHome }).catch(() => {});
  await rm(legoHome, { recursive: true, force: true });
});

describe("the background local cloud", () => {
  it("starts detached, records server.json (0600) and answers", async () => {
    expect(await localCloudStatus({ legoHome })).toEqual({ running: false });
    const { started, info } = await localCloudUp({ legoHome, zones: ["example.com"] });
    expect(started).toBe(true);
    expect(info.pid).not.toBe(process.pid);
    const raw = JSON.parse(await readFile(localCloudInfoPath(legoHome), "utf8"));
    expect(localCloudInfoSchema.parse(raw)).toEqual(info);
    expect((await stat(localCloudInfoPath(legoHome))).mode & 0o777).toBe(0o600);
    expect(info.stateDir).toBe(localCloudStateDir(legoHome));
    expect(info.workersUrlPattern).toBe(`http://{host}.localhost:${info.port}`);
    const status = await localCloudStatus({ legoHome });
    expect(status.running).toBe(true);

    const res = await fetch(`${info.apiBaseUrl}/accounts/${info.accountId}/workers/scripts/hello`, {
      method: "PUT",
      headers: { authorization: `Bearer ${info.token}` },
      body: uploadForm("export default { fetch() { return new Response('hello from the daemon'); } };"),
    });
    expect(res.status).toBe(200);
    await fetch(`${info.apiBaseUrl}/accounts/${info.accountId}/workers/scripts/hello/domains/records`, {
      method: "PUT",
      headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
      body: JSON.stringify({ override_scope: true, origins: [{ hostname: "hello.example.com" }] }),
    });
    expect((await request(info.port, "hello.example.com")).body).toBe("hello from the daemon");
  });

  it("a plain wrangler deploy to it serves on workers.dev", async () => {
    const { info } = await localCloudStatus({ legoHome });
    if (!info) throw new Error("not running");
    const project = await copyFixture("dev-worker");
    const xdg = join(legoHome, "xdg");
    const run = await runWrangler(project, ["deploy"], {
      PATH: process.env.PATH ?? "",
      HOME: xdg,
      XDG_CONFIG_HOME: xdg,
      CLOUDFLARE_API_BASE_URL: info.apiBaseUrl,
      CLOUDFLARE_API_TOKEN: info.token,
      CLOUDFLARE_ACCOUNT_ID: info.accountId,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_HIDE_BANNER: "true",
      CI: "true",
    });
    await rm(project, { recursive: true, force: true });
    expect(run.exitCode, run.stderr).toBe(0);
    const host = `dev-worker.${info.accountSubdomain}.workers.dev`;
    expect(run.stdout).toContain(host);
    const url = info.workersUrlPattern.replace("{host}", host);
    expect((await request(info.port, new URL(url).host)).body).toBe(`dev-worker at ${host}`);
  });

  it("up again (and ensure) return the running one", async () => {
    const first = await localCloudStatus({ legoHome });
    const again = await localCloudUp({ legoHome });
    expect(again.started).toBe(false);
    expect(again.info.pid).toBe(first.info?.pid);
    expect((await ensureLocalCloud({ legoHome })).pid).toBe(first.info?.pid);
  });

  it("down stops the process; state and token survive into the next up, which takes faults", async () => {
    const { info } = await localCloudStatus({ legoHome });
    expect(await localCloudDown({ legoHome })).toEqual({ stopped: true });
    expect(alive(info?.pid as number)).toBe(false);
    expect(await localCloudStatus({ legoHome })).toEqual({ running: false });
    await expect(access(localCloudInfoPath(legoHome))).rejects.toThrow();
    const next = await ensureLocalCloud({
      legoHome,
      // A RegExp route: the rules reach the background process by structured clone, not JSON.
      faults: [{ route: /^GET \/client\/v4\/user\/tokens\/verify$/, kind: "429", retryAfter: 7 }],
      seed: 42,
    });
    expect(next.pid).not.toBe(info?.pid);
    // A CLOUDFLARE_API_TOKEN exported from `lego local status` still works after down/up.
    expect(next.token).toBe(info?.token);
    expect((await stat(join(legoHome, "local", "token"))).mode & 0o777).toBe(0o600);
    expect((await request(next.port, "hello.example.com")).body).toBe("hello from the daemon");
    const auth = { authorization: `Bearer ${next.token}` };
    const verify = await fetch(`${next.apiBaseUrl}/user/tokens/verify`, { headers: auth });
    expect(verify.status).toBe(429);
    expect(verify.headers.get("retry-after")).toBe("7");
    expect((await fetch(`${next.apiBaseUrl}/user`, { headers: auth })).status).toBe(200);
  });

  it("reset stops it and deletes the state and the token", async () => {
    expect(await localCloudReset({ legoHome })).toEqual({ stopped: true });
    await expect(access(localCloudStateDir(legoHome))).rejects.toThrow();
    await expect(access(join(legoHome, "local", "token"))).rejects.toThrow();
    expect(await localCloudDown({ legoHome })).toEqual({ stopped: false });
  });
});
