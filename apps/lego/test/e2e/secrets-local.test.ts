// Issue 8's end to end: on the local cloud, a deploy refuses to go ahead while a required secret is
// missing; `lego secrets push` generates it and uploads it through the real wrangler; the deployed
// Worker reads it (it answers with its SHA-256). No value appears in any child's argv (a shim records
// them), in the CLI's output, under `.lego/` (audit log, journals) or in any file (the vault holds it
// encrypted; the local cloud's own store, playing Cloudflare's part, holds it for workerd).
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveWranglerBin } from "@lego/cloudflare";
import { createVault } from "@lego/secrets";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, binPath } from "./built.ts";

const PASS = "local e2e passphrase";

const WORKER = `export default {
  async fetch(request, env) {
    if (!env.MY_SECRET) return new Response("missing", { status: 404 });
    if (new URL(request.url).pathname === "/private") {
      const ok = request.headers.get("authorization") === "Bearer " + env.MY_SECRET;
      return new Response(ok ? "welcome" : "who are you?", { status: ok ? 200 : 401 });
    }
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(env.MY_SECRET));
    return new Response([...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""));
  },
};
`;

// The production tests' auth check takes its token from the secret itself: it passes only when the
// CLI hands the tester the value `secrets push --persist` kept in the vault.
const DOMAINS = `export const domains = {
  "secret-echo": {
    name: "secret-echo",
    domains: { staging: "staging-echo.example.com" },
    features: {},
    tests: { auth: { token: { secret: "MY_SECRET" }, protectedRoute: { path: "/private" } } },
  },
};
`;

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function allFiles(dir: string): Promise<Array<{ path: string; text: string }>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return Promise.all(
    files.map(async (path) => ({ path, text: await readFile(path, "utf8").catch(() => "") })),
  );
}

describe("secrets on the local cloud (built CLI, real wrangler, workerd)", () => {
  let dir: string;
  let env: Record<string, string>;
  let argvLog: string;
  let shim: string;
  const lego = (args: string[]) =>
    execa(process.execPath, [binPath, ...args], {
      env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      timeout: 120_000,
    });

  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), "lego-secrets-local-"));
    const service = join(dir, "portfolio", "services", "secret-echo");
    await mkdir(join(service, "src"), { recursive: true });
    await writeFile(
      join(service, "wrangler.jsonc"),
      JSON.stringify({
        name: "secret-echo",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        workers_dev: true,
        env: {
          staging: {
            workers_dev: true,
            routes: [{ pattern: "staging-echo.example.com", custom_domain: true }],
            secrets: { required: ["MY_SECRET"] },
          },
        },
      }),
    );
    await writeFile(join(service, "src", "index.js"), WORKER);
    await mkdir(join(service, "src", "config"), { recursive: true });
    await writeFile(join(service, "src", "config", "domains.js"), DOMAINS);
    argvLog = join(dir, "argv.jsonl");
    shim = join(dir, "wrangler-shim.cjs");
    await writeFile(
      shim,
      [
        'const { appendFileSync } = require("node:fs");',
        'const { spawnSync } = require("node:child_process");',
        `appendFileSync(${JSON.stringify(argvLog)}, JSON.stringify(process.argv) + "\\n");`,
        `const r = spawnSync(process.execPath, [${JSON.stringify(resolveWranglerBin())}, ...process.argv.slice(2)], { stdio: "inherit" });`,
        "process.exit(r.status ?? 1);",
      ].join("\n"),
    );
    env = {
      HOME: dir,
      LEGO_HOME: join(dir, "lego-home"),
      LEGO_VAULT_PASSPHRASE: PASS,
      LEGO_WRANGLER_BIN: shim,
    };
    const up = await lego(["local", "up", "--port", "0", "--zone", "example.com", "--json"]);
    expect(up.exitCode, up.stderr).toBe(0);
  });
  afterAll(async () => {
    if (env) await lego(["local", "down"]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("deploy stops on the missing secret; push makes it readable by the Worker; no value leaks", async () => {
    const root = join(dir, "portfolio");
    const info = JSON.parse(await readFile(join(env.LEGO_HOME as string, "local", "server.json"), "utf8"));

    const status = await lego(["token", "status", "--json"]);
    expect(status.exitCode, status.stderr).toBe(0);
    const statusData = JSON.parse(status.stdout).data;
    expect(statusData).toMatchObject({ source: "local", target: "local" });
    expect(statusData.accounts.map((a: { id: string }) => a.id)).toContain(info.accountId);
    expect(status.stdout + status.stderr).not.toContain(info.token);

    const refused = await lego(["deploy", "secret-echo", "--env", "staging", "--root", root, "--json"]);
    expect(refused.exitCode, refused.stdout + refused.stderr).toBe(2);
    const refusal = JSON.parse(refused.stdout).error;
    // lego deploy reports the run's failure, naming the step's cause.
    expect([refusal.code, refusal.details?.cause]).toContain("ERR_SECRETS_MISSING");
    expect(`${refusal.message} ${refusal.hint}`).toContain("MY_SECRET");
    expect(refusal.hint).toContain("lego secrets push secret-echo --env staging");

    // Nothing was deployed; the secret goes to the Worker before its first deploy (wrangler itself
    // refuses to deploy while a `secrets.required` name is unset).
    const diff = await lego(["secrets", "diff", "secret-echo", "--env", "staging", "--root", root, "--json"]);
    expect(diff.exitCode).toBe(4);
    expect(JSON.parse(diff.stdout).error.details.diffs[0]).toMatchObject({
      scriptExists: false,
      missing: ["MY_SECRET"],
    });

    const push = await lego([
      "secrets",
      "push",
      "secret-echo",
      "--env",
      "staging",
      "--persist",
      "--root",
      root,
      "--json",
    ]);
    expect(push.exitCode, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout).data.secrets).toEqual([
      expect.objectContaining({ name: "MY_SECRET", pushed: true, persisted: true }),
    ]);

    const deployed = await lego(["deploy", "secret-echo", "--env", "staging", "--root", root, "--json"]);
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    const checks = JSON.parse(deployed.stdout).data.services[0].tests.checks;
    const auth = checks.filter((c: { id: string }) => c.id.startsWith("auth."));
    expect(auth.length).toBeGreaterThanOrEqual(2);
    expect(auth.every((c: { ok: boolean }) => c.ok)).toBe(true);
    expect(auth.find((c: { id: string }) => c.id === "auth.login").message).toContain("secret MY_SECRET");
    const tested = await lego(["test", "secret-echo", "--env", "staging", "--root", root, "--json"]);
    expect(tested.exitCode, tested.stdout + tested.stderr).toBe(0);
    const host = `secret-echo-staging.${info.accountSubdomain}.workers.dev`;

    const [stored] = await createVault({
      legoHome: env.LEGO_HOME as string,
      passphrase: async () => PASS,
    }).getSecrets({
      service: "secret-echo",
      env: "staging",
    });
    const value = stored?.value as string;
    expect(value).toMatch(/^[A-Za-z0-9]{40}$/);
    const answer = await get(info.port, host);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(createHash("sha256").update(value).digest("hex"));

    // The push made wrangler's placeholder Worker (500 on every request); it never served, so it is no
    // rollback point: the first deploy records none, and a rollback refuses instead of going back to it.
    expect(JSON.parse(deployed.stdout).data.services[0].versionBefore).toBeNull();
    const back = await lego(["rollback", "secret-echo", "--env", "staging", "--root", root, "--json"]);
    expect(back.exitCode, back.stdout + back.stderr).toBe(2);
    expect(JSON.parse(back.stdout).error.code).toBe("ERR_ROLLBACK_NO_PREVIOUS");
    expect((await get(info.port, host)).status).toBe(200);

    const argvs = await readFile(argvLog, "utf8");
    expect(argvs).toMatch(/"secret","bulk"/);
    const outputs = [status, refused, diff, push, deployed, tested]
      .map((r) => `${r.stdout}\n${r.stderr}`)
      .join("\n");
    expect(outputs).not.toContain(value);
    expect(argvs).not.toContain(value);
    // Everything on disk: the portfolio (.lego: audit log, journals, reports), LEGO_HOME (vault, wrangler's
    // state, the local cloud's logs). The one exception is the local cloud's own secret store, which plays
    // Cloudflare's part (it must hand the value to workerd): mode 0600.
    const cloudStore = join(env.LEGO_HOME as string, "local", "state", "secrets.json");
    expect((await stat(cloudStore)).mode & 0o777).toBe(0o600);
    const files = [...(await allFiles(root)), ...(await allFiles(env.LEGO_HOME as string))].filter(
      (f) => f.path !== cloudStore,
    );
    expect(files.some((f) => f.path.endsWith(join(".lego", "audit.jsonl")))).toBe(true);
    expect(files.some((f) => f.path.endsWith("vault.json"))).toBe(true);
    for (const f of files) expect(f.text.includes(value), f.path).toBe(false);
  });
});
