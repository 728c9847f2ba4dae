#!/usr/bin/env node
import { basename } from "node:path";
import { main } from "./entry.ts";

// `lego`. Started through a symlink named after a seed binary (npm's bin links, `ln -s`), the link's
// name selects the alias (framework/aliases.ts): `lego-db migrate x` is `lego db migrate x`.
await main(basename(process.argv[1] ?? "lego"));
