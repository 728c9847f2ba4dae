import { UsageError } from "@lego/core";
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

/**
 * The deploy hook: which required secrets the target environment lacks, read from the API.
 * Cheap (one list call) and never touches a value.
 *
 * @example
 * const { missing } = await checkRequiredSecrets({ scope, reader });
 * if (missing.length > 0) throw missingSecretsError(diff);
 */
export async function checkRequiredSecrets(input: {
  scope: SecretsScope;
  reader: SecretsReader;
}): Promise<{ missing: string[]; diff: SecretsDiff; command: string }> {
  if (input.scope.required.length === 0) {
    const diff = diffSecrets(input.scope, []);
    return { missing: [], diff, command: pushCommandFor(input.scope) };
  }
  const diff = diffSecrets(input.scope, await input.reader.listSecretNames(input.scope));
  return { missing: diff.missing, diff, command: pushCommandFor(input.scope) };
}

/** {@link checkRequiredSecrets}, throwing `ERR_SECRETS_MISSING` (exit 2) when anything is missing. */
export async function assertRequiredSecrets(input: {
  scope: SecretsScope;
  reader: SecretsReader;
}): Promise<SecretsDiff> {
  const { diff } = await checkRequiredSecrets(input);
  if (diff.missing.length > 0) throw missingSecretsError(diff);
  return diff;
}
