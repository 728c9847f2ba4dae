import type { CliOutcome, RunCliOptions } from "../src/framework/cli.ts";
import { runCli } from "../src/run.ts";

/** A fake text stream that records what was written. */
export interface Capture {
  text: string;
  isTTY: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

/** A recording stream; `isTTY` only matters when runCli's `isTTY` option is not given. */
export function capture(isTTY = false): Capture {
  return {
    text: "",
    isTTY,
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

/** The outcome plus what went to stdout and stderr. */
export interface Ran extends CliOutcome {
  stdout: string;
  stderr: string;
}

/** Runs lego in-process with recorded streams, no terminal and an env of exactly `env`. */
export async function run(
  argv: string[],
  options: Partial<RunCliOptions> & { env?: Record<string, string | undefined> } = {},
): Promise<Ran> {
  const stdout = capture();
  const stderr = capture();
  const outcome = await runCli(argv, {
    env: {},
    cwd: process.cwd(),
    isTTY: false,
    ...options,
    stdout,
    stderr,
  });
  return { ...outcome, stdout: stdout.text, stderr: stderr.text };
}

/** Parses stdout as exactly one JSON document (fails the test otherwise). */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary result fields.
export function oneJson(stdout: string): { ok: boolean; data?: any; error?: any } {
  const lines = stdout.trim().split("\n");
  if (lines.length !== 1)
    throw new Error(`expected one JSON line on stdout, got ${lines.length}:\n${stdout}`);
  return JSON.parse(lines[0] as string);
}
