import { describe, expect, it } from "vitest";
import { parseRetryAfter, translateCloudflareError } from "../src/errors.ts";
import { backoffDelay, resolveRetryPolicy, retryReason } from "../src/retry.ts";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-25T10:00:00.000Z");
  it("reads delta-seconds and HTTP-dates", () => {
    expect(parseRetryAfter("5", now)).toBe(5000);
    expect(parseRetryAfter(" 0.5 ", now)).toBe(500);
    expect(parseRetryAfter("Wed, 25 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 25 Nov 2026 09:00:00 GMT", now)).toBe(0);
  });
  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});

describe("backoff", () => {
  it("doubles the ceiling per retry, capped, and picks uniformly under it", () => {
    const top = resolveRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, top))).toEqual([99, 199, 399, 799, 999, 999]);
    const bottom = resolveRetryPolicy({ baseDelayMs: 100, random: () => 0 });
    expect(backoffDelay(3, bottom)).toBe(0);
  });
  it("`false` means a single attempt", () => {
    expect(resolveRetryPolicy(false).maxAttempts).toBe(1);
  });
});

describe("retryReason", () => {
  const api = (status: number, codes: number[] = []) => ({
    status,
    errors: codes.map((code) => ({ code })),
    headers: undefined,
  });
  it("always retries rate limits, 5xx and network only when idempotent", () => {
    expect(retryReason(api(429), false)).toBe("rate-limited");
    expect(retryReason(api(400, [971]), false)).toBe("rate-limited");
    expect(retryReason(api(503), false)).toBeUndefined();
    expect(retryReason(api(503), true)).toBe("server-error");
    expect(
      retryReason(
        { status: undefined, errors: [], headers: undefined, network: { message: "x", timedOut: false } },
        true,
      ),
    ).toBe("network");
    expect(retryReason(api(404), true)).toBeUndefined();
    expect(
      retryReason({ status: undefined, errors: [], headers: undefined, aborted: true }, true),
    ).toBeUndefined();
  });
});

describe("translateCloudflareError", () => {
  const request = { method: "get", path: "/accounts/a/workers/scripts" };
  it("maps an invalid-token code to ERR_CF_AUTH whatever the status", () => {
    const error = translateCloudflareError(
      { status: 400, errors: [{ code: 6003, message: "Invalid request headers" }], headers: {} },
      request,
    );
    expect(error).toMatchObject({
      code: "ERR_CF_AUTH",
      exitCode: 3,
      details: { method: "GET", status: 400, cfCodes: [6003] },
    });
  });
  it("passes LegoErrors through and wraps anything else as ERR_CF_API", () => {
    const inner = translateCloudflareError({ status: 404, errors: [], headers: {} }, request);
    expect(translateCloudflareError(inner, request)).toBe(inner);
    expect(translateCloudflareError(new Error("weird"), request)).toMatchObject({
      code: "ERR_CF_API",
      message: expect.stringContaining("weird"),
    });
  });
});
