// Queues through the pinned wrangler: `queues create | list`, a producer binding, and a consumer that
// wrangler deploy registers, invoked with batches; a failing message is retried, then dead-lettered.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud } from "../src/index.ts";
import { api, request, runWrangler, type WranglerRun, wranglerEnv, writeProject } from "./helpers.ts";

const RESULTS = "0000000000000000000000000000a11e";
let cloud: LocalCloud;
let home: string;
let env: Record<string, string>;
const dirs: string[] = [];

async function wrangler(dir: string, args: string[]): Promise<WranglerRun> {
  const run = await runWrangler(dir, args, env);
  if (run.exitCode !== 0)
    throw new Error(`wrangler ${args.join(" ")} exited ${run.exitCode}\n${run.stdout}\n${run.stderr}`);
  return run;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "lego-emu-queues-"));
  cloud = await startLocalCloud({ stateDir: join(home, "state"), zones: ["example.com"] });
  env = wranglerEnv(cloud, join(home, "xdg"));
});

afterAll(async () => {
  await cloud?.close();
  await rm(home, { recursive: true, force: true });
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("Queues", () => {
  it("create | list, producer and consumer with batching, retries and a dead letter queue", async () => {
    const consumer = await writeProject("fulfil", {
      "wrangler.jsonc": JSON.stringify({
        name: "fulfil",
        main: "index.js",
        compatibility_date: "2025-09-01",
        kv_namespaces: [{ binding: "RESULTS", id: RESULTS }],
        queues: {
          consumers: [
            {
              queue: "orders-q",
              max_batch_size: 3,
              max_batch_timeout: 1,
              max_retries: 1,
              dead_letter_queue: "orders-dlq",
            },
            { queue: "orders-dlq", max_batch_timeout: 1 },
          ],
        },
      }),
      "index.js": `export default {
  async queue(batch, env) {
    if (batch.queue === "orders-dlq") {
      for (const m of batch.messages) { await env.RESULTS.put("dlq:" + m.body.id, "1"); m.ack(); }
      return;
    }
    await env.RESULTS.put("batch:" + crypto.randomUUID(), String(batch.messages.length));
    for (const m of batch.messages) {
      if (m.body.fail) { await env.RESULTS.put("attempt:" + m.body.id + ":" + m.attempts, "1"); m.retry(); }
      else { await env.RESULTS.put("done:" + m.body.id, "1"); m.ack(); }
    }
  },
};`,
    });
    const producer = await writeProject("orders", {
      "wrangler.jsonc": JSON.stringify({
        name: "orders",
        main: "index.js",
        compatibility_date: "2025-09-01",
        routes: [{ pattern: "orders.example.com", custom_domain: true }],
        kv_namespaces: [{ binding: "RESULTS", id: RESULTS }],
        queues: { producers: [{ binding: "ORDERS", queue: "orders-q" }] },
      }),
      "index.js": `export default {
  async fetch(request, env) {
    if (request.method === "POST") {
      await env.ORDERS.sendBatch([1, 2, 3, 4, 5].map((id) => ({ body: { id } })));
      await env.ORDERS.send({ id: 6, fail: true });
      return new Response("queued");
    }
    const { keys } = await env.RESULTS.list();
    const values = {};
    for (const k of keys) values[k.name] = await env.RESULTS.get(k.name);
    return Response.json(values);
  },
};`,
    });
    dirs.push(consumer, producer);

    await wrangler(consumer, ["queues", "create", "orders-q"]);
    await wrangler(consumer, ["queues", "create", "orders-dlq"]);
    const list = await wrangler(consumer, ["queues", "list"]);
    expect(list.stdout).toContain("orders-q");
    expect(list.stdout).toContain("orders-dlq");

    await wrangler(consumer, ["deploy"]);
    await wrangler(producer, ["deploy"]);
    const queues = await api<
      Array<{ queue_name: string; consumers: Array<{ script: string; settings: unknown }> }>
    >(cloud, "GET", `/accounts/${cloud.accountId}/queues?name=orders-q`);
    expect(queues.json.result).toMatchObject([
      {
        queue_name: "orders-q",
        consumers: [
          { script: "fulfil", settings: { batch_size: 3, max_retries: 1, max_wait_time_ms: 1000 } },
        ],
      },
    ]);

    expect((await request(cloud.port, "orders.example.com", "/", { method: "POST" })).body).toBe("queued");
    let seen: Record<string, string> = {};
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      seen = JSON.parse((await request(cloud.port, "orders.example.com", "/")).body);
      if (seen["dlq:6"]) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const id of [1, 2, 3, 4, 5]) expect(seen[`done:${id}`]).toBe("1");
    // max_retries 1: delivered twice, then sent to the dead letter queue.
    expect(seen["attempt:6:1"]).toBe("1");
    expect(seen["attempt:6:2"]).toBe("1");
    expect(seen["attempt:6:3"]).toBeUndefined();
    expect(seen["dlq:6"]).toBe("1");
    const sizes = Object.entries(seen)
      .filter(([k]) => k.startsWith("batch:"))
      .map(([, v]) => Number(v));
    expect(Math.max(...sizes)).toBe(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(7);
  }, 120_000);
});
