import { type Prompter, UsageError } from "@lego/core";
import {
  assertServiceName,
  DEFAULT_ENVIRONMENTS,
  isServiceType,
  parseList,
  type ScaffoldOptions,
  SERVICE_TYPE_DESCRIPTIONS,
  SERVICE_TYPES,
  type ServiceType,
} from "./options.ts";

/** Scaffold options as a CLI collects them: anything may still be missing. */
export type PartialScaffoldOptions = Partial<ScaffoldOptions>;

function missing(what: string, flag: string, example: string): UsageError {
  return new UsageError({
    code: "ERR_SCAFFOLD_MISSING_OPTION",
    message: `Missing ${what} (${flag})`,
    hint: `Pass ${flag}, e.g. ${example}; or run in a terminal to be asked.`,
  });
}

/**
 * Fills in what the caller did not say. On an interactive prompter it asks for the name, the type, the
 * domain and the environments; otherwise a missing name or type is exit 2 naming the flag, and the domain
 * and environments take their defaults.
 */
export async function completeScaffoldOptions(
  partial: PartialScaffoldOptions,
  prompter: Prompter,
): Promise<ScaffoldOptions> {
  let name = partial.name;
  if (name === undefined || name === "") {
    if (!prompter.interactive)
      throw missing("service name", "<name>", "create-lego-service my-service --type api-gateway");
    name = (await prompter.input({ message: "Service name", flag: "<name>" })).trim();
  }
  assertServiceName(name);
  let type = partial.type;
  if (type === undefined) {
    if (!prompter.interactive) throw missing("service type", "--type", `--type ${SERVICE_TYPES.join("|")}`);
    type = await prompter.select<ServiceType>({
      message: "Service type",
      flag: "--type",
      choices: SERVICE_TYPES.map((t) => ({ value: t, name: t, description: SERVICE_TYPE_DESCRIPTIONS[t] })),
    });
  }
  if (!isServiceType(type)) {
    throw new UsageError({
      code: "ERR_SCAFFOLD_TYPE_INVALID",
      message: `Unknown service type ${JSON.stringify(type)} (--type)`,
      hint: `Use one of: ${SERVICE_TYPES.join(", ")}.`,
    });
  }
  let domain = partial.domain;
  if (domain === undefined && partial.hostnames === undefined && prompter.interactive) {
    domain = (
      await prompter.input({
        message: "Production hostname",
        default: `${name}.example.com`,
        flag: "--domain",
      })
    ).trim();
  }
  let environments = partial.environments;
  if (environments === undefined && prompter.interactive) {
    const answer = await prompter.input({
      message: "Deployed environments (comma-separated)",
      default: DEFAULT_ENVIRONMENTS.join(","),
      flag: "--env",
    });
    environments = parseList(answer);
  }
  return {
    ...partial,
    name,
    type,
    dir: partial.dir ?? name,
    domain,
    environments,
  };
}
