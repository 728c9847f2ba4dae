// End to end: every service type, generated into a temp folder, passes its own tests inside workerd and
// bundles with the pinned wrangler, unchanged. One vitest run covers all four services (one project each)
// to keep this to seconds.
import { existsSync, realpathSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_TYPES, scaffoldService } from "../src/index.ts";

/** The installed folder of a package, found the way Node resolves it (some hide package.json from `exports`). */
function packageDir(name: string): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`${name} is not installed`);
  }
}

/** The environment of a child tool: no VITEST_* of the parent run, wrangler kept off the network (traffic doc §2). */
function childEnv(configHome: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith("VITEST") || key === "NODE_OPTIONS" || key === "TEST") continue;
    env[key] = value;
  }
  return {
    ...env,
    CI: "true",
    NO_COLOR: "1",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    XDG_CONFIG_HOME: configHome,
  };
}

let root: string;

beforeAll(async () => {
  const runtime = packageDir("@lego/runtime");
  if (!existsSync(join(runtime, "dist/index.js"))) {
    throw new Error(
      "@lego/runtime is not built: generated services import its dist like any user would. Run `pnpm turbo run build --filter create-lego-service^...` (the repo's test task does).",
    );
  }
  root = await mkdtemp(join(tmpdir(), "lego-generated-"));
  // What `pnpm install` gives a generated service: its dependencies in node_modules.
  const modules = join(root, "node_modules");
  await mkdir(join(modules, "@lego"), { recursive: true });
  await mkdir(join(modules, "@cloudflare"), { recursive: true });
  await symlink(runtime, join(modules, "@lego/runtime"), "dir");
  await symlink(packageDir("@cloudflare/vitest-plugin"), join(modules, "@cloudflare/vitest-plugin"), "dir");
  await symlink(packageDir("vitest"), join(modules, "vitest"), "dir");
  await symlink(packageDir("wrangler"), join(modules, "wrangler"), "dir");
  await symlink(packageDir("typescript"), join(modules, "typescript"), "dir");
  await symlink(packageDir("@cloudflare/workers-types"), join(modules, "@cloudflare/workers-types"), "dir");
  await writeFile(join(root, "package.json"), '{ "private": true, "type": "module" }\n');
  await writeFile(
    join(root, "vitest.config.mjs"),
    `export default { test: { projects: ${JSON.stringify(SERVICE_TYPES.map((t) => `./${t}`))} } };\n`,
  );
  for (const type of SERVICE_TYPES) {
    const domain = `${type.split("-")[0]}.example.com`;
    await scaffoldService({ name: type, type, dir: type, domain }, { cwd: root });
  }
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("generated services", () => {
  it("pass their own tests inside workerd", async () => {
    const report = join(root, "vitest-report.json");
    const vitest = join(packageDir("vitest"), "vitest.mjs");
    const run = await execa(process.execPath, [vitest, "run", "--reporter=json", `--outputFile=${report}`], {
      cwd: root,
      env: childEnv(join(root, ".config")),
      extendEnv: false,
      reject: false,
    });
    const result = JSON.parse(await readFile(report, "utf8")) as {
      numFailedTests: number;
      numPassedTests: number;
      testResults: Array<{ name: string; status: string; assertionResults: Array<{ status: string }> }>;
    };
    const perService = Object.fromEntries(
      result.testResults.map((r) => [
        r.name.slice(root.length + 1).split("/")[0],
        r.assertionResults.filter((a) => a.status === "passed").length,
      ]),
    );
    expect({
      exitCode: run.exitCode,
      failed: result.numFailedTests,
      stderr: run.exitCode ? run.stderr : "",
    }).toEqual({
      exitCode: 0,
      failed: 0,
      stderr: "",
    });
    for (const type of SERVICE_TYPES) expect(perService[type]).toBeGreaterThanOrEqual(7);
  }, 180_000);

  it("bundle unchanged with the pinned wrangler (deploy --dry-run, no network)", async () => {
    const wrangler = join(packageDir("wrangler"), "bin/wrangler.js");
    const env = childEnv(join(root, ".config"));
    const build = async (type: string) => {
      const outdir = join(root, "out", type);
      const run = await execa(
        process.execPath,
        [wrangler, "deploy", "--dry-run", "--outdir", outdir, "--env", "staging"],
        { cwd: join(root, type), env, extendEnv: false, reject: false },
      );
      return {
        type,
        exitCode: run.exitCode,
        output: run.stdout + run.stderr,
        bundle: join(outdir, "index.js"),
      };
    };
    // Two at a time: the machine has two cores.
    const results = [
      ...(await Promise.all([build("api-gateway"), build("data-service")])),
      ...(await Promise.all([build("auth-service"), build("static-site")])),
    ];
    for (const r of results) {
      expect({ type: r.type, exitCode: r.exitCode }).toEqual({ type: r.type, exitCode: 0 });
      const bundle = await readFile(r.bundle, "utf8");
      // The runtime is bundled without its zod schema: Workers that only resolve flags do not pay for it.
      expect(bundle).toContain("initializeService");
      expect(bundle).not.toMatch(/from ["']zod/);
    }
    const byType = Object.fromEntries(results.map((r) => [r.type, r.output]));
    expect(byType["api-gateway"]).toMatch(/env\.AUTH \(auth-service-staging\)/);
    expect(byType["api-gateway"]).toMatch(/env\.DATA \(data-service-staging\)/);
    expect(byType["data-service"]).toMatch(/env\.DB \(data-service-db-staging\)/);
    expect(byType["static-site"]).toMatch(/env\.ENVIRONMENT \("staging"\)/);
  }, 120_000);

  it("typecheck with their own tsconfig (tsc, no network)", async () => {
    const tsc = join(packageDir("typescript"), "bin/tsc");
    const check = async (type: string) => {
      const run = await execa(process.execPath, [tsc, "-p", "tsconfig.json"], {
        cwd: join(root, type),
        reject: false,
      });
      return { type, exitCode: run.exitCode, output: run.stdout + run.stderr };
    };
    const results = [
      ...(await Promise.all([check("api-gateway"), check("data-service")])),
      ...(await Promise.all([check("auth-service"), check("static-site")])),
    ];
    expect(results).toEqual(SERVICE_TYPES.map(() => expect.objectContaining({ exitCode: 0, output: "" })));
  }, 120_000);
});
