import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, binPath, runBuilt, tempHome } from "./built.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe("lego local (built CLI, real local cloud)", () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let pid: number | undefined;
  beforeAll(async () => {
    assertBuilt();
    home = await tempHome();
  });
  afterAll(async () => {
    // Whatever a failed assertion left behind: stop it (via its recorded pid as a last resort).
    const info = JSON.parse(
      await readFile(join(home.legoHome, "local", "server.json"), "utf8").catch(() => "{}"),
    );
    await runBuilt(["local", "down"], { env: { LEGO_HOME: home.legoHome, HOME: home.dir } });
    for (const p of [pid, info.pid]) if (typeof p === "number" && alive(p)) process.kill(p, "SIGKILL");
    await home?.dispose();
  });

  it("up --port 0 --json starts a local cloud whose API answers with the recorded token", async () => {
    const env = { LEGO_HOME: home.legoHome, HOME: home.dir };
    const up = await runBuilt(["local", "up", "--port", "0", "--zone", "example.com", "--json"], {
      env,
      timeout: 60_000,
    });
    expect(up.stderr).not.toMatch(/^\s+at /m);
    expect(up.exitCode, up.stderr).toBe(0);
    const doc = JSON.parse(up.stdout);
    expect(doc.ok).toBe(true);
    const info = JSON.parse(await readFile(join(home.legoHome, "local", "server.json"), "utf8"));
    pid = info.pid;
    expect(doc.data).toMatchObject({
      running: true,
      started: true,
      apiBaseUrl: info.apiBaseUrl,
      pid: info.pid,
    });
    expect(doc.data.token).toBeUndefined();
    expect(up.stdout + up.stderr).not.toContain(info.token);

    const verify = await fetch(`${doc.data.apiBaseUrl}/user/tokens/verify`, {
      headers: { authorization: `Bearer ${info.token}` },
    });
    expect(verify.status).toBe(200);
    expect(await verify.json()).toMatchObject({ success: true });

    const status = await runBuilt(["local", "status", "--json"], { env });
    expect(status.exitCode, status.stderr).toBe(0);
    const statusDoc = JSON.parse(status.stdout);
    expect(statusDoc.data).toMatchObject({ running: true, apiBaseUrl: info.apiBaseUrl });
    expect(statusDoc.data.workersUrlPattern).toContain("{host}");
    expect(status.stdout).not.toContain(info.token);

    const human = await runBuilt(["local", "status"], { env });
    expect(human.stdout).toContain(info.apiBaseUrl);
    expect(human.stdout + human.stderr).not.toContain(info.token);

    const down = await runBuilt(["local", "down", "--json"], { env });
    expect(down.exitCode, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).data).toMatchObject({ stopped: true, pid: info.pid });
    expect(await until(() => !alive(info.pid), 10_000)).toBe(true);

    const after = await runBuilt(["local", "status", "--json"], { env });
    expect(JSON.parse(after.stdout).data.running).toBe(false);

    const reset = await runBuilt(["local", "reset"], { env });
    expect(reset.exitCode, reset.stderr).toBe(2);
    expect(reset.stderr).toContain("--yes");
    const resetYes = await runBuilt(["local", "reset", "--yes", "--json"], { env });
    expect(resetYes.exitCode, resetYes.stderr).toBe(0);
    expect(JSON.parse(resetYes.stdout).data).toEqual({ reset: true, stopped: false });
  });

  it("Ctrl-C during up exits 130 with one line, no stack, and leaves no local cloud running", async () => {
    const env = { PATH: process.env.PATH ?? "", NO_COLOR: "1", LEGO_HOME: home.legoHome, HOME: home.dir };
    const child = execa(process.execPath, [binPath, "local", "up", "--port", "0"], {
      env,
      extendEnv: false,
      stdin: "ignore",
      reject: false,
      timeout: 60_000,
    });
    // Signal once the task has started, i.e. bin.ts has installed its handler.
    await new Promise<void>((resolve) => {
      child.stderr?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("Start the local cloud")) resolve();
      });
    });
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toContain("✗ Interrupted");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe("");
    const status = await runBuilt(["local", "status", "--json"], { env });
    expect(JSON.parse(status.stdout).data.running).toBe(false);
  });
});

describe("a seed-layout portfolio with its real account and zone ids (built CLI)", () => {
  const ACCOUNT = "5eed0000000000000000000000000ac1";
  const ZONE = "5eed00000000000000000000000020e1";
  const DB = "5eed0000-0000-4000-8000-0000000000d1";
  let home: Awaited<ReturnType<typeof tempHome>>;
  let env: Record<string, string>;
  let root: string;
  beforeAll(async () => {
    assertBuilt();
    home = await tempHome();
    env = { LEGO_HOME: home.legoHome, HOME: home.dir };
    root = join(home.dir, "portfolio");
    const { mkdir, writeFile } = await import("node:fs/promises");
    const svc = join(root, "services", "shop");
    await mkdir(join(svc, "src", "config"), { recursive: true });
    await writeFile(
      join(svc, "wrangler.jsonc"),
      JSON.stringify({
        name: "shop",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        account_id: ACCOUNT,
        env: {
          staging: {
            routes: [{ pattern: "staging-shop.example.shop", custom_domain: true }],
            d1_databases: [{ binding: "DB", database_name: "shop-db", database_id: DB }],
          },
        },
      }),
    );
    await writeFile(
      join(svc, "src", "index.js"),
      `export default {
  async fetch(request, env) {
    const row = await env.DB.prepare("SELECT 41 + 1 AS answer").first();
    return Response.json({ ok: true, service: "shop", answer: row.answer });
  },
};`,
    );
    // The seed's domains.js: a plain object naming the account and zone the portfolio really lives in.
    await writeFile(
      join(svc, "src", "config", "domains.js"),
      `export const domains = {
  shop: {
    name: "shop",
    accountId: "${ACCOUNT}",
    zoneId: "${ZONE}",
    domains: { staging: "staging-shop.example.shop" },
    features: {},
    tests: { health: { path: "/", expectStatus: 200, expectJson: { ok: true } } },
  },
};
`,
    );
  });
  afterAll(async () => {
    await runBuilt(["local", "down"], { env });
    await home?.dispose();
  });

  it("deploys unchanged to the local cloud, which adopts the account, zone and database", async () => {
    const res = await runBuilt(["deploy", "shop", "--env", "staging", "--root", root, "--json"], {
      env,
      timeout: 150_000,
    });
    expect(res.stdout + res.stderr).not.toContain("The token sees");
    expect(res.exitCode, `${res.stdout}\n${res.stderr}`).toBe(0);
    const [svc] = JSON.parse(res.stdout).data.services;
    expect(svc).toMatchObject({ service: "shop", environment: "staging", ok: true });
    const info = JSON.parse(await readFile(join(home.legoHome, "local", "server.json"), "utf8"));
    const page = await new Promise<string>((resolve, reject) => {
      import("node:http").then((http) =>
        http
          .get(
            { host: "127.0.0.1", port: info.port, path: "/", headers: { host: "staging-shop.example.shop" } },
            (r) => {
              let text = "";
              r.on("data", (c) => {
                text += c;
              });
              r.on("end", () => resolve(text));
            },
          )
          .on("error", reject),
      );
    });
    expect(JSON.parse(page)).toEqual({ ok: true, service: "shop", answer: 42 });
    const api = async (path: string) =>
      (
        (await (
          await fetch(`${info.apiBaseUrl}${path}`, { headers: { authorization: `Bearer ${info.token}` } })
        ).json()) as {
          result: Array<Record<string, unknown>>;
        }
      ).result;
    expect((await api("/accounts")).map((a) => a.id)).toContain(ACCOUNT);
    expect(await api("/zones?name=example.shop")).toMatchObject([{ id: ZONE }]);
    expect(await api(`/accounts/${ACCOUNT}/d1/database`)).toMatchObject([{ uuid: DB, name: "shop-db" }]);
  }, 180_000);
});
