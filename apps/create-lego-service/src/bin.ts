#!/usr/bin/env node
import { runCreateLegoServiceCli } from "./cli.ts";

// Only this file exits: everything else returns an exit code or throws.
const code = await runCreateLegoServiceCli({
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exit(code);
