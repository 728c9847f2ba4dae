import { InterruptedError } from "@lego/core";
import { runCli } from "./run.ts";

/**
 * The process edge, shared by the entry files (`src/bin.ts`, `src/bins/*.ts`) and the only code
 * that exits: wires SIGINT/SIGTERM to the command's AbortSignal (a second one exits at once with
 * 130), runs the CLI on the real process, and exits with its code.
 */
export async function main(binName: string): Promise<never> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    controller.abort(new InterruptedError("Interrupted"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // `lego … | head -1`: the reader left; stop quietly instead of crashing on EPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const { exitCode } = await runCli(process.argv.slice(2), {
    binName,
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  });
  // On a pipe, stdout is asynchronous: exiting now would cut a large --json document short
  // (at 64-128 KB). Wait until what was written has been handed to the OS.
  await Promise.all(
    [process.stdout, process.stderr].map(
      (stream) => new Promise<void>((resolve) => stream.write("", () => resolve())),
    ),
  );
  process.exit(exitCode);
}
