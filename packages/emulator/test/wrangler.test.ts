// The pinned, unmodified wrangler runs every command of the traffic record against a local cloud on
// port 0; each must exit 0, and real HTTP requests then show what it did. One cloud for the whole file:
// the steps build on each other, in order.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";
import {
  api,
  copyFixture,
  getJson,
  LOOPBACK_GUARD,
  request,
  runWrangler,
  type WranglerRun,
  wranglerEnv,
} from "./helpers.ts";

let cloud: LocalCloud;
let project: string;
let home: string;
let guardLog: string;
let env: Record<string, string>;
const versions: Record<string, string> = {};

async function wrangler(args: string[], input?: string): Promise<WranglerRun> {
  const run = await runWrangler(project, args, env, input);
  if (run.exitCode !== 0) {
    throw new Error(`wrangler ${args.join(" ")} exited ${run.exitCode}\n${run.stdout}\n${run.stderr}`);
  }
  return run;
}

function versionIdOf(run: WranglerRun): string {
  const rec = run.records.find((r) => r.type === "deploy" || r.type === "version-upload");
  expect(rec?.version_id).toMatch(/^[0-9a-f-]{36}$/);
  return rec?.version_id as string;
}

async function setCode(version: string): Promise<void> {
  const file = join(project, "src", "index.js");
  const code = await readFile(file, "utf8");
  await writeFile(file, code.replace(/const CODE_VERSION = "[^"]*";/, `const CODE_VERSION = "${version}";`));
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "lego-emu-wrangler-"));
  project = await copyFixture("sample-worker");
  guardLog = join(home, "guard.ndjson");
  cloud = await startLocalCloud({ stateDir: join(home, "state"), zones: ["example.com"] });
  env = wranglerEnv(cloud, join(home, "xdg"), {
    NODE_OPTIONS: `--require ${LOOPBACK_GUARD}`,
    LEGO_GUARD_LOG: guardLog,
  });
});

afterAll(async () => {
  await cloud?.close();
  await rm(home, { recursive: true, force: true });
  await rm(project, { recursive: true, force: true });
});

describe("the real wrangler against the local cloud", () => {
  it("whoami", async () => {
    const run = await wrangler(["whoami"]);
    expect(run.stdout).toContain(cloud.accountId);
  });

  it("deploys a Worker with D1, vars and a custom domain, then serves it on its hostname", async () => {
    const run = await wrangler(["deploy", "--env="]);
    versions.v1 = versionIdOf(run);
    const targets = run.records.find((r) => r.type === "deploy")?.targets as string[];
    expect(targets).toContain("api.example.com (custom domain)");
    expect(targets.some((t) => t.includes("*/30 * * * *"))).toBe(true);
    const body = await getJson(cloud.port, "api.example.com");
    expect(body).toMatchObject({ code: "v1", greeting: "prod", host: "api.example.com" });
    // The `.localhost` form a browser can open reaches the same Worker.
    expect(await getJson(cloud.port, `api.example.com.localhost:${cloud.port}`)).toMatchObject({
      code: "v1",
    });
  });

  it("deploys env.staging as its own Worker on its own domain", async () => {
    await wrangler(["deploy", "--env", "staging"]);
    expect(await getJson(cloud.port, "staging-api.example.com")).toMatchObject({ greeting: "staging" });
    expect(await getJson(cloud.port, "api.example.com")).toMatchObject({ greeting: "prod" });
  });

  it("d1 list and d1 create", async () => {
    const before = await wrangler(["d1", "list", "--json"]);
    expect(before.stdout).toContain("sample-db");
    await wrangler(["d1", "create", "sample-db-2"]);
    const after = await wrangler(["d1", "list", "--json"]);
    const names = (JSON.parse(after.stdout) as Array<{ name: string }>).map((d) => d.name).sort();
    expect(names).toEqual(["sample-db", "sample-db-2", "sample-db-staging"]);
  });

  it("d1 migrations apply writes rows the deployed Worker reads", async () => {
    await wrangler(["d1", "migrations", "apply", "sample-db", "--remote"]);
    expect(await getJson(cloud.port, "api.example.com", "/notes")).toEqual({
      notes: ["hello; world", "second"],
    });
    // Applying again is a no-op: d1_migrations recorded both files.
    const again = await wrangler(["d1", "migrations", "apply", "sample-db", "--remote"]);
    expect(again.stdout).toMatch(/No migrations to apply/);
  });

  it("d1 execute with a command and with a file", async () => {
    await wrangler(["d1", "execute", "sample-db", "--remote", "--file", "seed.sql", "-y"]);
    expect(await getJson(cloud.port, "api.example.com", "/notes")).toEqual({
      notes: ["hello; world", "second", "from file", "it's quoted"],
    });
    // The trigger (its body has a `;` inside BEGIN … END) fired for rows inserted after the migration.
    const sql = "SELECT body, touched FROM notes ORDER BY id";
    const cmd = await wrangler(["d1", "execute", "sample-db", "--remote", "--json", "--command", sql]);
    expect(JSON.parse(cmd.stdout)[0].results.map((r: { touched: number }) => r.touched)).toEqual([
      0, 1, 1, 1,
    ]);
  });

  it("d1 export writes a dump that re-imports into another database", async () => {
    const out = join(home, "dump.sql");
    await wrangler(["d1", "export", "sample-db", "--remote", "--output", out]);
    const dump = await readFile(out, "utf8");
    expect(dump).toContain("CREATE TABLE notes");
    expect(dump).toContain("CREATE TRIGGER notes_touch");
    expect(dump).toContain(`INSERT INTO "notes"`);
    await wrangler(["d1", "execute", "sample-db-2", "--remote", "--file", out, "-y"]);
    const check = await wrangler([
      "d1",
      "execute",
      "sample-db-2",
      "--remote",
      "--json",
      "--command",
      "SELECT body FROM notes ORDER BY id",
    ]);
    expect(JSON.parse(check.stdout)[0].results.map((r: { body: string }) => r.body)).toEqual([
      "hello; world",
      "second",
      "from file",
      "it's quoted",
    ]);
  });

  it("d1 time-travel info, then restore --bookmark brings changed rows back", async () => {
    const select = async () => {
      const run = await wrangler([
        "d1",
        "execute",
        "sample-db",
        "--remote",
        "--json",
        "--command",
        "SELECT id, body, touched FROM notes ORDER BY id",
      ]);
      return JSON.parse(run.stdout)[0].results as Array<{ id: number; body: string; touched: number }>;
    };
    const before = await select();
    expect(before.map((r) => r.body)).toEqual(["hello; world", "second", "from file", "it's quoted"]);
    const info = await wrangler(["d1", "time-travel", "info", "sample-db", "--json"]);
    const { bookmark } = JSON.parse(info.stdout) as { bookmark: string };
    expect(bookmark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);

    await wrangler([
      "d1",
      "execute",
      "sample-db",
      "--remote",
      "--command",
      "DELETE FROM notes WHERE id <= 2; UPDATE notes SET body = 'edited' WHERE id = 3; INSERT INTO notes (body) VALUES ('after the bookmark'); DROP TRIGGER notes_touch",
    ]);
    expect((await select()).map((r) => r.body)).toEqual(["edited", "it's quoted", "after the bookmark"]);

    const restore = await wrangler([
      "d1",
      "time-travel",
      "restore",
      "sample-db",
      "--bookmark",
      bookmark,
      "--json",
    ]);
    const result = JSON.parse(restore.stdout) as { bookmark: string; previous_bookmark: string };
    expect(result.bookmark).toBe(bookmark);
    expect(result.previous_bookmark).toMatch(/^[0-9a-f]{8}-/);
    expect(result.previous_bookmark).not.toBe(bookmark);
    expect(await select()).toEqual(before);
    // The deployed Worker reads the restored rows, and the dropped trigger is back.
    expect(await getJson(cloud.port, "api.example.com", "/notes")).toEqual({
      notes: before.map((r) => r.body),
    });
    const dump = join(home, "after-restore.sql");
    await wrangler(["d1", "export", "sample-db", "--remote", "--output", dump]);
    expect(await readFile(dump, "utf8")).toContain("CREATE TRIGGER notes_touch");

    // A bookmark the database never had is refused, and wrangler exits non-zero.
    const bad = await runWrangler(
      project,
      [
        "d1",
        "time-travel",
        "restore",
        "sample-db",
        "--bookmark",
        `00000000-00000000-00000000-${"f".repeat(32)}`,
        "--json",
      ],
      env,
    );
    expect(bad.exitCode).not.toBe(0);
    expect(`${bad.stdout}${bad.stderr}`).toMatch(/is not a bookmark of the database/);
    expect(await select()).toEqual(before);
  });

  it("secret put (stdin), secret bulk and secret list; the Worker sees the values", async () => {
    await wrangler(["secret", "put", "MY_SECRET", "--env="], "s3cr3t-value\n");
    expect(await getJson(cloud.port, "api.example.com")).toMatchObject({ secret: "s3cr3t-value" });
    await wrangler(["secret", "bulk", "secrets.json", "--env="]);
    const list = await wrangler(["secret", "list", "--env=", "--format", "json"]);
    const names = (JSON.parse(list.stdout) as Array<{ name: string }>).map((s) => s.name).sort();
    expect(names).toEqual(["API_KEY", "MY_SECRET", "OTHER"]);
    expect(list.stdout).not.toContain("s3cr3t-value");
    expect(await getJson(cloud.port, "api.example.com")).toMatchObject({ apiKey: "bulk-key" });
  });

  it("redeploys new code (versions + deployments API) and keeps the secrets", async () => {
    await setCode("v2");
    const run = await wrangler(["deploy", "--env="]);
    versions.v2 = versionIdOf(run);
    expect(await getJson(cloud.port, "api.example.com")).toMatchObject({
      code: "v2",
      secret: "s3cr3t-value",
    });
  });

  it("versions upload does not serve until versions deploy", async () => {
    await setCode("v3");
    const up = await wrangler(["versions", "upload", "--message", "third", "--env="]);
    versions.v3 = versionIdOf(up);
    expect(await getJson(cloud.port, "api.example.com")).toMatchObject({ code: "v2" });
    const list = await wrangler(["versions", "list", "--env=", "--json"]);
    expect(list.stdout).toContain(versions.v3);
    await wrangler(["versions", "deploy", `${versions.v3}@100%`, "-y", "--message", "ship v3", "--env="]);
    expect(await getJson(cloud.port, "api.example.com")).toMatchObject({ code: "v3" });
  });

  it("versions deploy splits traffic; Cloudflare-Workers-Version-Overrides reaches a version of the deployment, also at 0%", async () => {
    await setCode("v4");
    const up = await wrangler(["versions", "upload", "--message", "fourth", "--env="]);
    versions.v4 = versionIdOf(up);
    const script = "sample-worker";
    const code = async (headers: Record<string, string> = {}) =>
      (JSON.parse((await request(cloud.port, "api.example.com", "/", { headers })).body) as { code: string })
        .code;
    const override = (id: string) => ({ "cloudflare-workers-version-overrides": `${script}="${id}"` });
    // Not in the current deployment yet: the override is not applied (as on Cloudflare).
    expect(await code(override(versions.v4 as string))).toBe("v3");
    await wrangler([
      "versions",
      "deploy",
      `${versions.v3}@100%`,
      `${versions.v4}@0%`,
      "-y",
      "--message",
      "v4 at 0%",
      "--env=",
    ]);
    const plain = await Promise.all(Array.from({ length: 20 }, () => code()));
    expect(new Set(plain)).toEqual(new Set(["v3"]));
    expect(await code(override(versions.v4 as string))).toBe("v4");
    // A dictionary with other members and parameters, and a key given twice (the last wins).
    expect(
      await code({
        "cloudflare-workers-version-overrides": `other="x";a=1, ${script}="${versions.v3}", ${script}="${versions.v4}"`,
      }),
    ).toBe("v4");
    // Not a valid dictionary (unquoted value, not a String): ignored, the percentages decide.
    expect(
      await code({ "cloudflare-workers-version-overrides": `${script}=${versions.v4?.slice(0, 8)}` }),
    ).toBe("v3");
    expect(await code({ "cloudflare-workers-version-overrides": `${script}="${versions.v4}",` })).toBe("v3");
    // 50/50: both serve plain requests; the API records the split.
    await wrangler([
      "versions",
      "deploy",
      `${versions.v3}@50%`,
      `${versions.v4}@50%`,
      "-y",
      "--message",
      "v4 at 50%",
      "--env=",
    ]);
    const split = await Promise.all(Array.from({ length: 200 }, () => code()));
    const v4Share = split.filter((c) => c === "v4").length / split.length;
    expect(v4Share).toBeGreaterThan(0.35);
    expect(v4Share).toBeLessThan(0.65);
    expect(await code(override(versions.v3 as string))).toBe("v3");
    const deployments = await api<{ deployments: Array<{ versions: Array<Record<string, unknown>> }> }>(
      cloud,
      "GET",
      `/accounts/${cloud.accountId}/workers/scripts/${script}/deployments`,
    );
    expect(deployments.json.result.deployments[0]?.versions).toEqual(
      expect.arrayContaining([
        { version_id: versions.v3, percentage: 50 },
        { version_id: versions.v4, percentage: 50 },
      ]),
    );
    await wrangler(["versions", "deploy", `${versions.v3}@100%`, "-y", "--message", "back", "--env="]);
    expect(await code(override(versions.v4 as string))).toBe("v3");
  });

  it("deployments list shows the history", async () => {
    const run = await wrangler(["deployments", "list", "--env=", "--json"]);
    const deployments = JSON.parse(run.stdout) as Array<{ versions: Array<{ version_id: string }> }>;
    const ids = deployments.flatMap((d) => d.versions.map((v) => v.version_id));
    expect(ids).toEqual(expect.arrayContaining([versions.v1, versions.v2, versions.v3]));
  });

  it("rollback serves the old code again", async () => {
    await wrangler(["rollback", versions.v2 as string, "-y", "--message", "back to v2", "--env="]);
    expect(await getJson(cloud.port, "api.example.com")).toMatchObject({
      code: "v2",
      secret: "s3cr3t-value",
    });
  });

  it("secret put on a Worker that does not exist creates a draft Worker first", async () => {
    await wrangler(["secret", "put", "FIRST", "--name", "fresh-worker"], "draft-secret\n");
    const list = await wrangler(["secret", "list", "--name", "fresh-worker", "--format", "json"]);
    expect(JSON.parse(list.stdout)).toEqual([{ name: "FIRST", type: "secret_text" }]);
  });

  it("delete removes the staging Worker and its domain", async () => {
    await wrangler(["delete", "--env", "staging", "--force"]);
    const res = await request(cloud.port, "staging-api.example.com");
    expect(res.status).toBe(404);
    expect(await getJson(cloud.port, "api.example.com")).toMatchObject({ code: "v2" });
  });

  it("no wrangler run connected anywhere but loopback", async () => {
    const lines = (await readFile(guardLog, "utf8")).split("\n").filter(Boolean);
    const entries = lines.map((l) => JSON.parse(l) as { kind: string; host: string });
    // The guard was active: it saw wrangler's connections to the cloud.
    expect(entries.filter((e) => e.kind !== "dns").length).toBeGreaterThan(10);
    const outside = entries.filter(
      (e) => !["127.0.0.1", "::1", "localhost", "[::1]", "unix"].includes(e.host),
    );
    expect(outside).toEqual([]);
    // And the cloud saw no API call it does not implement.
    expect(cloud.requests.filter((r) => r.status === 501)).toEqual([]);
  });
});
