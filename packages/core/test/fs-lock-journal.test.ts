import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  acquireLock,
  createRunId,
  createRunJournal,
  readJournal,
  readJsonFile,
  writeFileAtomic,
  writeJsonAtomic,
} from "../src/index.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lego-core-"));
});
afterEach(() => {});

describe("writeFileAtomic", () => {
  it("writes with the requested mode and leaves no temp file", async () => {
    const path = join(dir, "nested", "vault.json");
    await writeFileAtomic(path, "secret", { mode: 0o600 });
    expect(await readFile(path, "utf8")).toBe("secret");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, "nested"))).toEqual(["vault.json"]);
  });

  it("concurrent writers never leave a torn file", async () => {
    const path = join(dir, "state.json");
    const values = Array.from({ length: 20 }, (_, i) => ({ i, pad: "x".repeat(50_000) }));
    await Promise.all(values.map((v) => writeJsonAtomic(path, v)));
    const read = await readJsonFile<{ i: number; pad: string }>(path);
    expect(read?.pad.length).toBe(50_000);
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("readJsonFile: undefined when missing, exit 2 naming the file when invalid", async () => {
    expect(await readJsonFile(join(dir, "none.json"))).toBeUndefined();
    const bad = join(dir, "bad.json");
    await writeFile(bad, "{nope");
    await expect(readJsonFile(bad)).rejects.toMatchObject({
      code: "ERR_FILE_INVALID",
      exitCode: 2,
      message: expect.stringContaining(bad),
    });
  });
});

describe("acquireLock", () => {
  it("is exclusive while held, and free after release", async () => {
    const path = join(dir, ".lego", "lock");
    const lock = await acquireLock(path, { command: "deploy api", runId: "r1" });
    await expect(acquireLock(path, { command: "deploy auth" })).rejects.toMatchObject({
      code: "ERR_LOCK_HELD",
      exitCode: 4,
      message: expect.stringContaining("deploy api"),
    });
    await lock.release();
    const again = await acquireLock(path, { command: "deploy auth" });
    await again.release();
  });

  it("racing runs: one takes the lock, every other sees it held (never a torn, stale lock)", async () => {
    for (let round = 0; round < 10; round++) {
      const path = join(dir, `race-${round}`, "lock");
      const results = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) => acquireLock(path, { command: `deploy ${i}` })),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const codes = results.flatMap((r) => (r.status === "rejected" ? [r.reason.code] : []));
      expect(won).toHaveLength(1);
      expect(new Set(codes)).toEqual(new Set(["ERR_LOCK_HELD"]));
      expect(await readdir(join(dir, `race-${round}`))).toEqual(["lock"]);
    }
  });

  it("reports a lock left by a dead process and breaks it only when asked", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid as number;
    const path = join(dir, "lock");
    await writeFile(
      path,
      JSON.stringify({
        pid: dead,
        hostname: hostname(),
        command: "deploy api",
        runId: "r0",
        startedAt: "2026-01-01T00:00:00Z",
      }),
    );
    await expect(acquireLock(path, { command: "deploy" })).rejects.toMatchObject({
      code: "ERR_LOCK_STALE",
      exitCode: 4,
      hint: expect.stringContaining("--break-stale-lock"),
    });
    expect(JSON.parse(await readFile(path, "utf8")).pid).toBe(dead);
    const lock = await acquireLock(path, { command: "deploy", breakStale: true });
    expect(lock.info.pid).toBe(process.pid);
    await lock.release();
  });
});

describe("run journal", () => {
  it("appends events in order under .lego/runs/<id>/ and survives a torn last line", async () => {
    const journal = await createRunJournal({
      root: dir,
      runId: createRunId(new Date("2026-11-25T04:37:00Z")),
    });
    expect(journal.runId).toMatch(/^20261125-043700-[0-9a-f]{6}$/);
    expect(journal.path).toBe(join(dir, ".lego", "runs", journal.runId, "journal.jsonl"));
    await journal.append("run.started", { command: "deploy" });
    await journal.append("step.finished", { step: "validate", ok: true });
    await writeFile(journal.path, `${await readFile(journal.path, "utf8")}{"at":"2026`);
    const events = await readJournal(journal.path);
    expect(events.map((e) => e.type)).toEqual(["run.started", "step.finished"]);
    expect(events[1]).toMatchObject({ step: "validate", ok: true });
    // A damaged line before the last is not a crash mid-write: it is an error naming the line.
    await writeFile(journal.path, `{"type":"a"}\nnot json\n{"type":"b"}\n`);
    await expect(readJournal(journal.path)).rejects.toMatchObject({
      code: "ERR_FILE_INVALID",
      message: expect.stringContaining("journal.jsonl:2"),
    });
  });
});
