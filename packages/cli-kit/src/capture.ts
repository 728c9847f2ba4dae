import { PassThrough } from "node:stream";

/** Streams that keep what a command writes, for running a CLI in-process (tests, embedding). */
export interface CapturedOutput {
  stdout: PassThrough & { isTTY: boolean };
  stderr: PassThrough & { isTTY: boolean };
  /** What was written so far to each. */
  text(): { out: string; err: string };
}

/**
 * Makes a stdout and a stderr that record what is written to them; `tty` makes them look like terminals.
 *
 * @example
 * const io = captureOutput();
 * const { exitCode } = await runCommand(command, ["--json"], { env: {}, stdin: { isTTY: false }, stdout: io.stdout, stderr: io.stderr });
 * JSON.parse(io.text().out);
 */
export function captureOutput(tty = false): CapturedOutput {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty });
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  let out = "";
  let err = "";
  stdout.on("data", (c) => {
    out += c;
  });
  stderr.on("data", (c) => {
    err += c;
  });
  return { stdout, stderr, text: () => ({ out, err }) };
}
