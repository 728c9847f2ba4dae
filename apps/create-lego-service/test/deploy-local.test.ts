// "Deploys unchanged": the pinned wrangler deploys every generated service, as written, to the local
// cloud (@lego/emulator on 127.0.0.1:0), and real HTTP requests reach them on their staging hostnames:
// the data service over D1 after its migrations, the auth service with its secret, the gateway through
// its service bindings, and a redeploy with a new SERVICE_VERSION shows on /health, along with the id of the
// version wrangler uploaded (the CF_VERSION_METADATA binding), which `lego deploy` waits for.

import { rm } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { type LocalCloud, startLocalCloud } from "@lego/emulator";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childEnv, createGeneratedRoot, domainOf, packageDir } from "./generated-root.ts";

let root: string;
let cloud: LocalCloud;
let env: Record<string, string>;

const staging = (type: string) => `staging-${domainOf(type)}`;

/** The version id `wrangler deploy` prints ("Current Version ID: <uuid>"). */
function uploadedVersion(stdout: string): string {
  const id = /Current Version ID: ([0-9a-f-]{36})/.exec(stdout)?.[1];
  if (!id) throw new Error(`no version id in the output of wrangler deploy:\n${stdout}`);
  return id;
}

async function wrangler(type: string, args: string[], input?: string): Promise<string> {
  const run = await execa(process.execPath, [join(packageDir("wrangler"), "bin/wrangler.js"), ...args], {
    cwd: join(root, type),
    env,
    extendEnv: false,
    reject: false,
    ...(input === undefined ? {} : { input }),
  });
  if (run.exitCode !== 0) {
    throw new Error(
      `wrangler ${args.join(" ")} (${type}) exited ${run.exitCode}\n${run.stdout}\n${run.stderr}`,
    );
  }
  return run.stdout;
}

/** An HTTP request to the local cloud's port, addressed to `hostname` (as a custom domain receives it). */
function call(
  hostname: string,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: cloud.port,
        path,
        method: init.method ?? "GET",
        headers: {
          host: hostname,
          ...(init.body ? { "content-type": "application/json" } : {}),
          ...init.headers,
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body, type: String(res.headers["content-type"]) }),
        );
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

beforeAll(async () => {
  root = await createGeneratedRoot("lego-deploy-local-");
  cloud = await startLocalCloud({ stateDir: join(root, ".cloud"), zones: ["example.com"] });
  env = childEnv(join(root, ".config"), {
    CLOUDFLARE_API_BASE_URL: cloud.apiBaseUrl,
    CLOUDFLARE_API_TOKEN: cloud.token,
    CLOUDFLARE_ACCOUNT_ID: cloud.accountId,
  });
}, 60_000);

afterAll(async () => {
  await cloud?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("generated services on the local cloud", () => {
  it("data-service: deploys, provisions D1, migrates and serves CRUD on its hostname", async () => {
    const deployed = await wrangler("data-service", ["deploy", "--env", "staging"]);
    await wrangler("data-service", ["d1", "migrations", "apply", "DB", "--remote", "--env", "staging"]);
    const health = await call(staging("data-service"), "/health");
    expect(JSON.parse(health.body)).toEqual({
      ok: true,
      service: "data-service",
      environment: "staging",
      version: "0.1.0",
      versionId: uploadedVersion(deployed),
      database: "ok",
    });
    const created = await call(staging("data-service"), "/notes", {
      method: "POST",
      body: JSON.stringify({ title: "deployed" }),
    });
    expect(created.status).toBe(201);
    expect(JSON.parse((await call(staging("data-service"), "/notes")).body).notes).toEqual([
      expect.objectContaining({ title: "deployed" }),
    ]);
  }, 60_000);

  it("auth-service: refuses to sign without JWT_SECRET, then issues tokens once it is set", async () => {
    await wrangler("auth-service", ["deploy", "--env", "staging"]);
    const before = await call(staging("auth-service"), "/token", {
      method: "POST",
      body: JSON.stringify({ subject: "alice" }),
    });
    expect(before.status).toBe(503);
    // The value travels on stdin, never in argv.
    await wrangler("auth-service", ["secret", "put", "JWT_SECRET", "--env", "staging"], "s".repeat(48));
    const issued = await call(staging("auth-service"), "/token", {
      method: "POST",
      body: JSON.stringify({ subject: "alice" }),
    });
    expect(issued.status).toBe(200);
    const { token } = JSON.parse(issued.body) as { token: string };
    const me = await call(staging("auth-service"), "/me", { headers: { authorization: `Bearer ${token}` } });
    expect(JSON.parse(me.body)).toMatchObject({ subject: "alice", issuer: "auth-service" });
  }, 60_000);

  it("api-gateway: forwards to the deployed auth and data services through its bindings", async () => {
    await wrangler("api-gateway", ["deploy", "--env", "staging"]);
    const gateway = staging("api-gateway");
    expect(JSON.parse((await call(gateway, "/health")).body)).toMatchObject({ environment: "staging" });
    const notes = await call(gateway, "/data/notes");
    expect(JSON.parse(notes.body).notes).toEqual([expect.objectContaining({ title: "deployed" })]);
    const issued = await call(gateway, "/auth/token", {
      method: "POST",
      body: JSON.stringify({ subject: "bob" }),
    });
    const { token } = JSON.parse(issued.body) as { token: string };
    const me = await call(gateway, "/auth/me", { headers: { authorization: `Bearer ${token}` } });
    expect(JSON.parse(me.body)).toMatchObject({ subject: "bob" });
    expect((await call(gateway, "/auth/me")).status).toBe(401);
  }, 60_000);

  it("static-site: serves its page, and a redeploy's SERVICE_VERSION and version id are visible on /health", async () => {
    const first = uploadedVersion(await wrangler("static-site", ["deploy", "--env", "staging"]));
    expect(JSON.parse((await call(staging("static-site"), "/health")).body)).toMatchObject({
      versionId: first,
    });
    const page = await call(staging("static-site"), "/");
    expect(page.type).toContain("text/html");
    expect(page.body).toContain("<h1>Static Site</h1>");
    expect((await call(staging("static-site"), "/beta")).status).toBe(200);
    const second = uploadedVersion(
      await wrangler("static-site", ["deploy", "--env", "staging", "--var", "SERVICE_VERSION:0.2.0"]),
    );
    expect(second).not.toBe(first);
    expect(JSON.parse((await call(staging("static-site"), "/health")).body)).toMatchObject({
      version: "0.2.0",
      versionId: second,
    });
  }, 60_000);
});
