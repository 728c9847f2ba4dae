import { describe, expect, it } from "vitest";
import { dependenciesOf, dependentsOf, planWaves, runGraph, type ScheduleNode } from "../src/scheduler.ts";

// A 3-level graph: a, b at the bottom; c depends on a; d on a and b; e on c and d; f on nothing.
const nodes: ScheduleNode[] = [
  { id: "a", dependsOn: [] },
  { id: "b", dependsOn: [] },
  { id: "f", dependsOn: [] },
  { id: "c", dependsOn: ["a"] },
  { id: "d", dependsOn: ["a", "b", "outside"] },
  { id: "e", dependsOn: ["c", "d"] },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("planWaves", () => {
  it("groups by dependency depth, ignoring dependencies outside the set", () => {
    expect(planWaves(nodes)).toEqual([["a", "b", "f"], ["c", "d"], ["e"]]);
  });
  it("refuses a cycle", () => {
    expect(() =>
      planWaves([
        { id: "x", dependsOn: ["y"] },
        { id: "y", dependsOn: ["x"] },
      ]),
    ).toThrow(/cycle/);
  });
});

describe("runGraph", () => {
  it("starts a node as soon as its dependencies are done, never before, at most `concurrency` at once", async () => {
    const events: string[] = [];
    let running = 0;
    let peak = 0;
    const durations: Record<string, number> = { a: 10, b: 60, f: 5, c: 10, d: 10, e: 5 };
    const results = await runGraph(nodes, {
      concurrency: 2,
      run: async (id) => {
        running++;
        peak = Math.max(peak, running);
        events.push(`start ${id}`);
        await sleep(durations[id] ?? 1);
        events.push(`end ${id}`);
        running--;
        return { ok: true, value: id };
      },
      onError: (id) => id,
    });
    expect(peak).toBe(2);
    expect([...results.values()].every((r) => r.status === "ok")).toBe(true);
    const at = (e: string) => events.indexOf(e);
    // c starts once a ended, while b (slow) still runs: not wave by wave.
    expect(at("start c")).toBeGreaterThan(at("end a"));
    expect(at("start c")).toBeLessThan(at("end b"));
    expect(at("start d")).toBeGreaterThan(at("end b"));
    expect(at("start e")).toBeGreaterThan(Math.max(at("end c"), at("end d")));
    expect(results.get("e")?.wave).toBe(2);
  });

  it("a failure skips only its dependents, with the reason; independent nodes go on", async () => {
    const ran: string[] = [];
    const results = await runGraph(nodes, {
      concurrency: 3,
      run: async (id) => {
        ran.push(id);
        if (id === "a") throw new Error("boom");
        return { ok: true, value: id };
      },
      onError: (id, error) => `${id}: ${(error as Error).message}`,
    });
    expect(results.get("a")).toMatchObject({ status: "failed", value: "a: boom" });
    expect(results.get("c")).toMatchObject({ status: "skipped", reason: "a failed" });
    expect(results.get("d")).toMatchObject({ status: "skipped", reason: "a failed" });
    expect(results.get("e")).toMatchObject({ status: "skipped", reason: "c was skipped (a failed)" });
    expect(results.get("b")?.status).toBe("ok");
    expect(results.get("f")?.status).toBe("ok");
    expect(ran.sort()).toEqual(["a", "b", "f"]);
  });

  it("--fail-fast starts nothing new after the first failure; what runs finishes", async () => {
    const results = await runGraph(nodes, {
      concurrency: 1,
      failFast: true,
      run: async (id) => ({ ok: id !== "a", value: id }),
      onError: (id) => id,
    });
    expect(results.get("a")?.status).toBe("failed");
    expect(results.get("b")).toMatchObject({ status: "skipped", reason: "--fail-fast: a failed" });
    expect(results.get("f")).toMatchObject({ status: "skipped", reason: "--fail-fast: a failed" });
  });

  it("an aborted signal starts nothing new", async () => {
    const controller = new AbortController();
    const results = await runGraph(nodes, {
      concurrency: 1,
      signal: controller.signal,
      run: async (id) => {
        controller.abort();
        return { ok: true, value: id };
      },
      onError: (id) => id,
    });
    const statuses = [...results.values()].map((r) => r.status);
    expect(statuses.filter((s) => s === "ok")).toHaveLength(1);
    expect([...results.values()].find((r) => r.status === "skipped")).toMatchObject({
      reason: "the run was interrupted",
    });
  });
});

describe("graph helpers", () => {
  it("dependents and dependencies, transitively", () => {
    expect([...dependentsOf(nodes, "a")].sort()).toEqual(["c", "d", "e"]);
    expect([...dependenciesOf(nodes, "e")].sort()).toEqual(["a", "b", "c", "d"]);
  });
});
