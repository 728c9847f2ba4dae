import { createManualClock, LegoError } from "@lego/core";
import { describe, expect, it } from "vitest";
import { isTransientFailure, retryTransient } from "../src/retry.ts";

const wranglerFailure = (stderrTail: string) =>
  new LegoError({
    code: "ERR_WRANGLER_FAILED",
    message: "wrangler d1 export exited with code 1",
    exitCode: 1,
    details: { stderrTail },
  });

describe("isTransientFailure", () => {
  it("retries rate limits, 5xx and dropped connections, never SQL or auth errors", () => {
    expect(
      isTransientFailure(wranglerFailure("A request to the Cloudflare API failed. Please wait [code: 971]")),
    ).toBe(true);
    expect(
      isTransientFailure(wranglerFailure("An unknown error has occurred (injected fault) [code: 10013]")),
    ).toBe(true);
    expect(isTransientFailure(wranglerFailure("TypeError: fetch failed\n  cause: other side closed"))).toBe(
      true,
    );
    expect(
      isTransientFailure(wranglerFailure("no such table: missing_table: SQLITE_ERROR [code: 7500]")),
    ).toBe(false);
    expect(isTransientFailure(wranglerFailure("Authentication error [code: 10000]"))).toBe(false);
    expect(
      isTransientFailure(
        new LegoError({ code: "ERR_CF_API", message: "x", exitCode: 1, details: { status: 503 } }),
      ),
    ).toBe(true);
    expect(
      isTransientFailure(
        new LegoError({ code: "ERR_CF_API", message: "x", exitCode: 1, details: { status: 400 } }),
      ),
    ).toBe(false);
    expect(isTransientFailure(new Error("fetch failed"))).toBe(false);
  });
});

describe("retryTransient", () => {
  it("runs again after a transient failure and gives up on a permanent one at once", async () => {
    const clock = createManualClock(0);
    const sleeping = { clock };
    let calls = 0;
    const value = await retryTransient(
      async () => {
        if (++calls < 3) throw wranglerFailure("503 Service Unavailable");
        return "ok";
      },
      { ...sleeping, label: "export" },
    );
    expect([value, calls]).toEqual(["ok", 3]);
    expect(clock.slept).toEqual([500, 1000]);
    calls = 0;
    await expect(
      retryTransient(
        async () => {
          calls++;
          throw wranglerFailure("SQLITE_CONSTRAINT [code: 7500]");
        },
        { ...sleeping, label: "apply" },
      ),
    ).rejects.toMatchObject({ code: "ERR_WRANGLER_FAILED" });
    expect(calls).toBe(1);
  });
});
