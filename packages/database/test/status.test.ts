import { describe, expect, it } from "vitest";
import { describeFailure } from "../src/migrate.ts";
import { migrationChecksum } from "../src/migrations.ts";
import { planMigrations } from "../src/status.ts";

const file = (name: string, text = name) => ({ name, path: `/m/${name}`, sha256: migrationChecksum(text) });

describe("planMigrations", () => {
  it("lists pending migrations in wrangler's order", () => {
    const plan = planMigrations({
      files: [file("0001_a.sql"), file("0002_b.sql"), file("0003_c.sql")],
      applied: [{ name: "0001_a.sql", appliedAt: "2026-11-25 04:00:00" }],
      checksums: [],
    });
    expect(plan.pending.map((p) => p.name)).toEqual(["0002_b.sql", "0003_c.sql"]);
    expect(plan.applied).toEqual([
      {
        name: "0001_a.sql",
        appliedAt: "2026-11-25 04:00:00",
        checksum: "untracked",
        sha256: migrationChecksum("0001_a.sql"),
      },
    ]);
    expect(plan.drift).toEqual([]);
  });

  it("reports a file changed after it was applied, and a deleted applied file, as drift", () => {
    const plan = planMigrations({
      files: [file("0001_a.sql", "edited"), file("0003_c.sql")],
      applied: [{ name: "0001_a.sql" }, { name: "0002_b.sql" }],
      checksums: [
        { name: "0001_a.sql", sha256: migrationChecksum("0001_a.sql"), adopted: false },
        { name: "0002_b.sql", sha256: migrationChecksum("0002_b.sql"), adopted: false },
      ],
    });
    expect(plan.drift).toEqual([
      {
        name: "0001_a.sql",
        kind: "changed",
        recorded: migrationChecksum("0001_a.sql"),
        current: migrationChecksum("edited"),
      },
      { name: "0002_b.sql", kind: "missing-file", recorded: migrationChecksum("0002_b.sql") },
    ]);
    expect(plan.applied.map((a) => a.checksum)).toEqual(["changed", "missing-file"]);
  });

  it("accepts a recorded removal and matching content", () => {
    const plan = planMigrations({
      files: [file("0001_a.sql")],
      applied: [{ name: "0001_a.sql" }, { name: "0000_gone.sql" }],
      checksums: [
        { name: "0001_a.sql", sha256: migrationChecksum("0001_a.sql"), adopted: true },
        { name: "0000_gone.sql", sha256: null, adopted: false },
      ],
    });
    expect(plan.drift).toEqual([]);
    expect(plan.applied.map((a) => a.checksum)).toEqual(["ok", "removed"]);
  });

  it("flags a migration added before one already applied", () => {
    const plan = planMigrations({
      files: [file("0001_a.sql"), file("0002_late.sql"), file("0003_c.sql")],
      applied: [{ name: "0001_a.sql" }, { name: "0003_c.sql" }],
      checksums: [],
    });
    expect(plan.pending).toEqual([
      { name: "0002_late.sql", sha256: migrationChecksum("0002_late.sql"), outOfOrder: true },
    ]);
    expect(plan.warnings[0]).toMatch(/0002_late.sql sorts before 0003_c.sql/);
  });
});

describe("describeFailure", () => {
  it("prefers wrangler's SQL error line over its generic first line", () => {
    const error = Object.assign(
      new Error(
        "wrangler d1 migrations apply db exited with code 1: A request to the Cloudflare API (/q) failed.",
      ),
      {
        details: {
          stderrTail:
            "\n✘ [ERROR] A request to the Cloudflare API (/q) failed.\n\n  no such table: nope: SQLITE_ERROR [code: 7500]\n",
        },
      },
    );
    expect(describeFailure(error)).toBe("no such table: nope: SQLITE_ERROR [code: 7500]");
    expect(describeFailure(new Error("export exploded\nmore"))).toBe("export exploded");
  });
});
