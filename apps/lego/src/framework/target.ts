import type { Target } from "@lego/cloudflare";
import { isLegoError, type LegoEnv, type Prompter, type Redactor, UsageError } from "@lego/core";
import type { Vault } from "@lego/secrets";
import type { Ui } from "./ui.ts";

/** What the vault and target resolvers are given: everything comes from the command context. */
export interface CredentialInputs {
  env: LegoEnv;
  legoHome: string;
  prompter: Prompter;
  redactor: Redactor;
  ui: Ui;
}

/**
 * The vault passphrase: `LEGO_VAULT_PASSPHRASE`, else a hidden prompt on a terminal (twice when the
 * vault is being created), else exit 2 naming the variable.
 */
export function createPassphraseProvider(
  inputs: CredentialInputs,
): (request: { path: string; creating: boolean }) => Promise<string> {
  return async ({ path, creating }) => {
    const fromEnv = inputs.env.LEGO_VAULT_PASSPHRASE;
    if (fromEnv) return fromEnv;
    const flag = "LEGO_VAULT_PASSPHRASE=… in the environment";
    const first = await inputs.prompter.password({
      message: creating
        ? `New passphrase for the token vault ${path}`
        : `Passphrase of the token vault ${path}`,
      flag,
    });
    inputs.redactor.add(first);
    if (creating) {
      const again = await inputs.prompter.password({ message: "The same passphrase again", flag });
      if (again !== first) {
        throw new UsageError({
          code: "ERR_PASSPHRASE_MISMATCH",
          message: "The two passphrases differ; the vault was not created",
          hint: "Run the command again and type the same passphrase twice.",
        });
      }
    }
    return first;
  };
}

/** A lazy, memoised `ctx.vault()`: the encrypted token vault under `$LEGO_HOME` (@lego/secrets). */
export function createVaultResolver(inputs: CredentialInputs): () => Promise<Vault> {
  let pending: Promise<Vault> | undefined;
  return () => {
    pending ??= import("@lego/secrets").then(({ createVault }) =>
      createVault({ legoHome: inputs.legoHome, passphrase: createPassphraseProvider(inputs) }),
    );
    return pending;
  };
}

/** The emulator's "start it unless it runs", loaded only when the target is local. */
async function ensureLocalCloud(legoHome: string, port: number | undefined) {
  const { ensureLocalCloud: ensure } = await import("@lego/emulator/lifecycle");
  return ensure({ legoHome, ...(port !== undefined ? { port } : {}) });
}

/**
 * A lazy, memoised `ctx.target()`: `resolveTarget` from @lego/cloudflare with the vault and the
 * local cloud wired in. When Cloudflare is asked for and no token is configured, a terminal session
 * is offered to store one in the vault first (the seed's automatic prompting). It says where the run
 * acts in one line on stderr, and registers the token with the redactor.
 */
export function createTargetResolver(
  inputs: CredentialInputs,
  vault: () => Promise<Vault>,
): () => Promise<Target> {
  let pending: Promise<Target> | undefined;
  return () => {
    pending ??= (async () => {
      const { resolveTarget } = await import("@lego/cloudflare");
      const resolve = () =>
        resolveTarget({
          env: inputs.env,
          legoHome: inputs.legoHome,
          vault: { getToken: async () => (await vault()).getToken() },
          ensureLocal: () => ensureLocalCloud(inputs.legoHome, inputs.env.LEGO_LOCAL_PORT),
        });
      let target: Target;
      try {
        target = await resolve();
      } catch (error) {
        if (!isLegoError(error) || error.code !== "ERR_CF_TOKEN_MISSING") throw error;
        const { offerToStoreToken } = await import("@lego/secrets");
        const stored = await offerToStoreToken({ vault: await vault(), prompter: inputs.prompter });
        if (!stored) throw error;
        inputs.redactor.add(stored);
        target = await resolve();
      }
      inputs.redactor.add(target.token);
      inputs.ui.info(target.description);
      return target;
    })();
    return pending;
  };
}
