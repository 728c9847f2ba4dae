import { describe, expect, it } from "vitest";
import {
  AuthError,
  ConflictError,
  ExitCode,
  InterruptedError,
  isLegoError,
  LegoError,
  OperationError,
  toLegoError,
  UsageError,
} from "../src/index.ts";

describe("LegoError", () => {
  it("maps each subclass to its documented exit code and kind", () => {
    const cases: Array<[LegoError, number, string]> = [
      [new UsageError({ code: "ERR_X", message: "m" }), ExitCode.Usage, "user"],
      [new AuthError({ code: "ERR_X", message: "m" }), ExitCode.Auth, "user"],
      [new ConflictError({ code: "ERR_X", message: "m" }), ExitCode.Conflict, "user"],
      [new OperationError({ code: "ERR_X", message: "m" }), ExitCode.Failure, "system"],
      [new InterruptedError(), ExitCode.Interrupted, "user"],
    ];
    for (const [error, exit, kind] of cases) {
      expect(error.exitCode).toBe(exit);
      expect(error.kind).toBe(kind);
      expect(isLegoError(error)).toBe(true);
    }
  });

  it("defaults: user errors exit 2, system errors exit 1", () => {
    expect(new LegoError({ code: "ERR_A", message: "a", kind: "user" }).exitCode).toBe(2);
    expect(new LegoError({ code: "ERR_B", message: "b" }).exitCode).toBe(1);
    expect(new LegoError({ code: "ERR_B", message: "b" }).kind).toBe("system");
  });

  it("serialises code, message and hint without a stack", () => {
    const cause = new Error("inner");
    const error = new UsageError({
      code: "ERR_CONFIG",
      message: "bad key",
      hint: "fix it",
      cause,
      details: { file: "a" },
    });
    const json = error.toJSON();
    expect(json).toEqual({
      code: "ERR_CONFIG",
      message: "bad key",
      hint: "fix it",
      kind: "user",
      exitCode: 2,
      details: { file: "a" },
    });
    expect(JSON.stringify(json)).not.toContain("stack");
    expect(error.cause).toBe(cause);
  });

  it("wraps foreign errors, keeping the cause; AbortError becomes an interruption", () => {
    const plain = toLegoError(new TypeError("boom"));
    expect(plain.code).toBe("ERR_INTERNAL");
    expect(plain.exitCode).toBe(1);
    expect(plain.cause).toBeInstanceOf(TypeError);
    const abort = new Error("aborted");
    abort.name = "AbortError";
    expect(toLegoError(abort).exitCode).toBe(130);
    const mine = new UsageError({ code: "ERR_Y", message: "y" });
    expect(toLegoError(mine)).toBe(mine);
  });
});
