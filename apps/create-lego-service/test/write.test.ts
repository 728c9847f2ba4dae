import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isLegoError } from "@lego/core";
import { basicChecks, portfolioChecks, scanPortfolio } from "@lego/discovery";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { planScaffold, SERVICE_TYPES, scaffoldService, writeScaffold } from "../src/index.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-write-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

describe("writeScaffold", () => {
  it("writes every planned file, byte for byte, into a new folder", async () => {
    const plan = planScaffold({ name: "notes", type: "data-service", dir: "services/notes" });
    const result = await writeScaffold(plan, { cwd: root });
    expect(result.dir).toBe(join(root, "services/notes"));
    expect(await listFiles(result.dir)).toEqual(plan.files.map((f) => f.path));
    for (const file of plan.files) {
      expect(await readFile(join(result.dir, file.path), "utf8")).toBe(file.contents);
    }
  });

  it("refuses a non-empty folder with exit 2 and writes nothing", async () => {
    const dir = join(root, "taken");
    await mkdir(dir);
    await writeFile(join(dir, "keep.txt"), "mine");
    const error = await scaffoldService({ name: "taken", type: "static-site", dir }, { cwd: root }).catch(
      (e: unknown) => e,
    );
    expect(isLegoError(error)).toBe(true);
    expect(error).toMatchObject({ code: "ERR_SCAFFOLD_DIR_NOT_EMPTY", exitCode: 2 });
    expect((error as Error).message).toContain("keep.txt");
    expect(await readdir(dir)).toEqual(["keep.txt"]);
    expect(await readFile(join(dir, "keep.txt"), "utf8")).toBe("mine");
  });

  it("refuses a path that is a file", async () => {
    await writeFile(join(root, "file"), "x");
    await expect(
      scaffoldService({ name: "file", type: "static-site", dir: "file" }, { cwd: root }),
    ).rejects.toMatchObject({ code: "ERR_SCAFFOLD_DIR_NOT_EMPTY", exitCode: 2 });
  });

  it("accepts an empty folder and one holding only .git", async () => {
    await mkdir(join(root, "empty"));
    await mkdir(join(root, "repo/.git"), { recursive: true });
    await scaffoldService({ name: "empty", type: "static-site", dir: "empty" }, { cwd: root });
    await scaffoldService({ name: "repo", type: "static-site", dir: "repo" }, { cwd: root });
    expect((await stat(join(root, "empty/wrangler.jsonc"))).isFile()).toBe(true);
    expect((await readdir(join(root, "repo"))).sort()).toContain(".git");
  });
});

describe("a generated portfolio, read back by @lego/discovery", () => {
  it("is found by its parsed configs, agrees with itself and passes the basic validation", async () => {
    for (const type of SERVICE_TYPES) {
      const domain = `${type.split("-")[0]}.example.com`;
      await scaffoldService({ name: type, type, dir: `services/${type}`, domain }, { cwd: root });
    }
    const portfolio = await scanPortfolio({ root, cache: false });
    expect(portfolio.services.map((s) => s.name)).toEqual([
      "api-gateway",
      "auth-service",
      "data-service",
      "static-site",
    ]);
    const byName = Object.fromEntries(portfolio.services.map((s) => [s.name, s]));
    for (const service of portfolio.services) {
      expect(service.environmentNames).toEqual(["staging", "production"]);
      expect(service.environments.staging?.wranglerEnv).toBe("staging");
    }
    expect(byName["api-gateway"]!.environments.production).toMatchObject({
      scriptName: "api-gateway-production",
      hostnames: ["api.example.com"],
      serviceBindings: [
        { binding: "AUTH", service: "auth-service-production" },
        { binding: "DATA", service: "data-service-production" },
      ],
    });
    expect(byName["data-service"]!.environments.staging!.d1Databases).toEqual([
      { binding: "DB", databaseName: "data-service-db-staging", migrationsDir: "migrations" },
    ]);
    expect(byName["auth-service"]!.secretsRequired).toEqual(["JWT_SECRET"]);
    expect(portfolio.graph.cycles).toEqual([]);
    expect(portfolio.externalBindings).toEqual([]);

    const failing = [
      ...portfolioChecks(portfolio),
      ...portfolio.services.flatMap((s) => s.environmentNames.flatMap((e) => basicChecks(portfolio, s, e))),
    ].filter((c) => !c.ok && c.severity === "error");
    expect(failing).toEqual([]);
  });
});
