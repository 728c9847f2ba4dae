// `lego create` and `lego init` (also as the seed's `lego-init`): thin commands over create-lego-service.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { oneJson, run } from "./helpers.ts";

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), "lego-scaffold-cmd-"));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("lego create", () => {
  it("creates a service and returns its environments and next steps as one JSON document", async () => {
    const ran = await run(
      ["create", "notes", "--type", "data-service", "--domain", "notes.example.com", "--json"],
      {
        cwd,
      },
    );
    expect(ran.exitCode).toBe(0);
    const doc = oneJson(ran.stdout);
    expect(doc.data).toMatchObject({
      name: "notes",
      type: "data-service",
      dir: join(cwd, "notes"),
      environments: [
        { name: "staging", hostname: "staging-notes.example.com", script: "notes-staging" },
        { name: "production", hostname: "notes.example.com", script: "notes-production" },
      ],
    });
    expect(existsSync(join(cwd, "notes/migrations/0001_init.sql"))).toBe(true);
  });

  it("exits 2 naming --type without a terminal, and on a bad --type value", async () => {
    const missing = await run(["create", "notes"], { cwd });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("--type");
    const bad = await run(["create", "notes", "--type", "lambda"], { cwd });
    expect(bad.exitCode).toBe(2);
    expect(await readdir(cwd)).toEqual([]);
  });

  it("refuses a non-empty folder (exit 2)", async () => {
    await mkdir(join(cwd, "notes"));
    await writeFile(join(cwd, "notes/index.js"), "");
    const ran = await run(["create", "notes", "--type", "static-site", "--json"], { cwd });
    expect(ran.exitCode).toBe(2);
    expect(oneJson(ran.stdout).error.code).toBe("ERR_SCAFFOLD_DIR_NOT_EMPTY");
  });
});

describe("lego init", () => {
  it("writes the missing domain config and lists the variables, never a value", async () => {
    const dir = join(cwd, "legacy");
    await mkdir(dir);
    await writeFile(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({
        name: "legacy",
        main: "src/index.ts",
        env: { production: { routes: [{ pattern: "legacy.example.com", custom_domain: true }] } },
      }),
    );
    const token = "cf-token-value-that-must-not-leak-0123456789";
    const ran = await run(["init", "legacy", "--json"], { cwd, env: { CLOUDFLARE_API_TOKEN: token } });
    expect(ran.exitCode).toBe(0);
    const data = oneJson(ran.stdout).data;
    expect(data).toMatchObject({ action: "generate", written: ["src/config/domains.ts"] });
    expect(data.variables).toContainEqual(
      expect.objectContaining({ name: "CLOUDFLARE_API_TOKEN", set: true }),
    );
    expect(ran.stdout + ran.stderr).not.toContain(token);
    expect(await readFile(join(dir, "src/config/domains.ts"), "utf8")).toContain(
      'production: "legacy.example.com"',
    );
  });

  it("runs as the seed's lego-init and exits 4 on configs that disagree", async () => {
    const dir = join(cwd, "svc");
    await mkdir(join(dir, "src/config"), { recursive: true });
    await writeFile(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({
        name: "svc",
        env: { production: { routes: [{ pattern: "a.example.com", custom_domain: true }] } },
      }),
    );
    await writeFile(
      join(dir, "src/config/domains.js"),
      'export const domains = { svc: { name: "svc", domains: { production: "b.example.com" } } };\n',
    );
    const ran = await run(["svc"], { cwd, binName: "lego-init" });
    expect(ran.exitCode).toBe(4);
    expect(ran.stderr).toContain("disagree");
    expect(ran.stderr).toContain("--force --from wrangler");
  });

  it("exits 2 in a folder with nothing to read", async () => {
    const ran = await run(["init", "--json"], { cwd });
    expect(ran.exitCode).toBe(2);
    expect(oneJson(ran.stdout).error.code).toBe("ERR_INIT_NOTHING_TO_READ");
  });
});
