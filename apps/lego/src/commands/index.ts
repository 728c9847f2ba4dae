// THE list of commands: `lego --help` shows them in this order. One file per command group in this
// folder; add yours here (see apps/lego/CONTRIBUTING.md).
import type { CommandNode } from "../framework/define.ts";
import { auditCommand, runsGroup } from "./audit.ts";
import { dbGroup } from "./db.ts";
import { deployCommand } from "./deploy.ts";
import { envCommand } from "./env.ts";
import { localGroup } from "./local.ts";
import { rollbackCommand } from "./rollback.ts";
import { secretsGroup } from "./secrets.ts";
import { testCommand } from "./test.ts";
import { tokenGroup } from "./token.ts";
import { versionCommand } from "./version.ts";

/** Every top-level command and group of `lego`. */
export const commands: readonly CommandNode[] = [
  deployCommand,
  testCommand,
  rollbackCommand,
  auditCommand,
  runsGroup,
  dbGroup,
  secretsGroup,
  tokenGroup,
  localGroup,
  envCommand,
  versionCommand,
];
