import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compareMigrationNames, listMigrationFiles, migrationChecksum } from "../src/migrations.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function service(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lego-db-mig-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

describe("compareMigrationNames (wrangler 4.164 order)", () => {
  it("orders by leading number, numbered before unnumbered, then by code unit", () => {
    const names = ["b.sql", "10_ten.sql", "9_nine.sql", "0002_b.sql", "0002_a.sql", "a.sql", "0001_init.sql"];
    expect(names.sort(compareMigrationNames)).toEqual([
      "0001_init.sql",
      "0002_a.sql",
      "0002_b.sql",
      "9_nine.sql",
      "10_ten.sql",
      "a.sql",
      "b.sql",
    ]);
  });
  it("compares nested paths segment by segment", () => {
    expect(
      ["2_x/migration.sql", "10_y/migration.sql", "1_z/migration.sql"].sort(compareMigrationNames),
    ).toEqual(["1_z/migration.sql", "2_x/migration.sql", "10_y/migration.sql"]);
  });
});

describe("listMigrationFiles", () => {
  it("lists top-level .sql files of the migrations folder, sorted, with checksums", async () => {
    const dir = await service({
      "migrations/10_late.sql": "SELECT 10;",
      "migrations/2_early.sql": "SELECT 2;",
      "migrations/README.md": "not a migration",
      "migrations/.hidden.sql": "SELECT 0;",
      "migrations/nested/3_x.sql": "SELECT 3;",
    });
    const { exists, files } = await listMigrationFiles({
      serviceDir: dir,
      migrationsDir: join(dir, "migrations"),
    });
    expect(exists).toBe(true);
    expect(files.map((f) => f.name)).toEqual(["2_early.sql", "10_late.sql"]);
    expect(files[0]!.sha256).toBe(migrationChecksum("SELECT 2;"));
  });

  it("follows migrations_pattern for nested layouts (drizzle)", async () => {
    const dir = await service({
      "db/0001_a/migration.sql": "SELECT 1;",
      "db/0000_b/migration.sql": "SELECT 0;",
      "db/0000_b/snapshot.json": "{}",
    });
    const { files } = await listMigrationFiles({
      serviceDir: dir,
      migrationsDir: join(dir, "db"),
      migrationsPattern: "./db/*/migration.sql",
    });
    expect(files.map((f) => f.name)).toEqual(["0000_b/migration.sql", "0001_a/migration.sql"]);
  });

  it("reports a missing folder instead of failing", async () => {
    const dir = await service({});
    expect(await listMigrationFiles({ serviceDir: dir, migrationsDir: join(dir, "migrations") })).toEqual({
      exists: false,
      files: [],
    });
  });

  it("rejects a pattern outside the migrations folder, as wrangler does", async () => {
    const dir = await service({});
    await expect(
      listMigrationFiles({
        serviceDir: dir,
        migrationsDir: join(dir, "migrations"),
        migrationsPattern: "other/*.sql",
      }),
    ).rejects.toMatchObject({ code: "ERR_MIGRATIONS_DIR", exitCode: 2 });
  });

  it("checksums ignore CRLF vs LF, so a Windows checkout is not drift", () => {
    expect(migrationChecksum("CREATE TABLE a(x);\r\nSELECT 1;\r\n")).toBe(
      migrationChecksum("CREATE TABLE a(x);\nSELECT 1;\n"),
    );
    expect(migrationChecksum("SELECT 1;")).not.toBe(migrationChecksum("SELECT 2;"));
  });
});
