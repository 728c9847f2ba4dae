import { type EnvName, envRegistry, secretEnvNames } from "@lego/core";
import { defineCommand } from "../framework/define.ts";

/** One row of `lego env`. A secret's value is never included, only whether it is set. */
export interface EnvRow {
  name: EnvName;
  doc: string;
  secret: boolean;
  set: boolean;
  /** The parsed value, for variables that are not secret. */
  value?: string;
}

/** `lego env`: every environment variable lego reads, what it does, and whether it is set. */
export const envCommand = defineCommand({
  meta: {
    name: "env",
    description: "List the environment variables lego reads, with docs",
    examples: ["lego env", "lego env --set", "lego env --json"],
  },
  args: {
    set: { type: "boolean", description: "Only the variables that are set" },
  },
  async run(ctx, args) {
    const rows: EnvRow[] = [];
    for (const name of Object.keys(envRegistry) as EnvName[]) {
      const secret = secretEnvNames.includes(name);
      const value = ctx.env[name];
      const set = value !== undefined;
      if (args.set && !set) continue;
      rows.push({
        name,
        doc: envRegistry[name].doc,
        secret,
        set,
        ...(set && !secret ? { value: String(value) } : {}),
      });
    }
    return { variables: rows };
  },
  human(result, ui) {
    const width = Math.max(...result.variables.map((r) => r.name.length));
    for (const row of result.variables) {
      const state = row.secret
        ? row.set
          ? ui.style("green", "set (secret)")
          : ui.style("dim", "unset")
        : row.set
          ? ui.style("green", `= ${row.value}`)
          : ui.style("dim", "unset");
      ui.print(`${ui.style("bold", row.name.padEnd(width))}  ${state}`);
      ui.print(`${" ".repeat(width)}  ${ui.style("dim", row.doc)}`);
    }
  },
});
