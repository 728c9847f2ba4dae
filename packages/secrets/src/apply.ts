import { createNullLogger, type Logger, type Redactor, type RunJournal, UsageError } from "@lego/core";
import { missingPort } from "./errors.ts";
import { generateValue, type RandomSource } from "./generate.ts";
import type { PlanReason, SecretsPlan } from "./plan.ts";
import type { SecretsWriter } from "./ports.ts";
import type { Vault } from "./vault.ts";

/** What applying a plan may use. Only what the plan needs must be present (no writer when not pushing). */
export interface SecretsApplyContext {
  vault?: Vault | undefined;
  writer?: SecretsWriter | undefined;
  logger?: Logger | undefined;
  /** Every value handled is registered here, so the app can scrub any output that might echo it. */
  redactor?: Redactor | undefined;
  /** The run's journal: events carry names only. */
  journal?: RunJournal | undefined;
  random?: RandomSource | undefined;
}

/** How to apply a plan. */
export interface SecretsApplyOptions {
  /** Upload the values to the environment (through wrangler, on stdin). */
  push: boolean;
  /** Keep the values encrypted in the vault so they can be pushed again. */
  persist: boolean;
  /** Return the values in the result (the CLI prints them only with `--reveal` on a TTY). */
  reveal?: boolean | undefined;
}

/** One secret after applying a plan: names and status only. */
export interface AppliedSecret {
  name: string;
  type: string;
  reason: PlanReason;
  source: "generate" | "vault";
  pushed: boolean;
  persisted: boolean;
}

/** The outcome of a secrets run: names and status, never values (unless `reveal` asked for them). */
export interface SecretsResult {
  action: SecretsPlan["action"];
  service: string;
  env: string;
  scriptName: string;
  secrets: AppliedSecret[];
  unchanged: string[];
  skipped: Array<{ name: string; reason: string }>;
  /** Present only when `reveal` was set. */
  values?: Record<string, string> | undefined;
}

function nothingToKeep(): UsageError {
  return new UsageError({
    code: "ERR_NOTHING_TO_KEEP",
    message: "Generated secrets would be thrown away: nothing pushes, persists or reveals them",
    hint: "Pass --push to upload them, --persist to keep them in the vault, or --reveal (on a terminal) to print them.",
  });
}

/**
 * Applies a plan: makes or reads each value, persists to the vault first (so a failed upload can be
 * retried with `lego secrets push`), then uploads all of them in one wrangler call with the values on
 * stdin. A value already persisted for the scope is always updated, so the vault never goes stale.
 */
export async function applySecretsPlan(
  plan: SecretsPlan,
  context: SecretsApplyContext,
  options: SecretsApplyOptions,
): Promise<SecretsResult> {
  const logger = context.logger ?? createNullLogger();
  const { scope } = plan;
  const generates = plan.items.some((i) => i.source === "generate");
  if (generates && !options.push && !options.persist && !options.reveal) throw nothingToKeep();
  const needsVault = options.persist || plan.items.some((i) => i.source === "vault");
  const vault = context.vault;
  if (needsVault && !vault) throw missingPort("applySecretsPlan: this plan needs a vault in the context");
  if (options.push && plan.items.length > 0 && !context.writer)
    throw missingPort("applySecretsPlan: pushing needs a writer in the context");

  const values: Record<string, string> = {};
  const vaultCache = new Map<string, Map<string, string>>();
  const fromVault = async (service: string, env: string, name: string): Promise<string> => {
    const key = `${service}\u0000${env}`;
    let entries = vaultCache.get(key);
    if (!entries) {
      entries = new Map((await vault!.getSecrets({ service, env })).map((s) => [s.name, s.value]));
      vaultCache.set(key, entries);
    }
    const value = entries.get(name);
    if (value === undefined) {
      throw new UsageError({
        code: "ERR_SECRET_NOT_PERSISTED",
        message: `${name} of ${service} (${env}) is not in the vault`,
        hint: `Generate it with \`lego secrets generate ${service} --env ${env} --persist\`.`,
        details: { service, env, name },
      });
    }
    return value;
  };

  for (const item of plan.items) {
    const value =
      item.source === "generate"
        ? generateValue(item.format, context.random)
        : await fromVault(item.from.service, item.from.env, item.name);
    values[item.name] = value;
    context.redactor?.add(value);
  }
  const names = plan.items.map((i) => i.name);
  await context.journal?.append("secrets.planned", {
    action: plan.action,
    service: scope.service,
    env: scope.env,
    names,
    unchanged: plan.unchanged,
    skipped: plan.skipped.map((s) => s.name),
  });

  // Persist what is new to this scope's vault entries: everything when asked, and always what would go stale.
  const alreadyPersisted =
    vault && (await vault.exists())
      ? new Set((await vault.getSecrets({ service: scope.service, env: scope.env })).map((s) => s.name))
      : new Set<string>();
  const toPersist = plan.items.filter((i) => {
    const sameScopeFromVault =
      i.source === "vault" && i.from.service === scope.service && i.from.env === scope.env;
    if (sameScopeFromVault) return false;
    return options.persist || alreadyPersisted.has(i.name);
  });
  if (toPersist.length > 0) {
    await vault!.putSecrets(
      toPersist.map((i) => ({
        service: scope.service,
        env: scope.env,
        name: i.name,
        type: i.type,
        value: values[i.name] as string,
      })),
    );
    logger.info("secrets persisted in the vault", {
      service: scope.service,
      env: scope.env,
      names: toPersist.map((i) => i.name),
    });
    await context.journal?.append("secrets.persisted", {
      service: scope.service,
      env: scope.env,
      names: toPersist.map((i) => i.name),
    });
  }
  const persistedNames = new Set([
    ...toPersist.map((i) => i.name),
    ...plan.items
      .filter((i) => i.source === "vault" && i.from.env === scope.env && i.from.service === scope.service)
      .map((i) => i.name),
  ]);

  const pushed = options.push && plan.items.length > 0;
  if (pushed) {
    await context.journal?.append("secrets.push.started", {
      service: scope.service,
      env: scope.env,
      script: scope.scriptName,
      names,
    });
    await context.writer!.putSecrets(scope, values);
    logger.info("secrets pushed", {
      service: scope.service,
      env: scope.env,
      script: scope.scriptName,
      names,
    });
    await context.journal?.append("secrets.pushed", {
      service: scope.service,
      env: scope.env,
      script: scope.scriptName,
      names,
    });
  }

  return {
    action: plan.action,
    service: scope.service,
    env: scope.env,
    scriptName: scope.scriptName,
    secrets: plan.items.map((i) => ({
      name: i.name,
      type: i.type,
      reason: i.reason,
      source: i.source,
      pushed,
      persisted: persistedNames.has(i.name),
    })),
    unchanged: plan.unchanged,
    skipped: plan.skipped,
    ...(options.reveal ? { values } : {}),
  };
}
