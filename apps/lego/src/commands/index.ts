// THE list of commands: `lego --help` shows them in this order. One file per command group in this
// folder; add yours here (see apps/lego/CONTRIBUTING.md).
import type { CommandNode } from "../framework/define.ts";
import { envCommand } from "./env.ts";
import { localGroup } from "./local.ts";
import { versionCommand } from "./version.ts";

/** Every top-level command and group of `lego`. */
export const commands: readonly CommandNode[] = [localGroup, envCommand, versionCommand];
