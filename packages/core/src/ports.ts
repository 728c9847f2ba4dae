import { ExitCode, InterruptedError, LegoError } from "./errors.ts";

/** Structured log fields. Never put a secret here: loggers write to files and terminals. */
export type LogFields = Record<string, unknown>;

/** The logger port. Libraries log through the one they are given; only apps choose where it goes. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** A logger that drops everything. The default for libraries called without one. */
export function createNullLogger(): Logger {
  const noop = () => {};
  return { debug: noop, info: noop, warn: noop, error: noop };
}

export interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields?: LogFields | undefined;
}

/** A logger that keeps records in memory, for tests and for reports. */
export function createMemoryLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord["level"]) =>
    (message: string, fields?: LogFields): void => {
      records.push({ level, message, ...(fields ? { fields } : {}) });
    };
  return { records, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A choice offered by `Prompter.select`. */
export interface Choice<T extends string = string> {
  value: T;
  name?: string | undefined;
  description?: string | undefined;
}

/**
 * The prompter port: every question a library may ask. Apps pass an interactive one only when stdin
 * and stdout are TTYs; otherwise a non-interactive one that fails with the flag to use instead.
 */
export interface Prompter {
  readonly interactive: boolean;
  input(question: { message: string; default?: string; flag: string }): Promise<string>;
  password(question: { message: string; flag: string }): Promise<string>;
  confirm(question: { message: string; default?: boolean; flag: string }): Promise<boolean>;
  select<T extends string>(question: { message: string; choices: Choice<T>[]; flag: string }): Promise<T>;
}

/** A prompter that never asks: each question fails with exit 2 naming the flag that answers it. */
export function createNonInteractivePrompter(): Prompter {
  const refuse = (q: { message: string; flag: string }): never => {
    throw new LegoError({
      code: "ERR_PROMPT_UNAVAILABLE",
      message: `Cannot ask "${q.message}" without a terminal`,
      hint: `Pass ${q.flag}.`,
      exitCode: ExitCode.Usage,
    });
  };
  return {
    interactive: false,
    input: async (q) => refuse(q),
    password: async (q) => refuse(q),
    confirm: async (q) => refuse(q),
    select: async (q) => refuse(q),
  };
}

/**
 * A prompter answering from a script, for tests: answers are consumed in order, keyed by nothing
 * but their position. Running out of answers is an error.
 */
export function createScriptedPrompter(answers: Array<string | boolean>): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = (message: string): string | boolean => {
    asked.push(message);
    if (answers.length === 0) throw new Error(`Scripted prompter has no answer for "${message}"`);
    return answers.shift() as string | boolean;
  };
  return {
    interactive: true,
    asked,
    input: async (q) => String(next(q.message)),
    password: async (q) => String(next(q.message)),
    confirm: async (q) => Boolean(next(q.message)),
    select: async <T extends string>(q: { message: string; choices: Choice<T>[] }) => {
      const answer = String(next(q.message));
      const choice = q.choices.find((c) => c.value === answer);
      if (!choice) throw new Error(`Scripted answer "${answer}" is not a choice of "${q.message}"`);
      return choice.value;
    },
  };
}

/** The clock port: time and waiting, injectable so tests need not sleep. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with InterruptedError when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new InterruptedError());
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new InterruptedError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** A clock that only moves when slept on, for deterministic tests of backoff and timeouts. */
export function createManualClock(start = 0): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new InterruptedError();
      slept.push(ms);
      now += ms;
    },
  };
}
