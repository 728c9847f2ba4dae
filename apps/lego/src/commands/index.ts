// THE list of commands: `lego --help` shows them in this order. One file per command group in this
// folder; add yours here (see apps/lego/CONTRIBUTING.md).
import type { CommandNode } from "../framework/define.ts";
import { analyticsCommand } from "./analytics.ts";
import { auditCommand } from "./audit.ts";
import { createCommand } from "./create.ts";
import { dbGroup } from "./db.ts";
import { deployCommand } from "./deploy.ts";
import { discoverCommand } from "./discover.ts";
import { envCommand } from "./env.ts";
import { initCommand } from "./init.ts";
import { listCommand } from "./list.ts";
import { localGroup } from "./local.ts";
import { monitorCommand } from "./monitor.ts";
import { rollbackCommand } from "./rollback.ts";
import { runsGroup } from "./runs.ts";
import { secretsGroup } from "./secrets.ts";
import { testCommand } from "./test.ts";
import { tokenGroup } from "./token.ts";
import { validateCommand } from "./validate.ts";
import { versionCommand } from "./version.ts";

/** Every top-level command and group of `lego`. */
export const commands: readonly CommandNode[] = [
  createCommand,
  initCommand,
  listCommand,
  discoverCommand,
  validateCommand,
  deployCommand,
  testCommand,
  rollbackCommand,
  auditCommand,
  monitorCommand,
  analyticsCommand,
  runsGroup,
  dbGroup,
  secretsGroup,
  tokenGroup,
  localGroup,
  envCommand,
  versionCommand,
];
