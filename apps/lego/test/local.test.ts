import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createScriptedPrompter } from "@lego/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { oneJson, run } from "./helpers.ts";

let legoHome: string;
beforeEach(async () => {
  legoHome = await mkdtemp(join(tmpdir(), "lego-local-"));
});
afterEach(() => rm(legoHome, { recursive: true, force: true }));

describe("lego local reset", () => {
  it("needs --yes without a terminal (exit 2, hint names the flag)", async () => {
    const r = await run(["local", "reset", "--json"], { env: { LEGO_HOME: legoHome } });
    expect(r.exitCode).toBe(2);
    expect(oneJson(r.stdout).error).toMatchObject({ code: "ERR_PROMPT_UNAVAILABLE", hint: "Pass --yes." });
  });

  it("asks on a terminal, and a no deletes nothing", async () => {
    const prompter = createScriptedPrompter([false]);
    const r = await run(["local", "reset"], { env: { LEGO_HOME: legoHome }, isTTY: true, prompter });
    expect(r.exitCode).toBe(0);
    expect(r.data).toEqual({ reset: false, stopped: false });
    expect(prompter.asked[0]).toContain(join(legoHome, "local"));
    expect((await stat(legoHome)).isDirectory()).toBe(true);
    expect(r.stdout).toBe("Nothing deleted.\n");
  });
});

describe("lego local up", () => {
  it("rejects a bad port before touching the emulator", async () => {
    const r = await run(["local", "up", "--port", "99999"], { env: { LEGO_HOME: legoHome } });
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_FLAG_VALUE");
  });
});

describe("lego local up --root", () => {
  const ACCOUNT = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
  const ZONE = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  it("adopts the account and zone ids a seed-layout portfolio's domain configs name", async () => {
    const { mkdir, writeFile } = await import("node:fs/promises");
    const root = join(legoHome, "portfolio");
    const svc = join(root, "services", "shop");
    await mkdir(join(svc, "src", "config"), { recursive: true });
    await writeFile(
      join(svc, "wrangler.jsonc"),
      JSON.stringify({ name: "shop", main: "src/index.js", compatibility_date: "2025-09-01" }),
    );
    await writeFile(
      join(svc, "src", "index.js"),
      "export default { fetch() { return new Response('ok'); } };",
    );
    await writeFile(
      join(svc, "src", "config", "domains.js"),
      `export const domains = { shop: { name: "shop", accountId: "${ACCOUNT}", zoneId: "${ZONE}", domains: { production: "shop.example.shop" } } };\n`,
    );
    const env = { LEGO_HOME: legoHome, HOME: legoHome };
    try {
      const up = await run(["local", "up", "--port", "0", "--root", root, "--json"], { env });
      expect(up.exitCode, up.stderr).toBe(0);
      const { apiBaseUrl } = oneJson(up.stdout).data as { apiBaseUrl: string };
      const { readFile } = await import("node:fs/promises");
      const token = String(JSON.parse(await readFile(join(legoHome, "local", "server.json"), "utf8")).token);
      const get = async (path: string) =>
        (await (
          await fetch(`${apiBaseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })
        ).json()) as {
          result: Array<{ id: string; name: string; account?: { id: string } }>;
        };
      expect((await get("/accounts")).result.map((a) => a.id)).toContain(ACCOUNT);
      expect((await get("/zones?name=example.shop")).result).toMatchObject([
        { id: ZONE, name: "example.shop", account: { id: ACCOUNT } },
      ]);
      expect((await get(`/accounts/${ACCOUNT}/workers/scripts`)).result).toEqual([]);
    } finally {
      await run(["local", "down"], { env });
    }
  }, 60_000);
});

describe("lego local trigger", () => {
  it("fires a deployed Worker's scheduled handler now, with --cron; an unknown Worker is exit 2", async () => {
    const env = { LEGO_HOME: legoHome, HOME: legoHome };
    try {
      const up = await run(["local", "up", "--port", "0", "--json"], { env });
      expect(up.exitCode, up.stderr).toBe(0);
      const { readFile } = await import("node:fs/promises");
      const info = JSON.parse(await readFile(join(legoHome, "local", "server.json"), "utf8"));
      const auth = { authorization: `Bearer ${info.token}` };
      const form = new FormData();
      form.set(
        "metadata",
        JSON.stringify({
          main_module: "index.js",
          compatibility_date: "2025-09-01",
          bindings: [
            { type: "kv_namespace", name: "RUNS", namespace_id: "0000000000000000000000000000face" },
          ],
        }),
      );
      form.set(
        "index.js",
        new File(
          [
            `export default {
  async scheduled(c, env) { await env.RUNS.put("last", c.cron); },
  async fetch(r, env) { return new Response(await env.RUNS.get("last")); },
};`,
          ],
          "index.js",
          { type: "application/javascript+module" },
        ),
      );
      const base = `${info.apiBaseUrl}/accounts/${info.accountId}/workers/scripts/reports`;
      expect((await fetch(base, { method: "PUT", headers: auth, body: form })).status).toBe(200);
      await fetch(`${base}/subdomain`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ enabled: true }),
      });

      const fired = await run(["local", "trigger", "reports", "--cron", "5 4 * * *", "--json"], { env });
      expect(fired.exitCode, fired.stderr).toBe(0);
      expect(oneJson(fired.stdout).data).toEqual({ script: "reports", cron: "5 4 * * *", outcome: "ok" });
      const http = await import("node:http");
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get(
            {
              host: "127.0.0.1",
              port: info.port,
              path: "/",
              headers: { host: "reports.lego-local.workers.dev" },
            },
            (res) => {
              let text = "";
              res.on("data", (c) => {
                text += c;
              });
              res.on("end", () => resolve(text));
            },
          )
          .on("error", reject);
      });
      expect(body).toBe("5 4 * * *");

      const missing = await run(["local", "trigger", "nope", "--json"], { env });
      expect(missing.exitCode).toBe(2);
      expect(oneJson(missing.stdout).error).toMatchObject({ code: "ERR_LOCAL_CLOUD_TRIGGER" });
      expect(missing.stdout).not.toContain(info.token);
    } finally {
      await run(["local", "down"], { env });
    }
  }, 60_000);
});

describe("lego local up --faults --seed", () => {
  it("starts the cloud with the rules of a JSON file; a bad rule is exit 2 naming the file", async () => {
    const { readFile, writeFile } = await import("node:fs/promises");
    const env = { LEGO_HOME: legoHome, HOME: legoHome };
    const bad = join(legoHome, "bad.json");
    await writeFile(bad, JSON.stringify([{ route: "GET /user", kind: "explode" }]));
    const refused = await run(["local", "up", "--port", "0", "--faults", bad, "--json"], { env });
    expect(refused.exitCode).toBe(2);
    expect(oneJson(refused.stdout).error).toMatchObject({ code: "ERR_LOCAL_CLOUD_OPTIONS" });
    expect(oneJson(refused.stdout).error.message).toContain(bad);

    const file = join(legoHome, "faults.json");
    await writeFile(
      file,
      JSON.stringify([
        { route: "GET /user", kind: "429", retryAfter: 3 },
        { route: "/^GET \\/memberships$/", kind: "5xx", status: 502 },
      ]),
    );
    try {
      const up = await run(["local", "up", "--port", "0", "--faults", file, "--seed", "7", "--json"], {
        env,
      });
      expect(up.exitCode, up.stderr).toBe(0);
      const info = JSON.parse(await readFile(join(legoHome, "local", "server.json"), "utf8"));
      const get = (path: string) =>
        fetch(`${info.apiBaseUrl}${path}`, { headers: { authorization: `Bearer ${info.token}` } });
      const limited = await get("/user");
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("3");
      expect((await get("/memberships")).status).toBe(502);
      expect((await get("/accounts")).status).toBe(200);
    } finally {
      await run(["local", "down"], { env });
    }
  }, 60_000);
});
