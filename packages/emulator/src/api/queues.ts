import { nowIso, randomHex32 } from "../ids.ts";
import { WorkerStartupError } from "../runtime/runner.ts";
import type { CloudState, QueueConsumerRecord, QueueRecord } from "../state/types.ts";
import { requireAccount } from "./account.ts";
import { type ApiRequest, jsonBody, ok } from "./context.ts";
import { CfApiError, CfCode, paginate } from "./envelope.ts";
import type { Route } from "./router.ts";

function consumerObject(c: QueueConsumerRecord) {
  return {
    consumer_id: c.consumer_id,
    type: "worker",
    script: c.script_name,
    script_name: c.script_name,
    created_on: c.created_on,
    settings: c.settings,
    ...(c.dead_letter_queue ? { dead_letter_queue: c.dead_letter_queue } : {}),
  };
}

function queueObject(state: CloudState, q: QueueRecord) {
  const producers = Object.values(state.scripts)
    .filter((s) =>
      s.versions
        .at(-1)
        ?.bindings.some((b) => b.type === "queue" && (b.queue_name ?? b.name) === q.queue_name),
    )
    .map((s) => ({ type: "worker", script: s.name }));
  return {
    queue_id: q.queue_id,
    queue_name: q.queue_name,
    created_on: q.created_on,
    modified_on: q.modified_on,
    settings: q.settings,
    producers,
    producers_total_count: producers.length,
    consumers: q.consumers.map(consumerObject),
    consumers_total_count: q.consumers.length,
  };
}

function requireQueue(state: CloudState, id: string): QueueRecord {
  const q = (state.queues ?? []).find((x) => x.queue_id === id || x.queue_name === id);
  if (!q) throw new CfApiError(404, 11000, "Queue does not exist");
  return q;
}

/** Body of POST/PUT consumers: `{ type, script_name, dead_letter_queue, settings }`. */
function consumerFrom(body: Record<string, unknown>, previous?: QueueConsumerRecord): QueueConsumerRecord {
  const script = typeof body.script_name === "string" ? body.script_name : (previous?.script_name ?? "");
  if (!script) throw new CfApiError(400, CfCode.BadRequest, "A worker consumer needs `script_name`");
  if (body.type !== undefined && body.type !== "worker") {
    throw new CfApiError(
      400,
      CfCode.BadRequest,
      `Consumer type "${String(body.type)}" is not emulated (worker only)`,
    );
  }
  const s = (body.settings ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const settings: QueueConsumerRecord["settings"] = {};
  for (const k of [
    "batch_size",
    "max_retries",
    "max_wait_time_ms",
    "retry_delay",
    "max_concurrency",
  ] as const) {
    const v = num(s[k]);
    if (v !== undefined) settings[k] = v;
  }
  return {
    consumer_id: previous?.consumer_id ?? randomHex32(),
    script_name: script,
    created_on: previous?.created_on ?? nowIso(),
    settings,
    ...(typeof body.dead_letter_queue === "string" && body.dead_letter_queue
      ? { dead_letter_queue: body.dead_letter_queue }
      : {}),
  };
}

/** Runs the runtime after a consumer change: the consumer Worker takes (or drops) the queue. */
async function applyConsumers(req: ApiRequest, draft: CloudState): Promise<void> {
  try {
    await req.services.runtime.apply(draft);
  } catch (error) {
    if (error instanceof WorkerStartupError) {
      throw new CfApiError(
        400,
        CfCode.ScriptValidation,
        `The consumer Worker does not start: ${error.message}`,
      );
    }
    throw error;
  }
}

const Q = "/accounts/:account/queues";

/** Queues: create, list (filtered by `name`), get, update, delete; Worker consumers. */
export const queueRoutes: Route[] = [
  {
    method: "GET",
    pattern: Q,
    handler: (req) => {
      const state = requireAccount(req);
      const names = req.query.getAll("name");
      const all = (state.queues ?? [])
        .filter((q) => names.length === 0 || names.includes(q.queue_name))
        .map((q) => queueObject(state, q));
      const { items, info } = paginate(all, req.query, 100);
      return ok(items, info);
    },
  },
  {
    method: "POST",
    pattern: Q,
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ queue_name?: unknown; settings?: Record<string, unknown> }>(req);
      const name = typeof body.queue_name === "string" ? body.queue_name : "";
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(name)) {
        throw new CfApiError(400, 11003, "Invalid queue name: letters, digits and -, at most 63");
      }
      const q = await req.services.store.mutate((draft) => {
        draft.queues ??= [];
        if (draft.queues.some((x) => x.queue_name === name)) {
          throw new CfApiError(409, 11009, `A queue named ${name} already exists`);
        }
        const now = nowIso();
        const settings: QueueRecord["settings"] = {};
        if (typeof body.settings?.delivery_delay === "number")
          settings.delivery_delay = body.settings.delivery_delay;
        if (typeof body.settings?.message_retention_period === "number") {
          settings.message_retention_period = body.settings.message_retention_period;
        }
        const rec: QueueRecord = {
          queue_id: randomHex32(),
          queue_name: name,
          created_on: now,
          modified_on: now,
          settings,
          consumers: [],
        };
        draft.queues.push(rec);
        return rec;
      });
      return ok(queueObject(req.services.store.state, q));
    },
  },
  {
    method: "GET",
    pattern: `${Q}/:queue`,
    handler: (req) => {
      const state = requireAccount(req);
      return ok(queueObject(state, requireQueue(state, req.params.queue ?? "")));
    },
  },
  {
    method: "PATCH",
    pattern: `${Q}/:queue`,
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<{ settings?: Record<string, unknown> }>(req);
      const q = await req.services.store.mutate((draft) => {
        const rec = requireQueue(draft, req.params.queue ?? "");
        Object.assign(rec.settings, body.settings ?? {});
        rec.modified_on = nowIso();
        return rec;
      });
      return ok(queueObject(req.services.store.state, q));
    },
  },
  {
    method: "DELETE",
    pattern: `${Q}/:queue`,
    handler: async (req) => {
      requireAccount(req);
      await req.services.store.mutate(async (draft) => {
        const rec = requireQueue(draft, req.params.queue ?? "");
        draft.queues = (draft.queues ?? []).filter((q) => q !== rec);
        if (rec.consumers.length) await applyConsumers(req, draft);
      });
      return ok({});
    },
  },
  {
    method: "GET",
    pattern: `${Q}/:queue/consumers`,
    handler: (req) => {
      const state = requireAccount(req);
      return ok(requireQueue(state, req.params.queue ?? "").consumers.map(consumerObject));
    },
  },
  {
    method: "POST",
    pattern: `${Q}/:queue/consumers`,
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<Record<string, unknown>>(req);
      const c = await req.services.store.mutate(async (draft) => {
        const q = requireQueue(draft, req.params.queue ?? "");
        const consumer = consumerFrom(body);
        if (q.consumers.length > 0) {
          throw new CfApiError(
            409,
            11004,
            `Queue ${q.queue_name} already has a consumer (${q.consumers[0]?.script_name})`,
          );
        }
        q.consumers.push(consumer);
        q.modified_on = nowIso();
        await applyConsumers(req, draft);
        return consumer;
      });
      return ok(consumerObject(c));
    },
  },
  {
    method: "PUT",
    pattern: `${Q}/:queue/consumers/:consumer`,
    handler: async (req) => {
      requireAccount(req);
      const body = jsonBody<Record<string, unknown>>(req);
      const c = await req.services.store.mutate(async (draft) => {
        const q = requireQueue(draft, req.params.queue ?? "");
        const i = q.consumers.findIndex((x) => x.consumer_id === req.params.consumer);
        const previous = q.consumers[i];
        if (!previous) throw new CfApiError(404, 11005, "Consumer does not exist");
        const next = consumerFrom(body, previous);
        q.consumers[i] = next;
        await applyConsumers(req, draft);
        return next;
      });
      return ok(consumerObject(c));
    },
  },
  {
    method: "DELETE",
    pattern: `${Q}/:queue/consumers/:consumer`,
    handler: async (req) => {
      requireAccount(req);
      await req.services.store.mutate(async (draft) => {
        const q = requireQueue(draft, req.params.queue ?? "");
        if (!q.consumers.some((x) => x.consumer_id === req.params.consumer)) {
          throw new CfApiError(404, 11005, "Consumer does not exist");
        }
        q.consumers = q.consumers.filter((x) => x.consumer_id !== req.params.consumer);
        await applyConsumers(req, draft);
      });
      return ok({});
    },
  },
];
