import pLimit from "p-limit";

/** One unit of a scheduled run and what it waits for (ids outside the run are taken as done). */
export interface ScheduleNode {
  id: string;
  dependsOn: readonly string[];
}

/** How one node ended. */
export type NodeResult<R> =
  | { id: string; status: "ok"; value: R; wave: number }
  | { id: string; status: "failed"; value: R; wave: number }
  | { id: string; status: "skipped"; reason: string; wave: number };

export interface ScheduleOptions<R> {
  /** At most this many nodes run at once (>= 1). */
  concurrency: number;
  /** After the first failure, start nothing new (what runs finishes). */
  failFast?: boolean | undefined;
  /** Aborted: start nothing new; what runs is told through its own signal by the caller. */
  signal?: AbortSignal | undefined;
  /** Runs one node; `ok: false` fails it (its dependents are skipped), a throw is a failure too. */
  run(id: string): Promise<{ ok: boolean; value: R }>;
  /** Told when a node starts, and when one is skipped (with the reason). */
  onStart?(id: string): void;
  onSkip?(id: string, reason: string): void;
  /** Turns a thrown error into a failed node's value. */
  onError(id: string, error: unknown): R;
}

/**
 * Groups nodes into waves: wave 0 depends on nothing in the set, wave n on something in wave n-1 at
 * the latest. Throws on a cycle (discovery reports cycles with their files before a run gets here).
 */
export function planWaves(nodes: readonly ScheduleNode[]): string[][] {
  const ids = new Set(nodes.map((n) => n.id));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) throw new Error(`dependency cycle through ${id}`);
    visiting.add(id);
    let d = 0;
    for (const dep of byId.get(id)?.dependsOn ?? []) if (ids.has(dep)) d = Math.max(d, visit(dep) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const waves: string[][] = [];
  for (const node of nodes) {
    const d = visit(node.id);
    const wave = waves[d] ?? [];
    wave.push(node.id);
    waves[d] = wave;
  }
  return waves.map((w) => w ?? []);
}

/**
 * Runs a dependency graph with bounded concurrency: a node starts as soon as everything it depends
 * on has succeeded (not wave by wave), and at most `concurrency` run at once. A failed node skips
 * only its dependents, with the reason; independent nodes go on. `failFast` (or an aborted signal)
 * stops new starts and marks what never started as skipped. Nodes waiting for a slot start in the
 * order given (callers pass a topological order, so the critical path is not starved).
 *
 * @example
 * const results = await runGraph(nodes, { concurrency: 4, run: async (id) => ({ ok: await deploy(id), value: id }), onError: () => id });
 */
export async function runGraph<R>(
  nodes: readonly ScheduleNode[],
  options: ScheduleOptions<R>,
): Promise<Map<string, NodeResult<R>>> {
  const waves = planWaves(nodes);
  const waveOf = new Map<string, number>();
  waves.forEach((wave, i) => {
    for (const id of wave) waveOf.set(id, i);
  });
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const limit = pLimit(Math.max(1, Math.floor(options.concurrency)));
  const started = new Map<string, Promise<NodeResult<R>>>();
  let stopReason: string | undefined;

  const stopped = (): string | undefined => {
    if (options.signal?.aborted) return "the run was interrupted";
    return stopReason;
  };

  const schedule = (id: string): Promise<NodeResult<R>> => {
    const existing = started.get(id);
    if (existing) return existing;
    const wave = waveOf.get(id) ?? 0;
    const promise = (async (): Promise<NodeResult<R>> => {
      const deps = (byId.get(id)?.dependsOn ?? []).filter((d) => byId.has(d));
      const results = await Promise.all(deps.map(schedule));
      const blocked = results.find((r) => r.status !== "ok");
      if (blocked) {
        const reason =
          blocked.status === "failed"
            ? `${blocked.id} failed`
            : `${blocked.id} was skipped (${blocked.reason})`;
        options.onSkip?.(id, reason);
        return { id, status: "skipped", reason, wave };
      }
      return limit(async (): Promise<NodeResult<R>> => {
        const stop = stopped();
        if (stop) {
          options.onSkip?.(id, stop);
          return { id, status: "skipped", reason: stop, wave };
        }
        options.onStart?.(id);
        let outcome: { ok: boolean; value: R };
        try {
          outcome = await options.run(id);
        } catch (error) {
          outcome = { ok: false, value: options.onError(id, error) };
        }
        if (!outcome.ok && options.failFast && stopReason === undefined)
          stopReason = `--fail-fast: ${id} failed`;
        return outcome.ok
          ? { id, status: "ok", value: outcome.value, wave }
          : { id, status: "failed", value: outcome.value, wave };
      });
    })();
    started.set(id, promise);
    return promise;
  };

  const all = await Promise.all(nodes.map((n) => schedule(n.id)));
  return new Map(all.map((r) => [r.id, r]));
}

/** Every node that depends on `id`, directly or not, within `nodes`. */
export function dependentsOf(nodes: readonly ScheduleNode[], id: string): Set<string> {
  const out = new Set<string>();
  const queue = [id];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    for (const n of nodes)
      if (n.dependsOn.includes(current) && !out.has(n.id)) {
        out.add(n.id);
        queue.push(n.id);
      }
  }
  return out;
}

/** Everything `id` depends on, directly or not, within `nodes`. */
export function dependenciesOf(nodes: readonly ScheduleNode[], id: string): Set<string> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out = new Set<string>();
  const queue = [id];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    for (const dep of byId.get(current)?.dependsOn ?? [])
      if (byId.has(dep) && !out.has(dep)) {
        out.add(dep);
        queue.push(dep);
      }
  }
  return out;
}
