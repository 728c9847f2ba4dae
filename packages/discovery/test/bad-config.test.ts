import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  assertServicesReady,
  isCalendarDate,
  MAX_CONFIG_BYTES,
  parseWranglerConfig,
  scanPortfolio,
  topologicalOrder,
} from "../src/index.ts";
import { tempDir, thrown, writeTree } from "./helpers.ts";

const FILE = "services/api/wrangler.jsonc";
const problemsOf = (config: Record<string, unknown>) => {
  const result = parseWranglerConfig(JSON.stringify(config), FILE);
  return result.ok ? result.config.deployProblems : result.problems;
};
const base = { name: "api", main: "src/index.ts", compatibility_date: "2025-09-01" };

describe("wrangler config checks that wrangler would fail on, caught first with file and key", () => {
  it.each([
    [{ ...base, name: "MyApi" }, "name", /lower-case/],
    [{ ...base, name: "a".repeat(64) }, "name", /at most 63/],
    [{ ...base, env: { staging: { name: "Api Staging" } } }, "env.staging.name", /not a valid Worker name/],
    [{ ...base, compatibility_date: "2025-13-01" }, "compatibility_date", /YYYY-MM-DD/],
    [{ ...base, compatibility_date: "2025-02-30" }, "compatibility_date", /YYYY-MM-DD/],
    [{ ...base, compatibility_date: "yesterday" }, "compatibility_date", /YYYY-MM-DD/],
    [{ ...base, compatibility_date: 20250901 }, "compatibility_date", /YYYY-MM-DD/],
    [{ ...base, env: { qa: { compatibility_date: "01/09/2025" } } }, "env.qa.compatibility_date", /YYYY/],
    [{ ...base, main: "../../../../evil.js" }, "main", /outside the service folder/],
    [{ ...base, main: "/etc/passwd" }, "main", /outside the service folder/],
    [{ ...base, main: "src/../../x.js" }, "main", /outside the service folder/],
    [
      { ...base, d1_databases: [{ binding: "DB", database_name: "d", migrations_dir: "../shared" }] },
      "d1_databases[0].migrations_dir",
      /outside the service folder/,
    ],
  ])("%j: %s", (config, keyPath, message) => {
    const result = parseWranglerConfig(JSON.stringify(config), FILE);
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(
      expect.objectContaining({ file: FILE, keyPath, message: expect.stringMatching(message) }),
    );
  });

  it("a missing main or compatibility_date blocks a deploy, not a listing", () => {
    expect(problemsOf({ name: "api", compatibility_date: "2025-09-01" })).toEqual([
      expect.objectContaining({ keyPath: "main", message: expect.stringMatching(/is missing/) }),
    ]);
    expect(problemsOf({ name: "api", main: "x.js" })).toEqual([
      expect.objectContaining({ keyPath: "compatibility_date" }),
    ]);
    // An assets-only Worker has no main; an environment may set its own.
    expect(problemsOf({ ...base, main: undefined, assets: { directory: "public" } })).toEqual([]);
    expect(problemsOf({ ...base, main: undefined, env: { staging: { main: "s.js" } } })).toEqual([]);
    expect(problemsOf(base)).toEqual([]);
  });

  it("reads real calendar dates only", () => {
    expect(isCalendarDate("2024-02-29")).toBe(true);
    expect(isCalendarDate("2025-02-29")).toBe(false);
    expect(isCalendarDate("2025-9-1")).toBe(false);
  });
});

const WRANGLER = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    name: "api",
    main: "src/index.js",
    compatibility_date: "2025-09-01",
    routes: [{ pattern: "api.example.com", custom_domain: true }],
    ...extra,
  });
const DOMAINS = `export const domains = { api: { name: "api", domains: { production: "api.example.com" } } };\n`;

async function portfolio(files: Record<string, string>): Promise<string> {
  const root = await tempDir();
  await writeTree(root, {
    "services/api/wrangler.json": WRANGLER(),
    "services/api/src/index.js": "export default {};\n",
    "services/api/src/config/domains.js": DOMAINS,
    ...files,
  });
  return root;
}

describe("scanPortfolio: files a config points to, and configs that are not configs", () => {
  it("a main that does not exist, or a declared migrations_dir that does not, blocks the service", async () => {
    const root = await portfolio({
      "services/api/wrangler.json": WRANGLER({
        main: "src/missing.js",
        d1_databases: [{ binding: "DB", database_name: "db", migrations_dir: "db/migrations" }],
      }),
    });
    const scanned = await scanPortfolio({ root, cache: false });
    const api = scanned.services[0]!;
    expect(api.problems?.map((p) => `${p.file}: ${p.keyPath}`)).toEqual([
      "services/api/wrangler.json: main",
      "services/api/wrangler.json: d1_databases[0].migrations_dir",
    ]);
    const error = await thrown(async () => assertServicesReady([api]));
    expect(error).toMatchObject({ code: "ERR_CONFIG_INVALID", exitCode: 2 });
    expect(error.message).toMatch(/^services\/api\/wrangler\.json: main: "src\/missing\.js" does not exist/);
  });

  it("a badly named migration fails the scan before anything can apply it", async () => {
    const root = await portfolio({
      "services/api/wrangler.json": WRANGLER({ d1_databases: [{ binding: "DB", database_name: "db" }] }),
      "services/api/migrations/0001_init.sql": "create table t (id int);\n",
      "services/api/migrations/bad name!.sql": "drop table t;\n",
    });
    const error = await thrown(() => scanPortfolio({ root, cache: false }));
    expect(error).toMatchObject({ code: "ERR_CONFIG_INVALID", exitCode: 2 });
    expect(error.message).toContain(
      'services/api/wrangler.json: d1_databases[0].migrations_dir: migration "bad name!.sql"',
    );
  });

  it("notices through the cache when main disappears", async () => {
    const root = await portfolio({});
    expect((await scanPortfolio({ root })).services[0]!.problems).toBeUndefined();
    const { rm } = await import("node:fs/promises");
    await rm(join(root, "services/api/src/index.js"));
    expect((await scanPortfolio({ root })).services[0]!.problems?.[0]?.keyPath).toBe("main");
  });

  it("refuses a config over the size limit, naming the file", async () => {
    const root = await portfolio({});
    const big = WRANGLER({ vars: { BLOB: "x".repeat(MAX_CONFIG_BYTES) } });
    await writeFile(join(root, "services/api/wrangler.json"), big);
    const error = await thrown(() => scanPortfolio({ root, cache: false }));
    expect(error).toMatchObject({ code: "ERR_CONFIG_INVALID", exitCode: 2 });
    expect(error.message).toMatch(/^services\/api\/wrangler\.json: \(file\): is 1\.0 MiB/);
  });

  it.each([
    ["an empty file", ""],
    ["module.exports = {}", "module.exports = {};\n"],
    ["an empty domains object", "export const domains = {};\n"],
  ])("a domain config that declares no service (%s) names the file", async (_, text) => {
    const root = await portfolio({ "services/api/src/config/domains.js": text });
    const error = await thrown(() => scanPortfolio({ root, cache: false }));
    expect(error).toMatchObject({ exitCode: 2 });
    expect(error.message).toMatch(/^services\/api\/src\/config\/domains\.js: domains: /);
  });

  it("names the files that make a dependency cycle", async () => {
    const root = await portfolio({
      "services/api/wrangler.json": WRANGLER({ services: [{ binding: "AUTH", service: "auth" }] }),
      "services/auth/wrangler.json": JSON.stringify({
        name: "auth",
        main: "i.js",
        compatibility_date: "2025-09-01",
        services: [{ binding: "API", service: "api" }],
      }),
      "services/auth/i.js": "export default {};\n",
    });
    const scanned = await scanPortfolio({ root, cache: false });
    const error = await thrown(async () => topologicalOrder(scanned.graph));
    expect(error.message).toBe(
      "Dependency cycle: api -> auth -> api (api -> auth: services/api/wrangler.json services[0]; auth -> api: services/auth/wrangler.json services[0])",
    );
  });
});

describe("domain configs are evaluated in isolation, with a time limit", () => {
  const GOOD = DOMAINS;
  it.each([
    [
      "never settles its top-level await",
      "await new Promise(() => {});\n" + GOOD,
      /stopped before it finished|did not finish/,
    ],
    [
      "waits on a timer that never fires in time",
      "await new Promise((r) => setInterval(r, 60_000));\n" + GOOD,
      /did not finish within 0.5 s/,
    ],
    ["loops forever", "while (true) {}\n" + GOOD, /did not finish within 0.5 s/],
    ["calls process.exit(0)", "process.exit(0);\n" + GOOD, /called process.exit\(0\)/],
    ["throws", 'throw new Error("boom");\n' + GOOD, /failed to load: boom/],
    [
      "signals its own process",
      'process.kill(process.pid, "SIGKILL");\n' + GOOD,
      /called process\.kill\(\d+, "SIGKILL"\)/,
    ],
  ])("a config that %s is an error for that file, and the others still load", async (_, text, reason) => {
    const { createModuleLoader } = await import("../src/index.ts");
    const root = await tempDir();
    await writeTree(root, { "a/domains.ts": text, "b/domains.ts": GOOD, "c/domains.js": GOOD });
    const files = ["a/domains.ts", "b/domains.ts", "c/domains.js"].map((f) => join(root, f));
    const started = Date.now();
    const { modules, errors } = await createModuleLoader({ timeoutMs: 500 }).loadAll(files);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(errors.get(files[0]!)).toMatchObject({ code: "ERR_DOMAIN_CONFIG_LOAD", exitCode: 2 });
    expect(errors.get(files[0]!)!.message).toMatch(reason);
    expect([...modules.keys()].sort()).toEqual([files[1], files[2]]);
    expect(modules.get(files[1]!)!.exports.domains).toMatchObject({ api: { name: "api" } });
  });

  it("what a config prints does not reach Lego's output, and functions in it are dropped", async () => {
    const { createModuleLoader } = await import("../src/index.ts");
    const root = await tempDir();
    await writeTree(root, {
      "d.js": `console.log("NOISE"); export const domains = { api: { name: "api", domains: { production: "a.example.com" }, hook() {} } };\n`,
    });
    const writes: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const { modules } = await createModuleLoader().loadAll([join(root, "d.js")]);
      expect(modules.get(join(root, "d.js"))!.exports.domains).toEqual({
        api: { name: "api", domains: { production: "a.example.com" } },
      });
    } finally {
      process.stdout.write = original;
    }
    expect(writes.join("")).not.toContain("NOISE");
  });
});
