/**
 * The wrangler runner against the REAL pinned wrangler and the test fake on 127.0.0.1. Each test
 * spawns wrangler (about 1–2 s each), so the file keeps to the flows Lego relies on.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InterruptedError, isLegoError, type LegoError } from "@lego/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { defaultContractFixture } from "../src/testing/index.ts";
import { findRecord } from "../src/wrangler/output.ts";
import { createWranglerRunner, resolveWranglerBin, type WranglerRunner } from "../src/wrangler/runner.ts";
import { type FakeCloudflare, startFakeCloudflare } from "./support/fake-cloudflare.ts";

const fixture = defaultContractFixture();
const WORKER = "lego-fake-worker";
const db = fixture.d1[0] as { uuid: string; name: string };
let fake: FakeCloudflare;
let root: string;
let service: string;
let argvLog: string;
let recorder: string;
let wrangler: WranglerRunner;

interface Recorded {
  argv: string[];
  env: Record<string, string | undefined>;
  tokenInEnv: boolean;
}

async function readRecorded(): Promise<Recorded[]> {
  const text = await readFile(argvLog, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Recorded);
}

async function failureOf(promise: Promise<unknown>): Promise<LegoError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isLegoError(error)).toBe(true);
  return error as LegoError;
}

beforeAll(async () => {
  fake = await startFakeCloudflare(fixture);
  root = await mkdtemp(join(tmpdir(), "lego-wrangler-test-"));
  service = join(root, "service");
  await mkdir(join(service, "src"), { recursive: true });
  await mkdir(join(service, "migrations"));
  await writeFile(
    join(service, "src/index.js"),
    'export default { fetch() { return new Response("hello"); } };\n',
  );
  await writeFile(
    join(service, "wrangler.jsonc"),
    JSON.stringify({
      name: WORKER,
      main: "src/index.js",
      compatibility_date: "2025-09-01",
      workers_dev: true,
      d1_databases: [
        { binding: "DB", database_name: db.name, database_id: db.uuid, migrations_dir: "migrations" },
      ],
    }),
  );
  await writeFile(
    join(service, "migrations/0001_init.sql"),
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n",
  );

  // A stand-in for `node` that records the argv and environment it was started with (the token
  // only as a boolean), then runs the real Node with the same arguments and stdin.
  argvLog = join(root, "argv.ndjson");
  recorder = join(root, "node-recorder.cjs");
  await writeFile(
    recorder,
    `#!${process.execPath}
const { appendFileSync } = require("node:fs");
const { spawnSync } = require("node:child_process");
const pick = ["CLOUDFLARE_API_BASE_URL", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_KEY", "WRANGLER_SEND_METRICS", "WRANGLER_HIDE_BANNER",
  "WRANGLER_SEND_ERROR_REPORTS", "CI", "XDG_CONFIG_HOME", "NODE_COMPILE_CACHE", "WRANGLER_OUTPUT_FILE_PATH", "TMPDIR"];
const env = Object.fromEntries(pick.map((k) => [k, process.env[k]]));
appendFileSync(process.env.LEGO_TEST_ARGV_LOG, JSON.stringify({ argv: process.argv.slice(2), env, tokenInEnv: Boolean(process.env.CLOUDFLARE_API_TOKEN) }) + "\\n");
const r = spawnSync(${JSON.stringify(process.execPath)}, process.argv.slice(2), { stdio: "inherit" });
process.exit(r.status ?? 1);
`,
  );
  await chmod(recorder, 0o755);

  wrangler = createWranglerRunner({
    cwd: service,
    nodePath: recorder,
    target: { apiBaseUrl: fake.baseURL, token: fixture.token, accountId: fixture.account.id },
    stateDir: join(root, "state"),
    // The recorder sees each process's argv and environment: one process per command here (the
    // long-lived processes have tests of their own below).
    reuseProcesses: false,
    // An ambient global API key must not leak into wrangler: the target decides the credentials.
    baseEnv: {
      PATH: process.env.PATH,
      LEGO_TEST_ARGV_LOG: argvLog,
      CLOUDFLARE_API_KEY: "ambient-global-key",
    },
  });
});

afterAll(async () => {
  await wrangler?.dispose();
  await fake?.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.reset();
  await rm(argvLog, { force: true });
});

describe("wrangler runner (real pinned wrangler)", () => {
  it("resolves the pinned wrangler and reports its version", async () => {
    expect(resolveWranglerBin()).toMatch(/wrangler[/\\]wrangler-dist[/\\]cli\.js$/);
    expect(await wrangler.version()).toBe("4.164.0");
  });

  it("bundles with deploy --dry-run --outdir and makes no API call", async () => {
    const outdir = join(root, "dry-out");
    const result = await wrangler.deploy({ dryRun: true, outdir });
    expect(result.workerName).toBe(WORKER);
    expect(result.versionId).toBeUndefined();
    expect((await stat(join(outdir, "index.js"))).size).toBeGreaterThan(0);
    expect(fake.requests).toEqual([]);
  });

  it("deploys through the target's API with the offline environment, and returns the ND-JSON record", async () => {
    const result = await wrangler.deploy();
    expect(result.workerName).toBe(WORKER);
    expect(result.versionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.targets).toEqual([`https://${WORKER}.${fixture.accountSubdomain}.workers.dev`]);
    expect(findRecord(result.run.records, "wrangler-session")?.wrangler_version).toBe("4.164.0");
    // What the fake recorded: the upload went to our server, with our token.
    const put = fake.find("PUT", new RegExp(`/workers/scripts/${WORKER}$`));
    expect(put).toHaveLength(1);
    expect(put[0]?.headers.authorization).toBe(`Bearer ${fixture.token}`);
    expect(fake.scripts.get(WORKER)?.deployments[0]?.versions[0]?.version_id).toBe(result.versionId);

    const [recorded] = await readRecorded();
    expect(recorded?.argv.slice(-1)).toEqual(["deploy"]);
    expect(recorded?.argv.join(" ")).not.toContain(fixture.token);
    expect(recorded?.tokenInEnv).toBe(true);
    // wrangler talks to the runner's relay on loopback, which forwards to the target (the fake).
    expect(recorded?.env.CLOUDFLARE_API_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/client\/v4$/);
    expect(recorded?.env.CLOUDFLARE_API_BASE_URL).not.toBe(fake.baseURL);
    expect(wrangler.relayStats()?.requests).toBeGreaterThan(0);
    expect(recorded?.env).toMatchObject({
      CLOUDFLARE_ACCOUNT_ID: fixture.account.id,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_HIDE_BANNER: "true",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      CI: "true",
      XDG_CONFIG_HOME: join(root, "state", "config"),
      NODE_COMPILE_CACHE: join(root, "state", "compile-cache"),
    });
    expect(recorded?.env.CLOUDFLARE_API_KEY).toBeUndefined();
    // wrangler's npm update check (run on unexpected errors) is answered offline from a seeded cache.
    const seeded = JSON.parse(
      await readFile(join(root, "state", "tmp", "update-check", "wrangler-latest.json"), "utf8"),
    );
    expect(seeded.latest).toBe("4.164.0");
    expect(recorded?.env.TMPDIR).toBe(join(root, "state", "tmp"));
    // The ND-JSON file was read, then deleted.
    const outputFile = recorded?.env.WRANGLER_OUTPUT_FILE_PATH as string;
    await expect(stat(outputFile)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("puts a secret with the value on stdin, never in argv", async () => {
    const value = "s3cret-value-on-stdin-7f3a";
    const result = await wrangler.secretPut({ key: "API_KEY", value });
    expect(fake.scripts.get(WORKER)?.secrets.get("API_KEY")).toBe(value);
    const put = fake.find("PUT", new RegExp(`/workers/scripts/${WORKER}/secrets$`));
    expect(JSON.parse(put[0]?.body ?? "{}")).toMatchObject({
      name: "API_KEY",
      text: value,
      type: "secret_text",
    });
    const [recorded] = await readRecorded();
    expect(recorded?.argv.slice(-3)).toEqual(["secret", "put", "API_KEY"]);
    expect(JSON.stringify(recorded)).not.toContain(value);
    expect(result.command).toEqual(["wrangler", "secret", "put", "API_KEY"]);
    expect(JSON.stringify(result.records)).not.toContain(value);
  });

  it("sends several secrets in one `secret bulk` JSON on stdin; null deletes", async () => {
    const values = { BULK_A: "bulk-value-aaaa-1111", BULK_B: "bulk-value-bbbb-2222" };
    await wrangler.secretBulk({ secrets: values });
    const secrets = fake.scripts.get(WORKER)?.secrets;
    expect(secrets?.get("BULK_A")).toBe(values.BULK_A);
    expect(secrets?.get("BULK_B")).toBe(values.BULK_B);
    const recorded = await readRecorded();
    expect(JSON.stringify(recorded)).not.toContain("bulk-value");
    await wrangler.secretBulk({ secrets: { BULK_A: null } });
    expect(secrets?.has("BULK_A")).toBe(false);
    expect(secrets?.has("BULK_B")).toBe(true);
    await expect(wrangler.secretBulk({ secrets: {} })).rejects.toMatchObject({
      code: "ERR_WRANGLER_USAGE",
      exitCode: 2,
    });
  });

  it("uploads a version, then rolls back to the previous one", async () => {
    const before = fake.scripts.get(WORKER)?.deployments[0]?.versions[0]?.version_id as string;
    const upload = await wrangler.versionsUpload({ message: "candidate" });
    expect(upload.versionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.scripts.get(WORKER)?.versions.map((v) => v.id)).toContain(upload.versionId);
    await wrangler.rollback({ versionId: before, message: "back to the last good version" });
    const live = fake.scripts.get(WORKER)?.deployments[0];
    expect(live?.versions).toEqual([{ version_id: before, percentage: 100 }]);
    expect(live?.message).toBe("back to the last good version");
  });

  it("applies D1 migrations and reads them back with d1 execute --json", async () => {
    await wrangler.d1MigrationsApply({ database: db.name });
    const { results } = await wrangler.d1Execute({
      database: "DB",
      command: "SELECT name FROM d1_migrations",
    });
    expect(results[0]?.results).toEqual([{ name: "0001_init.sql" }]);
    const queries = fake
      .find("POST", /\/d1\/database\/[^/]+\/query$/)
      .map((r) => JSON.parse(r.body).sql as string);
    expect(queries.some((q) => q.includes("CREATE TABLE notes"))).toBe(true);
  });

  it("fails with ERR_WRANGLER_FAILED: exit code, command, Cloudflare code and a redacted stderr tail", async () => {
    fake.fault({
      method: "PUT",
      path: /\/workers\/scripts\/other-worker$/,
      status: 400,
      errors: [{ code: 10021, message: `Uploaded script is invalid (token ${fixture.token})` }],
    });
    const error = await failureOf(wrangler.deploy({ name: "other-worker" }));
    expect(error).toMatchObject({
      code: "ERR_WRANGLER_FAILED",
      exitCode: 1,
      details: { command: ["wrangler", "deploy", "--name", "other-worker"], exitCode: 1, cfCode: 10021 },
    });
    const tail = error.details?.stderrTail as string;
    expect(tail).toContain("Uploaded script is invalid (token ***)");
    expect(JSON.stringify(error.toJSON())).not.toContain(fixture.token);
    expect(error.message).not.toContain(fixture.token);
  });

  it("maps a rejected token to exit code 3", async () => {
    const bad = createWranglerRunner({
      cwd: service,
      target: { apiBaseUrl: fake.baseURL, token: "rejected-token-000111222", accountId: fixture.account.id },
      stateDir: join(root, "state"),
      baseEnv: { PATH: process.env.PATH },
    });
    const error = await failureOf(bad.deploy());
    expect(error).toMatchObject({
      code: "ERR_WRANGLER_FAILED",
      exitCode: 3,
      kind: "user",
      details: { cfCode: 10000 },
    });
    expect(JSON.stringify(error.toJSON())).not.toContain("rejected-token-000111222");
  });

  it("is cancelled by an AbortSignal: the process is killed, InterruptedError is thrown", async () => {
    fake.fault({ method: "GET", path: /\/workers\/services\//, status: 0, hang: true });
    // The real Node here: the recorder stand-in would be killed while its wrangler child lives on.
    const direct = createWranglerRunner({
      cwd: service,
      target: { apiBaseUrl: fake.baseURL, token: fixture.token, accountId: fixture.account.id },
      stateDir: join(root, "state"),
      baseEnv: { PATH: process.env.PATH },
    });
    const controller = new AbortController();
    const started = Date.now();
    const running = direct.deploy({ signal: controller.signal });
    while (fake.find("GET", /\/workers\/services\//).length === 0) {
      if (Date.now() - started > 20_000) throw new Error("wrangler never reached the API");
      await new Promise((r) => setTimeout(r, 25));
    }
    const abortedAt = Date.now();
    controller.abort();
    const error = await failureOf(running);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(error).toMatchObject({ code: "ERR_INTERRUPTED", exitCode: 130 });
    expect(Date.now() - abortedAt).toBeLessThan(5000);
  });

  it("refuses a missing service folder before spawning", async () => {
    await expect(wrangler.deploy({ cwd: join(root, "no-such-service") })).rejects.toMatchObject({
      code: "ERR_WRANGLER_USAGE",
      exitCode: 2,
    });
    expect(await readRecorded()).toEqual([]);
  });

  it("refuses a secret in argv", async () => {
    await expect(wrangler.run(["deploy", "--var", `TOKEN:${fixture.token}`])).rejects.toMatchObject({
      code: "ERR_WRANGLER_USAGE",
    });
    expect(await readRecorded()).toEqual([]);
  });
});

describe("long-lived wrangler processes (reuseProcesses, the default)", () => {
  let hosted: WranglerRunner;
  beforeAll(() => {
    hosted = createWranglerRunner({
      cwd: service,
      target: { apiBaseUrl: fake.baseURL, token: fixture.token, accountId: fixture.account.id },
      stateDir: join(root, "state-hosted"),
      baseEnv: { PATH: process.env.PATH, HOME: root },
    });
  });
  afterAll(async () => {
    await hosted?.dispose();
  });

  it("runs the next command in the process that ran the last, each with its own output and result", async () => {
    const first = await hosted.deploy();
    const second = await hosted.deploy({ name: "second-worker" });
    expect(first.run.reusedProcess).toBe(false);
    expect(second.run.reusedProcess).toBe(true);
    // Each command's records and output are its own: the fake holds what each deploy reported.
    expect(first.workerName).toBe(WORKER);
    expect(second.workerName).toBe("second-worker");
    expect(fake.scripts.get(WORKER)?.deployments[0]?.versions[0]?.version_id).toBe(first.versionId);
    expect(fake.scripts.get("second-worker")?.deployments[0]?.versions[0]?.version_id).toBe(second.versionId);
    expect(second.run.stdout).toContain("second-worker");
    expect(second.run.stdout).not.toContain(`Uploaded ${WORKER} `);
    expect(first.run.stdout).not.toContain("second-worker");
    expect(`${first.run.stdout}${second.run.stdout}${first.run.stderr}`).not.toContain("LEGO-WRANGLER-HOST");
    // The working folder is the command's: a dry run elsewhere bundles that folder's Worker.
    const other = join(root, "hosted-other");
    await mkdir(join(other, "src"), { recursive: true });
    await writeFile(
      join(other, "src/index.js"),
      'export default { fetch() { return new Response("other"); } };\n',
    );
    await writeFile(
      join(other, "wrangler.jsonc"),
      JSON.stringify({ name: "hosted-other", main: "src/index.js", compatibility_date: "2025-09-01" }),
    );
    const dry = await hosted.deploy({ cwd: other, dryRun: true, outdir: join(other, "out") });
    expect(dry.workerName).toBe("hosted-other");
    expect(dry.run.reusedProcess).toBe(true);
    expect(await readFile(join(other, "out", "index.js"), "utf8")).toContain('"other"');
  });

  it("a failed command reports as in a process of its own, and the next command gets a new process", async () => {
    fake.fault({
      method: "PUT",
      path: /\/workers\/scripts\/failing-worker$/,
      status: 400,
      errors: [{ code: 10021, message: `Uploaded script is invalid (token ${fixture.token})` }],
    });
    await hosted.deploy();
    const error = await failureOf(hosted.deploy({ name: "failing-worker" }));
    expect(error).toMatchObject({
      code: "ERR_WRANGLER_FAILED",
      exitCode: 1,
      details: { exitCode: 1, cfCode: 10021 },
    });
    expect(error.details?.stderrTail as string).toContain("Uploaded script is invalid (token ***)");
    const after = await hosted.deploy();
    expect(after.run.reusedProcess).toBe(false);
    expect(after.versionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("runs commands at once in processes of their own", async () => {
    const [a, b] = await Promise.all([
      hosted.deploy({ name: "at-once-a" }),
      hosted.deploy({ name: "at-once-b" }),
    ]);
    expect(a.workerName).toBe("at-once-a");
    expect(b.workerName).toBe("at-once-b");
    expect(a.run.stdout).not.toContain("at-once-b");
    expect(b.run.stdout).not.toContain("at-once-a");
    expect(fake.scripts.get("at-once-a")?.deployments[0]?.versions[0]?.version_id).toBe(a.versionId);
    expect(fake.scripts.get("at-once-b")?.deployments[0]?.versions[0]?.version_id).toBe(b.versionId);
  });

  it("prewarm starts a process that the next command waits for and uses, instead of starting another", async () => {
    const stateDir = join(root, "state-warm");
    const warm = createWranglerRunner({
      cwd: service,
      target: { apiBaseUrl: fake.baseURL, token: fixture.token, accountId: fixture.account.id },
      stateDir,
      baseEnv: { PATH: process.env.PATH, HOME: root },
    });
    try {
      warm.prewarm(1);
      // Sent while the process still loads wrangler: it waits for that process.
      const deployed = await warm.deploy();
      expect(deployed.run.reusedProcess).toBe(true);
      expect(deployed.versionId).toMatch(/^[0-9a-f-]{36}$/);
      const { execFileSync } = await import("node:child_process");
      const hosts = execFileSync("pgrep", ["-f", join(stateDir, "wrangler-host.cjs")], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
      expect(hosts).toHaveLength(1);
    } finally {
      await warm.dispose();
    }
  });

  it("a cancelled command ends its process, and the runner goes on", async () => {
    fake.fault({ method: "GET", path: /\/workers\/services\//, status: 0, hang: true, times: 1 });
    const controller = new AbortController();
    const running = hosted.deploy({ signal: controller.signal });
    const started = Date.now();
    while (fake.find("GET", /\/workers\/services\//).length === 0) {
      if (Date.now() - started > 20_000) throw new Error("wrangler never reached the API");
      await new Promise((r) => setTimeout(r, 25));
    }
    controller.abort();
    expect(await failureOf(running)).toBeInstanceOf(InterruptedError);
    const next = await hosted.deploy();
    expect(next.versionId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
