/**
 * @lego/secrets: the encrypted API-token vault (AES-256-GCM, key from scrypt) and the generation, diff,
 * push, rotation and sync of Worker secrets, with values on stdin and never in argv, logs or errors.
 */

export {
  createApiSecretsReader,
  createWranglerSecretsWriter,
  secretsScopeFor,
  secretsScopesFor,
} from "./adapters.ts";
export type { AppliedSecret, SecretsApplyContext, SecretsApplyOptions, SecretsResult } from "./apply.ts";
export { applySecretsPlan } from "./apply.ts";
export type { CheckRequiredSecretsInput, PlannedSecretsTarget } from "./check.ts";
export { assertRequiredSecrets, checkRequiredSecrets, missingSecretsError, pushCommandFor } from "./check.ts";
export { SecretsErrorCode } from "./errors.ts";
export type {
  AlphabetName,
  ByteEncoding,
  GeneratedSecret,
  RandomSource,
  SecretFormat,
  SecretSpec,
  SecretTypeName,
} from "./generate.ts";
export {
  alphabets,
  assertSecretName,
  customSpec,
  generateSecrets,
  generateValue,
  inferSecretType,
  parseCustomSecret,
  parseSecretTypes,
  randomString,
  secretTypeNames,
  secretTypes,
  specForType,
} from "./generate.ts";
export type { SecretListing, SecretManagerContext } from "./manager.ts";
export { EnhancedSecretManager } from "./manager.ts";
export type {
  PersistedName,
  PlanReason,
  SecretPlanItem,
  SecretsDiff,
  SecretsPlan,
  SecretsScope,
} from "./plan.ts";
export { diffSecrets, planGenerate, planPush, planRotate, planSync, requiredSecretNames } from "./plan.ts";
export type { SecretsReader, SecretsWriter } from "./ports.ts";
export type { TokenReport } from "./token.ts";
export { createPassphraseProvider, describeToken, normalizeToken, offerToStoreToken } from "./token.ts";
export type {
  PassphraseProvider,
  PersistedSecret,
  SecretRef,
  TokenSource,
  Vault,
  VaultOptions,
  VaultSummary,
} from "./vault.ts";
export { createVault, MIN_PASSPHRASE_LENGTH, vaultPath } from "./vault.ts";
export type { ScryptParams } from "./vault-format.ts";
export { defaultScryptParams, VAULT_FORMAT, VAULT_VERSION } from "./vault-format.ts";
