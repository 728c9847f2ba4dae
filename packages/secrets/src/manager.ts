import { type Logger, type Prompter, type Redactor, type RunJournal, UsageError } from "@lego/core";
import { applySecretsPlan, type SecretsResult } from "./apply.ts";
import { missingPort } from "./errors.ts";
import { type GeneratedSecret, generateSecrets, type RandomSource, type SecretSpec } from "./generate.ts";
import {
  diffSecrets,
  type PersistedName,
  planGenerate,
  planPush,
  planRotate,
  planSync,
  type SecretsDiff,
  type SecretsPlan,
  type SecretsScope,
} from "./plan.ts";
import type { SecretsReader, SecretsWriter } from "./ports.ts";
import type { Vault } from "./vault.ts";

/** What {@link EnhancedSecretManager} works with. Each method needs only some of it. */
export interface SecretManagerContext {
  /** Reads secret names from the API (diff, push, list). */
  reader?: SecretsReader | undefined;
  /** Uploads values through wrangler on stdin (push, rotate, sync, generate --push). */
  writer?: SecretsWriter | undefined;
  /** The encrypted vault for persisted values. */
  vault?: Vault | undefined;
  logger?: Logger | undefined;
  redactor?: Redactor | undefined;
  journal?: RunJournal | undefined;
  /** Asks for the confirmation `sync` needs when `yes` is not given. */
  prompter?: Prompter | undefined;
  random?: RandomSource | undefined;
}

/** One secret name as `list` shows it. */
export interface SecretListing {
  name: string;
  required: boolean;
  set: boolean;
  persisted: boolean;
}

function need<T>(value: T | undefined, what: string, method: string): T {
  if (value === undefined) throw missingPort(`EnhancedSecretManager.${method} needs ${what} in its context`);
  return value;
}

/**
 * The seed's `EnhancedSecretManager`, done properly: values from `crypto.randomBytes`, uploads through
 * wrangler with values on stdin, persisted values encrypted in the vault, and every method planned (pure)
 * before it is applied. Results hold names and status, never values, unless `reveal` asks for them.
 *
 * @example
 * const manager = new EnhancedSecretManager({ reader, writer, vault });
 * const [diff] = await manager.diff([scope]);            // which required secrets are missing
 * await manager.push(scope, { persist: true });         // generate what is missing, keep it, upload it
 * await manager.rotate(scope, "JWT_SECRET");           // a new value of the same kind
 */
export class EnhancedSecretManager {
  readonly #context: SecretManagerContext;

  constructor(context: SecretManagerContext = {}) {
    this.#context = context;
  }

  /** The seed's call: new values for types such as `["database", "api-keys", "jwt"]` or specs. */
  generateSecrets(types: string | readonly string[] | readonly SecretSpec[]): GeneratedSecret[] {
    const generated = generateSecrets(types, this.#context.random);
    for (const g of generated) this.#context.redactor?.add(g.value);
    return generated;
  }

  async #remote(scope: SecretsScope, method: string): Promise<string[] | undefined> {
    return need(this.#context.reader, "a reader", method).listSecretNames(scope);
  }

  async #persisted(scope: SecretsScope): Promise<PersistedName[]> {
    const vault = this.#context.vault;
    if (!vault || !(await vault.exists())) return [];
    return (await vault.getSecrets({ service: scope.service, env: scope.env })).map((s) => ({
      name: s.name,
      type: s.type,
    }));
  }

  #apply(plan: SecretsPlan, options: { push: boolean; persist: boolean; reveal?: boolean | undefined }) {
    return applySecretsPlan(plan, this.#context, options);
  }

  /** Which required secrets each scope lacks, read from the API. */
  async diff(scopes: readonly SecretsScope[]): Promise<SecretsDiff[]> {
    const out: SecretsDiff[] = [];
    for (const scope of scopes) out.push(diffSecrets(scope, await this.#remote(scope, "diff")));
    return out;
  }

  /** Names set on the script, required ones, and which are persisted in the vault. Never values. */
  async list(scope: SecretsScope): Promise<SecretListing[]> {
    const remote = (await this.#remote(scope, "list")) ?? [];
    const persisted = new Set((await this.#persisted(scope)).map((p) => p.name));
    const names = [...new Set([...remote, ...scope.required, ...persisted])].sort();
    return names.map((name) => ({
      name,
      required: scope.required.includes(name),
      set: remote.includes(name),
      persisted: persisted.has(name),
    }));
  }

  /**
   * The seed's `lego-secrets --types … --persist`: new values for the requested specs (and, with
   * `fillMissing`, for required secrets not set yet), then persisted, pushed and/or revealed. With
   * `fillMissing` and every required secret set, there is nothing to do and the result is empty.
   */
  async generate(
    scope: SecretsScope,
    options: {
      specs: readonly SecretSpec[];
      fillMissing?: boolean;
      push?: boolean;
      persist?: boolean;
      reveal?: boolean;
    },
  ): Promise<SecretsResult> {
    if (options.specs.length === 0 && !options.fillMissing) {
      throw new UsageError({
        code: "ERR_SECRET_TYPE_UNKNOWN",
        message: `Nothing to generate for ${scope.service} (${scope.env}): no types given`,
        hint: "Pass --types (e.g. database,api-keys,jwt) or --custom NAME:LENGTH, or declare secrets.required.",
      });
    }
    const remote = options.push || options.fillMissing ? await this.#remote(scope, "generate") : undefined;
    const plan = planGenerate({
      scope,
      requested: options.specs,
      remote,
      fillMissing: options.fillMissing ?? false,
    });
    return this.#apply(plan, {
      push: options.push ?? false,
      persist: options.persist ?? false,
      reveal: options.reveal,
    });
  }

  /**
   * `lego secrets push`: re-pushes the values persisted for the scope and generates the required ones
   * that are neither set nor persisted (persisting them when `persist`).
   */
  async push(
    scope: SecretsScope,
    options: { persist?: boolean; only?: readonly string[]; reveal?: boolean } = {},
  ): Promise<SecretsResult> {
    const plan = planPush({
      scope,
      remote: await this.#remote(scope, "push"),
      persisted: await this.#persisted(scope),
      only: options.only,
    });
    return this.#apply(plan, { push: true, persist: options.persist ?? false, reveal: options.reveal });
  }

  /** `lego secrets rotate`: a new value for one secret, pushed, and kept in the vault if it was there or `persist`. */
  async rotate(
    scope: SecretsScope,
    name: string,
    options: { persist?: boolean; reveal?: boolean } = {},
  ): Promise<SecretsResult> {
    const plan = planRotate({
      scope,
      name,
      remote: this.#context.reader ? await this.#remote(scope, "rotate") : undefined,
      persisted: await this.#persisted(scope),
    });
    return this.#apply(plan, { push: true, persist: options.persist ?? false, reveal: options.reveal });
  }

  /** Plans a sync without applying it: what `sync` would copy, and what it cannot. */
  async planSync(input: { from: SecretsScope; to: SecretsScope }): Promise<SecretsPlan> {
    return planSync({
      from: {
        scope: input.from,
        remote: await this.#remote(input.from, "sync"),
        persisted: await this.#persisted(input.from),
      },
      to: { scope: input.to, remote: await this.#remote(input.to, "sync") },
    });
  }

  /**
   * `lego secrets sync --from staging --to production`: copies the values persisted for `from` to `to`.
   * Goes ahead only with `yes`, or when the prompter's confirmation says so; otherwise exit 2.
   */
  async sync(input: {
    from: SecretsScope;
    to: SecretsScope;
    yes?: boolean;
    persist?: boolean;
  }): Promise<SecretsResult> {
    const plan = await this.planSync(input);
    if (plan.items.length > 0 && !input.yes) {
      const prompter = this.#context.prompter;
      const names = plan.items.map((i) => i.name).join(", ");
      const confirmed =
        prompter?.interactive === true &&
        (await prompter.confirm({
          message: `Copy ${plan.items.length} secret(s) of ${input.from.service} from ${input.from.env} to ${input.to.env} (${names})?`,
          default: false,
          flag: "--yes",
        }));
      if (!confirmed) {
        throw new UsageError({
          code: "ERR_SYNC_NOT_CONFIRMED",
          message: `Not copying secrets of ${input.from.service} from ${input.from.env} to ${input.to.env}: not confirmed`,
          hint: "Confirm when asked, or pass --yes.",
          details: { names: plan.items.map((i) => i.name) },
        });
      }
    }
    return this.#apply(plan, { push: true, persist: input.persist ?? true });
  }
}
