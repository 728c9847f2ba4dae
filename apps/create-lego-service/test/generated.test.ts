// End to end: every service type, generated into a temp folder, passes its own tests inside workerd and
// bundles with the pinned wrangler, unchanged. One vitest run covers all four services (one project each)
// to keep this to seconds.
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_TYPES } from "../src/index.ts";
import { childEnv, createGeneratedRoot, packageDir } from "./generated-root.ts";

let root: string;

beforeAll(async () => {
  root = await createGeneratedRoot("lego-generated-");
  await writeFile(
    join(root, "vitest.config.mjs"),
    `export default { test: { projects: ${JSON.stringify(SERVICE_TYPES.map((t) => `./${t}`))} } };\n`,
  );
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
