// `lego init` (the seed's `lego-init`): fills in what an existing Worker folder is missing.
import type { InitResult } from "create-lego-service";
import { defineCommand } from "../framework/define.ts";

/** `lego init [dir]`: the domain config from the wrangler config (or the reverse), and the variables it needs. */
export const initCommand = defineCommand({
  meta: {
    name: "init",
    description:
      "Add what a Worker folder is missing (domain config or wrangler config) and list its variables",
    examples: [
      "lego init services/legacy",
      "lego init --domain api.example.com",
      "lego init --force --from wrangler",
      "lego init services/new --type data-service",
    ],
  },
  args: {
    dir: { type: "positional", required: false, default: ".", description: "The service folder" },
    force: { type: "boolean", description: "Overwrite the config named by --from's counterpart" },
    from: {
      type: "enum",
      options: ["wrangler", "domains"],
      description:
        "With --force: regenerate the domain config from wrangler's (wrangler) or the reverse (domains)",
    },
    domain: {
      type: "string",
      description: "Production hostname, when the wrangler config has no routes",
      valueHint: "host",
    },
    name: {
      type: "string",
      description: "Which entry of a domain config with several",
      valueHint: "service",
    },
    type: {
      type: "enum",
      options: ["api-gateway", "data-service", "auth-service", "static-site"],
      description: "In an empty folder: create a new service of this type",
    },
    env: { type: "string", description: "With --type: deployed environments (default staging,production)" },
  },
  async run(ctx, args): Promise<InitResult> {
    const { initService } = await import("create-lego-service");
    return initService({
      dir: args.dir,
      cwd: ctx.cwd,
      force: args.force,
      from: args.from,
      domain: args.domain,
      name: args.name,
      type: args.type,
      environments: args.env?.split(/[,\s]+/).filter(Boolean),
      // Only whether variables are set is reported, never a value.
      env: ctx.env as Record<string, string | undefined>,
    });
  },
  human(result, ui) {
    const verb = { scaffold: "Created", generate: "Generated", regenerate: "Regenerated", check: "Checked" }[
      result.action
    ];
    if (result.written.length > 0) {
      ui.print(`${ui.style("green", "✔")} ${verb} in ${result.dir}: ${result.written.join(", ")}`);
    } else {
      ui.print(`${ui.style("green", "✔")} ${result.read.join(" and ")} agree; nothing to write`);
    }
    for (const warning of result.warnings) ui.warn(warning);
    if (result.variables.length > 0) {
      ui.print("Variables and secrets:");
      for (const v of result.variables) {
        const state =
          v.set === true ? ui.style("green", "set") : v.set === false ? ui.style("yellow", "missing") : "?";
        ui.print(
          `  ${v.name.padEnd(24)} ${state.padEnd(8)} ${ui.style("dim", v.where)}${v.note ? ` (${v.note})` : ""}`,
        );
      }
    }
    ui.print("Next:");
    for (const step of result.nextSteps) ui.print(`  ${step}`);
  },
});
