// `lego create`: the same scaffolder as the `create-lego-service` binary, as a lego command.
import type { CreateOutput } from "create-lego-service";
import { defineCommand } from "../framework/define.ts";

/** `lego create <name> --type <type>`: writes a new service (wrangler config, domain config, Worker, tests). */
export const createCommand = defineCommand({
  meta: {
    name: "create",
    description: "Create a new service: wrangler config, domain config, Worker, tests, migrations",
    examples: [
      "lego create notes --type data-service --domain notes.example.com",
      "lego create edge --type api-gateway --env staging,production --dir services/edge",
      "lego create site --type static-site --dry-run --json",
    ],
  },
  args: {
    name: { type: "positional", required: false, description: "Service name (the Worker name)" },
    type: {
      type: "enum",
      options: ["api-gateway", "data-service", "auth-service", "static-site"],
      description: "Service type",
    },
    domain: {
      type: "string",
      description: "Production hostname (default <name>.example.com)",
      valueHint: "host",
    },
    env: {
      type: "string",
      description: "Deployed environments (default staging,production)",
      valueHint: "a,b",
    },
    hostnames: { type: "string", description: "Per-environment hostnames", valueHint: "env=host,..." },
    dir: {
      type: "string",
      description: "Folder to create (default ./<name>); must be empty",
      valueHint: "path",
    },
    "account-id": { type: "string", description: "Cloudflare account id (32 hex)", valueHint: "id" },
    "zone-id": { type: "string", description: "Cloudflare zone id (32 hex)", valueHint: "id" },
    "auth-service": {
      type: "string",
      description: "api-gateway: the service bound as AUTH",
      valueHint: "name",
    },
    "data-service": {
      type: "string",
      description: "api-gateway: the service bound as DATA",
      valueHint: "name",
    },
    "runtime-version": {
      type: "string",
      description: "Dependency spec for @lego/runtime",
      valueHint: "spec",
    },
    "dry-run": { type: "boolean", description: "Print the plan; write nothing" },
  },
  async run(ctx, args): Promise<CreateOutput> {
    // The scaffolder's own handler (create-lego-service's), loaded on use: the same steps as its binary.
    const { runCreate } = await import("create-lego-service");
    const { output } = await runCreate(args, { cwd: ctx.cwd, prompter: ctx.prompter });
    return output;
  },
  human(result, ui) {
    ui.print(
      `${ui.style("green", "✔")} ${result.dryRun ? "Would create" : "Created"} ${ui.style("bold", result.name)} (${result.type}) in ${result.dir}: ${result.files.length} files`,
    );
    const envWidth = Math.max(...result.environments.map((e) => e.name.length));
    const hostWidth = Math.max(...result.environments.map((e) => e.hostname.length + 8));
    for (const e of result.environments) {
      const url = `https://${e.hostname}`.padEnd(hostWidth);
      ui.print(`  ${e.name.padEnd(envWidth)}  ${url}  ${ui.style("dim", `Worker ${e.script}`)}`);
    }
    if (result.secrets.length > 0) ui.print(`  Needs: ${result.secrets.join(", ")}`);
    ui.print("Next:");
    ui.print(`  cd ${result.dir}`);
    for (const step of result.nextSteps) ui.print(`  ${step}`);
  },
});
