#!/usr/bin/env node
import { enableCompileCache } from "node:module";
import { basename } from "node:path";

// Node's on-disk compile cache (in the OS temp folder) cuts lego's start-up by reusing compiled code.
// Enabled before the CLI is imported: static imports are compiled before anything runs.
enableCompileCache?.();
const { main } = await import("./entry.ts");

// `lego`. Started through a symlink named after a seed binary (npm's bin links, `ln -s`), the link's
// name selects the alias (framework/aliases.ts): `lego-db migrate x` is `lego db migrate x`.
await main(basename(process.argv[1] ?? "lego"));
