import type { CloudflareClient } from "@lego/cloudflare";
import { UsageError } from "@lego/core";
import type { PortfolioService } from "@lego/discovery";
import { createApiSecretsReader, secretsScopeFor } from "./adapters.ts";
import { missingPort } from "./errors.ts";
import { diffSecrets, type SecretsDiff, type SecretsScope } from "./plan.ts";
import type { SecretsReader } from "./ports.ts";

/** The command that sets a scope's missing required secrets. */
export function pushCommandFor(scope: Pick<SecretsScope, "service" | "env">): string {
  return `lego secrets push ${scope.service} --env ${scope.env}`;
}

/**
 * The error a deploy (or the validator's comprehensive level) throws when required secrets are missing:
 * exit 2, naming the secrets and the command that sets them.
 */
export function missingSecretsError(diff: SecretsDiff): UsageError {
  return new UsageError({
    code: "ERR_SECRETS_MISSING",
    message: `${diff.service} (${diff.env}) is missing required secret${diff.missing.length === 1 ? "" : "s"}: ${diff.missing.join(", ")}`,
    hint: `Run \`${pushCommandFor(diff)}\` (add --persist to keep generated values), or set them with \`wrangler secret put\`.`,
    details: { service: diff.service, env: diff.env, script: diff.scriptName, missing: diff.missing },
  });
}

/** A planned deploy of one service (the shape of @lego/deployment's `PlannedService`). */
export interface PlannedSecretsTarget {
  service: string;
  environment: string;
  scriptName: string;
  secretsRequired: string[];
}

/** What {@link checkRequiredSecrets} is asked about: a scope and a reader, or a service, an environment and the API client. */
export type CheckRequiredSecretsInput =
  | { scope: SecretsScope; reader: SecretsReader }
  | {
      service: PortfolioService | PlannedSecretsTarget;
      /** Required with a `PortfolioService`; a planned service carries its own. */
      env?: string | undefined;
      client: Pick<CloudflareClient, "listSecrets">;
      signal?: AbortSignal | undefined;
    };

function scopeOf(input: CheckRequiredSecretsInput): { scope: SecretsScope; reader: SecretsReader } {
  if ("scope" in input) return input;
  const { service } = input;
  const reader = createApiSecretsReader(input.client, { signal: input.signal });
  if ("environments" in service) {
    if (input.env === undefined)
      throw missingPort("checkRequiredSecrets: `env` is required with a PortfolioService");
    return { scope: secretsScopeFor(service, input.env), reader };
  }
  const scope: SecretsScope = {
    service: service.service,
    env: input.env ?? service.environment,
    scriptName: service.scriptName,
    required: [...service.secretsRequired],
  };
  return { scope, reader };
}

/**
 * The deploy hook: which required secrets the target environment lacks, read from the API (one list
 * call; never a value). `command` is what sets them.
 *
 * @example
 * // in the CLI's deploy: hooks.checkSecrets = (planned) => checkRequiredSecrets({ service: planned, client })
 * const { missing, command } = await checkRequiredSecrets({ service, env: "staging", client });
 */
export async function checkRequiredSecrets(
  input: CheckRequiredSecretsInput,
): Promise<{ missing: string[]; diff: SecretsDiff; command: string }> {
  const { scope, reader } = scopeOf(input);
  const remote = scope.required.length === 0 ? [] : await reader.listSecretNames(scope);
  const diff = diffSecrets(scope, remote);
  return { missing: diff.missing, diff, command: pushCommandFor(scope) };
}

/** {@link checkRequiredSecrets}, throwing `ERR_SECRETS_MISSING` (exit 2) when anything is missing. */
export async function assertRequiredSecrets(input: CheckRequiredSecretsInput): Promise<SecretsDiff> {
  const { diff } = await checkRequiredSecrets(input);
  if (diff.missing.length > 0) throw missingSecretsError(diff);
  return diff;
}
