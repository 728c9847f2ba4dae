import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Clock,
  createManualClock,
  createMemoryLogger,
  InterruptedError,
  isLegoError,
  type LegoError,
  systemClock,
} from "@lego/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/client.ts";
import { defaultContractFixture } from "../src/testing/index.ts";
import { type FakeCloudflare, startFakeCloudflare } from "./support/fake-cloudflare.ts";

const fixture = defaultContractFixture();
const TOKEN = fixture.token;
const ACCOUNT = fixture.account.id;
let fake: FakeCloudflare;

beforeAll(async () => {
  fake = await startFakeCloudflare(fixture);
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

function client(
  overrides: Parameters<typeof createCloudflareClient>[0] extends infer O ? Partial<O> : never = {},
) {
  const clock = (overrides.clock as ReturnType<typeof createManualClock> | undefined) ?? createManualClock(0);
  const cf = createCloudflareClient({
    token: TOKEN,
    baseURL: fake.baseURL,
    accountId: ACCOUNT,
    clock,
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000, maxElapsedMs: 60_000, random: () => 0.5 },
    ...overrides,
  });
  return { cf, clock };
}

async function failureOf(promise: Promise<unknown>): Promise<LegoError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isLegoError(error)).toBe(true);
  return error as LegoError;
}

function expectNoToken(error: LegoError, token = TOKEN) {
  const shown = `${error.message}\n${error.hint ?? ""}\n${JSON.stringify(error.toJSON())}`;
  expect(shown).not.toContain(token);
}

describe("retries", () => {
  it("honours Retry-After in seconds on 429, then succeeds", async () => {
    fake.fault({ method: "GET", path: /^\/user$/, status: 429, times: 2, headers: { "retry-after": "3" } });
    const { cf, clock } = client();
    expect((await cf.getUser()).email).toBe(fixture.user.email);
    expect(fake.find("GET", /^\/user$/)).toHaveLength(3);
    expect(clock.slept).toEqual([3000, 3000]);
  });

  it("honours Retry-After as an HTTP-date", async () => {
    const start = Date.parse("2026-11-25T10:00:00.000Z");
    fake.fault({
      method: "GET",
      path: /^\/user$/,
      status: 429,
      headers: { "retry-after": "Wed, 25 Nov 2026 10:00:07 GMT" },
    });
    const { cf, clock } = client({ clock: createManualClock(start) });
    await cf.getUser();
    expect(clock.slept).toEqual([7000]);
  });

  it("backs off exponentially with full jitter on 5xx for reads", async () => {
    fake.fault({ method: "GET", path: /\/workers\/scripts$/, status: 503, times: 3 });
    const { cf, clock } = client();
    await cf.listWorkerScripts();
    expect(fake.find("GET", /\/workers\/scripts$/)).toHaveLength(4);
    // random() = 0.5 of ceilings 100, 200, 400
    expect(clock.slept).toEqual([50, 100, 200]);
  });

  it("retries Cloudflare code 971 whatever the status", async () => {
    fake.fault({
      method: "GET",
      path: /^\/user$/,
      status: 400,
      errors: [{ code: 971, message: "Please wait and consider throttling your request speed" }],
    });
    const { cf, clock } = client();
    await cf.getUser();
    expect(fake.find("GET", /^\/user$/)).toHaveLength(2);
    expect(clock.slept).toEqual([50]);
  });

  it("retries code 971 in a 200 whose envelope says success: false", async () => {
    fake.fault({
      method: "GET",
      path: /\/workers\/services\//,
      status: 200,
      successFalse: true,
      errors: [{ code: 971, message: "Please wait and consider throttling your request speed" }],
    });
    const { cf, clock } = client();
    const service = await cf.getWorkerService("api-staging");
    expect(service?.id).toBe("api-staging");
    expect(fake.find("GET", /\/workers\/services\//)).toHaveLength(2);
    expect(clock.slept).toEqual([50]);
  });

  it("does not repeat a non-idempotent POST after a 5xx, unless told it is idempotent", async () => {
    const db = fixture.d1[0]?.uuid as string;
    fake.fault({ method: "POST", path: /\/query$/, status: 503 });
    const { cf, clock } = client();
    // A write (a SELECT is repeatable and would be retried: see d1-retries.test.ts).
    const error = await failureOf(cf.queryD1(db, "UPDATE t SET v = 1"));
    expect(error).toMatchObject({
      code: "ERR_CF_API",
      exitCode: 1,
      details: { status: 503, method: "POST", attempts: 1 },
    });
    expect(fake.find("POST", /\/query$/)).toHaveLength(1);
    expect(clock.slept).toEqual([]);

    fake.fault({ method: "POST", path: /\/query$/, status: 503 });
    const [result] = await cf.queryD1(db, "SELECT 1 AS one", undefined, { idempotent: true });
    expect(result?.results).toEqual([{ one: 1 }]);
  });

  it("retries a POST on 429: the request was refused before it took effect", async () => {
    const db = fixture.d1[0]?.uuid as string;
    fake.fault({ method: "POST", path: /\/query$/, status: 429, headers: { "retry-after": "1" } });
    const { cf, clock } = client();
    await cf.queryD1(db, "SELECT 1");
    expect(clock.slept).toEqual([1000]);
  });

  it("gives up after maxAttempts with ERR_CF_RATE_LIMITED and the attempts made", async () => {
    fake.fault({ method: "GET", path: /^\/user$/, status: 429, times: 10, headers: { "retry-after": "2" } });
    const { cf, clock } = client({ retry: { maxAttempts: 3, random: () => 0.5 } });
    const error = await failureOf(cf.getUser());
    expect(error).toMatchObject({
      code: "ERR_CF_RATE_LIMITED",
      exitCode: 1,
      details: { status: 429, attempts: 3, retryAfterMs: 2000, method: "GET", path: "/user" },
    });
    expect(fake.find("GET", /^\/user$/)).toHaveLength(3);
    expect(clock.slept).toEqual([2000, 2000]);
  });

  it("fails at once when Retry-After exceeds the policy", async () => {
    fake.fault({ method: "GET", path: /^\/user$/, status: 429, headers: { "retry-after": "3600" } });
    const { cf, clock } = client();
    const error = await failureOf(cf.getUser());
    expect(error).toMatchObject({
      code: "ERR_CF_RATE_LIMITED",
      details: { retryAfterMs: 3_600_000, attempts: 1 },
    });
    expect(error.hint).toContain("3600 s");
    expect(clock.slept).toEqual([]);
  });

  it("stops when the next wait would exceed the total time budget", async () => {
    fake.fault({ method: "GET", path: /^\/user$/, status: 502, times: 10 });
    const { cf, clock } = client({
      retry: { maxAttempts: 10, baseDelayMs: 1000, maxElapsedMs: 2500, random: () => 1 },
    });
    const error = await failureOf(cf.getUser());
    expect(error).toMatchObject({ code: "ERR_CF_API", details: { status: 502, attempts: 2 } });
    expect(clock.slept).toEqual([1000]);
  });

  it("retries a dropped connection on a read", async () => {
    fake.fault({ method: "GET", path: /^\/user$/, status: 0, drop: true });
    const { cf, clock } = client();
    await cf.getUser();
    expect(fake.find("GET", /^\/user$/)).toHaveLength(2);
    expect(clock.slept).toHaveLength(1);
  });

  it("is cancelled by the signal during a backoff wait", async () => {
    const controller = new AbortController();
    const abortingClock: Clock = {
      now: () => 0,
      sleep: (ms, signal) => {
        controller.abort();
        return systemClock.sleep(ms, signal);
      },
    };
    fake.fault({ method: "GET", path: /^\/user$/, status: 503 });
    const { cf } = client({ clock: abortingClock, signal: controller.signal });
    const error = await failureOf(cf.getUser());
    expect(error).toBeInstanceOf(InterruptedError);
    expect(error).toMatchObject({ code: "ERR_INTERRUPTED", exitCode: 130 });
    expect(fake.find("GET", /^\/user$/)).toHaveLength(1);
  });

  it("is cancelled by a per-call signal while a request hangs", async () => {
    fake.fault({ method: "GET", path: /^\/user$/, status: 0, hang: true });
    const { cf } = client();
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    const error = await failureOf(cf.getUser({ signal: controller.signal }));
    expect(error).toMatchObject({ code: "ERR_INTERRUPTED", exitCode: 130 });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("error translation", () => {
  it("turns 401 into ERR_CF_AUTH (exit 3) without the token anywhere", async () => {
    const wrong = "wrong-token-0123456789-secret";
    const { cf } = client({ token: wrong });
    const error = await failureOf(cf.listWorkerScripts());
    expect(error).toMatchObject({
      code: "ERR_CF_AUTH",
      exitCode: 3,
      kind: "user",
      details: { status: 401, cfCodes: [10000] },
    });
    expect(error.hint).toMatch(/token was rejected/);
    expectNoToken(error, wrong);
  });

  it("names the missing permission on 403", async () => {
    fake.fault({
      method: "GET",
      path: /\/d1\/database$/,
      status: 403,
      errors: [{ code: 10000, message: "Authentication error" }],
    });
    const { cf } = client();
    const error = await failureOf(cf.listD1Databases());
    expect(error).toMatchObject({
      code: "ERR_CF_AUTH",
      exitCode: 3,
      details: { status: 403, permission: "D1: Read" },
    });
    expect(error.hint).toContain('"D1: Read"');
  });

  it("redacts the token when an API echoes it in an error", async () => {
    fake.fault({
      method: "GET",
      path: /^\/user$/,
      status: 400,
      errors: [{ code: 1001, message: `bad header Bearer ${TOKEN}` }],
    });
    const { cf } = client();
    const error = await failureOf(cf.getUser());
    expect(error.code).toBe("ERR_CF_API");
    expect(error.message).toContain("Bearer ***");
    expectNoToken(error);
  });

  it("turns 404 into ERR_CF_NOT_FOUND with the Cloudflare codes, and a missing Worker into undefined", async () => {
    const { cf } = client();
    expect(await cf.getWorkerService("nope")).toBeUndefined();
    const error = await failureOf(cf.listDeployments("nope"));
    expect(error).toMatchObject({
      code: "ERR_CF_NOT_FOUND",
      exitCode: 1,
      details: {
        status: 404,
        cfCodes: [10007],
        method: "GET",
        path: `/accounts/${ACCOUNT}/workers/scripts/nope/deployments`,
      },
    });
  });

  it("does not mistake a wrong account (404 7003) for a missing Worker", async () => {
    const { cf } = client({ accountId: "f".repeat(32) });
    const error = await failureOf(cf.getWorkerService("api-staging"));
    expect(error).toMatchObject({ code: "ERR_CF_NOT_FOUND", details: { cfCodes: [7003] } });
  });

  it("keeps status, codes, method and path of other failures after the retries", async () => {
    fake.fault({
      method: "GET",
      path: /\/workers\/domains$/,
      status: 500,
      times: 4,
      errors: [{ code: 10013, message: "boom" }],
    });
    const { cf } = client();
    const error = await failureOf(cf.listWorkerDomains());
    expect(error).toMatchObject({
      code: "ERR_CF_API",
      kind: "system",
      details: {
        status: 500,
        cfCodes: [10013],
        method: "GET",
        path: `/accounts/${ACCOUNT}/workers/domains`,
        attempts: 4,
      },
    });
    expect(error.message).toContain("[10013] boom");
  });

  it("treats 200 with success:false as a failure", async () => {
    fake.fault({
      method: "GET",
      path: /\/workers\/services\//,
      status: 200,
      successFalse: true,
      errors: [{ code: 10015, message: "nope" }],
    });
    const { cf } = client();
    const error = await failureOf(cf.getWorkerService("api-staging"));
    expect(error).toMatchObject({ code: "ERR_CF_API", details: { status: 200, cfCodes: [10015] } });
  });

  it("reports an unreachable API as ERR_CF_UNREACHABLE after retrying", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { cf, clock } = client({
      baseURL: `http://127.0.0.1:${port}/client/v4`,
      retry: { maxAttempts: 3, random: () => 0 },
    });
    const error = await failureOf(cf.getUser());
    expect(error).toMatchObject({
      code: "ERR_CF_UNREACHABLE",
      exitCode: 1,
      details: { attempts: 3, timedOut: false },
    });
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(clock.slept).toHaveLength(2);
    expectNoToken(error);
  });

  it("refuses to build a client without a token", () => {
    expect(() => createCloudflareClient({ token: "" })).toThrow(
      expect.objectContaining({ code: "ERR_CF_TOKEN_MISSING", exitCode: 3 }),
    );
  });

  it("never logs the token", async () => {
    const logger = createMemoryLogger();
    fake.fault({ method: "GET", path: /^\/user$/, status: 503 });
    const { cf } = client({ logger });
    await cf.getUser();
    expect(logger.records.length).toBeGreaterThan(0);
    expect(JSON.stringify(logger.records)).not.toContain(TOKEN);
  });
});

describe("D1 Time Travel", () => {
  it("reads the bookmark (passing a timestamp on), retries a 5xx, names D1: Read on a 403", async () => {
    const db = fixture.d1[0]?.uuid as string;
    const path = /\/d1\/database\/[^/]+\/time_travel\/bookmark$/;
    fake.fault({ method: "GET", path, status: 503 });
    const { cf, clock } = client();
    const bookmark = await cf.getD1Bookmark(db);
    expect(bookmark).toMatch(/^[0-9a-f]{8}-/);
    expect(clock.slept).toEqual([50]);
    await cf.getD1Bookmark(db, { timestamp: "2026-11-25T10:00:00.000Z" });
    expect(fake.find("GET", path).map((r) => r.query)).toEqual([
      {},
      {},
      { timestamp: "2026-11-25T10:00:00.000Z" },
    ]);

    fake.fault({
      method: "GET",
      path,
      status: 403,
      errors: [{ code: 10000, message: "Authentication error" }],
    });
    const error = await failureOf(cf.getD1Bookmark(db));
    expect(error).toMatchObject({ code: "ERR_CF_AUTH", details: { status: 403, permission: "D1: Read" } });
  });

  it("answers undefined at once from a server without Time Travel (501)", async () => {
    const path = /\/time_travel\/bookmark$/;
    fake.fault({
      method: "GET",
      path,
      status: 501,
      errors: [{ code: 10000501, message: "not implemented" }],
    });
    const { cf, clock } = client();
    expect(await cf.getD1Bookmark(fixture.d1[0]?.uuid as string)).toBeUndefined();
    expect(fake.find("GET", path)).toHaveLength(1);
    expect(clock.slept).toEqual([]);
  });

  it("answers undefined when the result carries no bookmark", async () => {
    fake.route("GET", /\/time_travel\/bookmark$/, () => ({
      body: { success: true, errors: [], messages: [], result: {} },
    }));
    const { cf } = client();
    expect(await cf.getD1Bookmark(fixture.d1[0]?.uuid as string)).toBeUndefined();
  });
});

describe("pagination", () => {
  it("walks every zone in ceil(n / 50) requests", async () => {
    const { cf } = client();
    const zones = await cf.listZones();
    expect(zones).toHaveLength(fixture.zones.length);
    expect(fake.find("GET", /^\/zones$/).map((r) => r.query.page)).toEqual(["1", "2", "3"]);
  });

  it("scopes zones to an account with account.id", async () => {
    const { cf } = client();
    expect(await cf.listZones({ accountId: ACCOUNT })).toHaveLength(fixture.zones.length);
    expect(fake.find("GET", /^\/zones$/)[0]?.query["account.id"]).toBe(ACCOUNT);
    expect(await cf.listZones({ accountId: "f".repeat(32) })).toEqual([]);
  });

  it("terminates on an API that ignores ?page= (the SDK alone would loop forever)", async () => {
    const items = [{ id: "a".repeat(32), name: "loop.example" }];
    fake.route("GET", /^\/zones$/, () => ({
      body: { success: true, errors: [], messages: [], result: items },
    }));
    const { cf } = client();
    expect(await cf.listZones()).toEqual(items);
    expect(fake.find("GET", /^\/zones$/)).toHaveLength(2);
  });

  it("stops on total_count even when the API keeps answering full pages", async () => {
    let served = 0;
    const override = /^\/accounts\/[^/]+\/things$/;
    fake.route("GET", override, (req) => {
      served++;
      const page = Number(req.query.page);
      return {
        body: {
          success: true,
          errors: [],
          result: [{ id: `p${page}-1` }, { id: `p${page}-2` }],
          result_info: { per_page: 2, total_count: 5 },
        },
      };
    });
    const { cf } = client();
    const all = await cf.listAll<{ id: string }>(`/accounts/${ACCOUNT}/things`, { perPage: 2 });
    expect(all.map((x) => x.id)).toEqual(["p1-1", "p1-2", "p2-1", "p2-2", "p3-1", "p3-2"]);
    expect(served).toBe(3);
  });

  it("follows cursors and stops on a repeated one", async () => {
    fake.route("GET", /^\/accounts\/[^/]+\/cursored$/, (req) => {
      const cursor = req.query.cursor ?? "";
      const next = cursor === "" ? "c1" : cursor === "c1" ? "c2" : "c1";
      return {
        body: {
          success: true,
          errors: [],
          result: [{ id: `after-${cursor || "start"}` }],
          result_info: { cursor: next },
        },
      };
    });
    const { cf } = client();
    const all = await cf.listAll<{ id: string }>(`/accounts/${ACCOUNT}/cursored`);
    expect(all.map((x) => x.id)).toEqual(["after-start", "after-c1", "after-c2"]);
  });

  it("throws ERR_CF_PAGINATION_LIMIT at the hard cap rather than returning a partial list", async () => {
    fake.route("GET", /^\/accounts\/[^/]+\/endless$/, (req) => ({
      body: { success: true, errors: [], result: [{ id: `page-${req.query.page}` }] },
    }));
    const { cf } = client();
    const error = await failureOf(cf.listAll(`/accounts/${ACCOUNT}/endless`, { maxPages: 5 }));
    expect(error).toMatchObject({ code: "ERR_CF_PAGINATION_LIMIT", details: { maxPages: 5 } });
    expect(fake.find("GET", /endless$/)).toHaveLength(5);
    const partial = await cf.listAll(`/accounts/${ACCOUNT}/endless`, { maxPages: 3, onLimit: "truncate" });
    expect(partial).toHaveLength(3);
  });

  it("reads deployments from result.deployments, where the SDK's iterator finds nothing", async () => {
    const { cf } = client();
    const script = fixture.scripts[0];
    const deployments = await cf.listDeployments(script?.name as string);
    expect(deployments.map((d) => d.id)).toEqual(script?.deployments.map((d) => d.id));
    const viaSdk: unknown[] = [];
    const { default: Cloudflare } = await import("cloudflare");
    const fullSdk = new Cloudflare({ apiToken: TOKEN, baseURL: cf.baseURL, maxRetries: 0 });
    for await (const d of fullSdk.workers.scripts.deployments.list(script?.name as string, {
      account_id: ACCOUNT,
    }))
      viaSdk.push(d);
    expect(viaSdk).toEqual([]);
  });
});

describe("account resolution", () => {
  it("uses the only account the token sees, once", async () => {
    const { cf } = client({ accountId: undefined });
    await cf.listWorkerScripts();
    await cf.listSecrets("api-staging");
    expect(fake.find("GET", /^\/accounts$/)).toHaveLength(1);
    expect(await cf.accountId()).toBe(ACCOUNT);
  });

  it("asks for an account id when the token sees several", async () => {
    fake.route("GET", /^\/accounts$/, () => ({
      body: {
        success: true,
        errors: [],
        result: [
          { id: ACCOUNT, name: "One" },
          { id: "b".repeat(32), name: "Two" },
        ],
        result_info: { page: 1, per_page: 50, total_pages: 1 },
      },
    }));
    const { cf } = client({ accountId: undefined });
    const error = await failureOf(cf.listWorkerScripts());
    expect(error).toMatchObject({ code: "ERR_CF_ACCOUNT_REQUIRED", exitCode: 2 });
    expect(error.hint).toContain("CLOUDFLARE_ACCOUNT_ID");
  });
});
