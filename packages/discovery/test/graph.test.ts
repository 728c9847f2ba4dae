import { describe, expect, it } from "vitest";
import { buildDependencyGraph, formatCycle, topologicalOrder, transitiveDependencies } from "../src/index.ts";
import { thrown } from "./helpers.ts";

const edge = (from: string, to: string) => ({ from, to, via: "binding" as const });

describe("dependency graph", () => {
  it("orders random graphs exactly as Kahn's algorithm taking the smallest ready name", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 20; round++) {
      const names = Array.from({ length: 60 }, (_, i) => `s${Math.floor(random() * 1000)}-${i}`);
      const edges = names.flatMap((from, i) =>
        names.slice(0, i).flatMap((to) => (random() < 0.05 ? [edge(from, to)] : [])),
      );
      // The reference: sort the ready list before every pick.
      const deps = new Map(
        names.map((n) => [n, new Set(edges.filter((e) => e.from === n).map((e) => e.to))]),
      );
      const expected: string[] = [];
      const left = new Set(names);
      while (left.size > 0) {
        const next = [...left].filter((n) => [...deps.get(n)!].every((d) => !left.has(d))).sort()[0]!;
        expected.push(next);
        left.delete(next);
      }
      expect(buildDependencyGraph(names, edges).order).toEqual(expected);
    }
  });

  it("orders dependencies first, ties by name", () => {
    const graph = buildDependencyGraph(
      ["web", "api", "auth", "data"],
      [edge("api", "auth"), edge("api", "data"), edge("web", "api")],
    );
    expect(graph.order).toEqual(["auth", "data", "api", "web"]);
    expect(graph.cycles).toEqual([]);
    expect(topologicalOrder(graph, ["web", "auth"])).toEqual(["auth", "web"]);
    expect(transitiveDependencies(graph, "web")).toEqual(["auth", "data", "api"]);
  });

  it("ignores self-bindings and edges to unknown services", () => {
    const graph = buildDependencyGraph(["a"], [edge("a", "a"), edge("a", "zzz")]);
    expect(graph.dependencies).toEqual({ a: [] });
    expect(graph.cycles).toEqual([]);
  });

  it("names each cycle as the path that closes it", async () => {
    const graph = buildDependencyGraph(
      ["api", "auth", "x", "y", "z", "free"],
      [
        edge("api", "auth"),
        edge("auth", "api"),
        edge("x", "y"),
        edge("y", "z"),
        edge("z", "x"),
        edge("free", "api"),
      ],
    );
    expect(graph.cycles.map(formatCycle)).toEqual(["api -> auth -> api", "x -> y -> z -> x"]);
    expect(graph.order).toHaveLength(6);
    const error = await thrown(() => topologicalOrder(graph, ["free", "auth"]));
    expect(error.code).toBe("ERR_DEPENDENCY_CYCLE");
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe("Dependency cycle: api -> auth -> api");
    // A selection that touches no cycle is still ordered.
    expect(topologicalOrder(graph, ["free"])).toEqual(["free"]);
  });

  it("handles a 5,000-service chain without recursion limits", () => {
    const names = Array.from({ length: 5000 }, (_, i) => `s${String(i).padStart(4, "0")}`);
    const edges = names.slice(1).map((n, i) => edge(n, names[i]!));
    edges.push(edge(names[0]!, names[4999]!));
    const graph = buildDependencyGraph(names, edges);
    expect(graph.cycles).toHaveLength(1);
    expect(graph.cycles[0]).toHaveLength(5001);
  });
});
