#!/usr/bin/env node
import { basename } from "node:path";
import { InterruptedError } from "@lego/core";
import { runCli } from "./run.ts";

// The only file that touches process.exit. The seed's binaries (lego-db, lego-deploy, …) are links
// to this file; the name it was started under selects the command group (framework/aliases.ts).
const controller = new AbortController();
let interrupts = 0;
const onSignal = (): void => {
  interrupts++;
  // A second Ctrl-C means "now": do not wait for the command to wind down.
  if (interrupts > 1) process.exit(130);
  controller.abort(new InterruptedError("Interrupted"));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

const { exitCode } = await runCli(process.argv.slice(2), {
  binName: basename(process.argv[1] ?? "lego"),
  env: process.env,
  cwd: process.cwd(),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
process.exit(exitCode);
