import type { SecretsScope } from "./plan.ts";

/**
 * What the secrets manager reads from the Cloudflare API: the names set on a script (values are never
 * returned by the API). `undefined` when the script does not exist yet.
 */
export interface SecretsReader {
  listSecretNames(scope: SecretsScope): Promise<string[] | undefined>;
}

/**
 * What the secrets manager writes: all values of one scope in one call, through wrangler with the values
 * on stdin (never argv, never a file left on disk). `@lego/cloudflare`'s wrangler runner does the work.
 */
export interface SecretsWriter {
  putSecrets(scope: SecretsScope, values: Readonly<Record<string, string>>): Promise<void>;
}
