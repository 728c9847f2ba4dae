#!/usr/bin/env node
import { main } from "../entry.ts";

// Its own entry because pnpm's and Windows' bin shims run the target file by path, losing the name
// the user typed; see framework/aliases.ts for what lego-master-deploy maps to.
await main("lego-master-deploy");
