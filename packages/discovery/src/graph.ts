import { UsageError } from "@lego/core";

/** Why one service depends on another. */
export interface DependencyEdge {
  from: string;
  to: string;
  /** `binding` for a wrangler service binding (with the environment and binding name), `dependsOn` for the domain config. */
  via: "binding" | "dependsOn";
  environment?: string | undefined;
  binding?: string | undefined;
  /** The file and key that make this edge, e.g. `services/api/wrangler.jsonc env.staging.services[0]`. */
  source?: string | undefined;
}

/** The services of a portfolio and what each depends on. */
export interface DependencyGraph {
  /** Service names, sorted. */
  nodes: string[];
  /** Service -> the services it depends on (deduplicated, sorted). Self-edges are dropped. */
  dependencies: Record<string, string[]>;
  /** Every edge with its reason, for explanations. */
  edges: DependencyEdge[];
  /** Dependencies first; ties broken by name so the order is stable. Services on a cycle come last. */
  order: string[];
  /** Each cycle as a path that returns to its start: `["api", "auth", "api"]`. Empty when acyclic. */
  cycles: string[][];
}

/**
 * Builds the dependency graph from edges. Edges to unknown nodes are ignored here (the validator
 * reports them); a service binding from a service to itself is not a dependency.
 */
export function buildDependencyGraph(
  nodes: Iterable<string>,
  edges: Iterable<DependencyEdge>,
): DependencyGraph {
  const names = [...new Set(nodes)].sort();
  const known = new Set(names);
  const deps = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
  const kept: DependencyEdge[] = [];
  for (const edge of edges) {
    if (!known.has(edge.from) || !known.has(edge.to) || edge.from === edge.to) continue;
    deps.get(edge.from)!.add(edge.to);
    kept.push(edge);
  }
  const dependencies: Record<string, string[]> = {};
  for (const name of names) dependencies[name] = [...deps.get(name)!].sort();
  const cycles = findCycles(names, dependencies);
  return { nodes: names, dependencies, edges: kept, order: orderOf(names, dependencies), cycles };
}

/** Kahn's algorithm, smallest name first among the ready ones; what remains (cycles) is appended sorted. */
function orderOf(names: string[], dependencies: Record<string, string[]>): string[] {
  const remaining = new Map(names.map((n) => [n, dependencies[n]!.length]));
  const dependents = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const n of names) for (const d of dependencies[n]!) dependents.get(d)!.push(n);
  // Kept sorted largest first, so the smallest ready name pops off the end; a newly ready one is put in
  // place by binary search (sorting the whole list each step made 1,000 services cost ~40 ms).
  const ready = names
    .filter((n) => remaining.get(n) === 0)
    .sort()
    .reverse();
  const insert = (name: string) => {
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ready[mid]! > name) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, name);
  };
  const order: string[] = [];
  while (ready.length > 0) {
    const next = ready.pop()!;
    order.push(next);
    for (const dependent of dependents.get(next)!) {
      const left = remaining.get(dependent)! - 1;
      remaining.set(dependent, left);
      if (left === 0) insert(dependent);
    }
  }
  if (order.length < names.length) {
    const placed = new Set(order);
    order.push(...names.filter((n) => !placed.has(n)));
  }
  return order;
}

/**
 * One cycle per strongly connected component with more than one service (Tarjan), each written as
 * the path that closes it, starting from its smallest name.
 */
function findCycles(names: string[], dependencies: Record<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];

  // Iterative Tarjan: a 1,000-service chain must not overflow the call stack.
  for (const start of names) {
    if (indexOf.has(start)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    indexOf.set(start, index);
    low.set(start, index);
    index++;
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = dependencies[frame.node]!;
      if (frame.next < targets.length) {
        const to = targets[frame.next++]!;
        if (!indexOf.has(to)) {
          indexOf.set(to, index);
          low.set(to, index);
          index++;
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, indexOf.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === indexOf.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1) components.push(component);
      }
    }
  }

  return components
    .map((component) => cyclePath(component, dependencies))
    .sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** A shortest path from the component's smallest member back to itself (BFS inside the component). */
function cyclePath(component: string[], dependencies: Record<string, string[]>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const to of dependencies[node]!) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = previous.get(at)) {
          path.splice(1, 0, at);
        }
        path.push(start);
        return path;
      }
      if (!seen.has(to)) {
        seen.add(to);
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/** `["api", "auth", "api"]` -> `api -> auth -> api`. */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(" -> ");
}

/** Where each step of a cycle is declared: `api -> auth: services/api/wrangler.jsonc services[0]`. */
export function cycleSources(graph: DependencyGraph, cycle: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < cycle.length; i++) {
    const edge = graph.edges.find((e) => e.from === cycle[i] && e.to === cycle[i + 1] && e.source);
    if (edge) out.push(`${edge.from} -> ${edge.to}: ${edge.source}`);
  }
  return out;
}

/**
 * The deploy order of `names` (default: every service) with their dependencies first. Throws
 * `ERR_DEPENDENCY_CYCLE` naming the cycle when one touches the requested services.
 *
 * @example
 * topologicalOrder(portfolio.graph); // ["auth", "data", "api"]
 */
export function topologicalOrder(graph: DependencyGraph, names?: readonly string[]): string[] {
  const wanted = new Set(names ?? graph.nodes);
  const cycle = graph.cycles.find((c) => c.some((n) => wanted.has(n)));
  if (cycle) {
    const sources = cycleSources(graph, cycle);
    throw new UsageError({
      code: "ERR_DEPENDENCY_CYCLE",
      message: `Dependency cycle: ${formatCycle(cycle)}${sources.length > 0 ? ` (${sources.join("; ")})` : ""}`,
      hint: "Remove one service binding or dependsOn entry on that path, so one of them can be deployed first.",
      details: { cycle, sources },
    });
  }
  return graph.order.filter((n) => wanted.has(n));
}

/** Every service `name` depends on, directly or not (excluding itself). */
export function transitiveDependencies(graph: DependencyGraph, name: string): string[] {
  const seen = new Set<string>();
  const queue = [...(graph.dependencies[name] ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.has(next) || next === name) continue;
    seen.add(next);
    queue.push(...(graph.dependencies[next] ?? []));
  }
  return graph.order.filter((n) => seen.has(n));
}
