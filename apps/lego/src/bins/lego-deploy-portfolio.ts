#!/usr/bin/env node
import { enableCompileCache } from "node:module";

enableCompileCache?.(); // before the CLI is imported; see src/bin.ts
const { main } = await import("../entry.ts");

// Its own entry because pnpm's and Windows' bin shims run the target file by path, losing the name
// the user typed; see framework/aliases.ts for what lego-deploy-portfolio maps to.
await main("lego-deploy-portfolio");
