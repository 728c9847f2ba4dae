import type { CloudflareClient } from "@lego/cloudflare";
import { isLegoError, type Prompter, UsageError } from "@lego/core";
import type { PassphraseProvider, Vault } from "./vault.ts";

/**
 * The vault passphrase the way the CLI gets it: `LEGO_VAULT_PASSPHRASE` when set, else a hidden prompt
 * (asked twice when a new vault is created). Without a terminal the prompter fails with exit 2 naming
 * LEGO_VAULT_PASSPHRASE.
 */
export function createPassphraseProvider(options: {
  /** `LEGO_VAULT_PASSPHRASE`, parsed by the app. */
  passphrase?: string | undefined;
  prompter: Prompter;
}): PassphraseProvider {
  return async ({ path, creating }) => {
    if (options.passphrase !== undefined) return options.passphrase;
    const flag = "LEGO_VAULT_PASSPHRASE";
    if (!creating)
      return options.prompter.password({ message: `Passphrase of the Lego vault (${path})`, flag });
    const first = await options.prompter.password({
      message: `New passphrase for the Lego vault (${path})`,
      flag,
    });
    const again = await options.prompter.password({ message: "Repeat the passphrase", flag });
    if (first !== again) {
      throw new UsageError({
        code: "ERR_VAULT_PASSPHRASE_MISMATCH",
        message: "The two passphrases differ; the vault was not created",
        hint: "Run the command again and type the same passphrase twice.",
      });
    }
    return first;
  };
}

/**
 * Checks an API token typed or piped in: surrounding whitespace (a trailing newline from `--stdin`)
 * is dropped; an empty token or one with whitespace inside is exit 2. The token is never echoed.
 */
export function normalizeToken(raw: string): string {
  const token = raw.trim();
  if (token.length === 0 || /\s/.test(token)) {
    throw new UsageError({
      code: "ERR_TOKEN_INVALID",
      message: token.length === 0 ? "The API token is empty" : "The API token has whitespace inside it",
      hint: 'Paste the token exactly as Cloudflare shows it (one line), e.g. `printf %s "$TOKEN" | lego token set --stdin`.',
    });
  }
  return token;
}

/**
 * The seed's automatic prompting: when a command needs a token, none is configured and the session is
 * interactive, offer to store one in the vault. Returns the stored token, or `undefined` when declined
 * or not interactive (the caller then fails with its own hint).
 */
export async function offerToStoreToken(options: {
  vault: Vault;
  prompter: Prompter;
}): Promise<string | undefined> {
  const { prompter, vault } = options;
  if (!prompter.interactive) return undefined;
  const store = await prompter.confirm({
    message: "No Cloudflare API token is configured. Store one in the encrypted Lego vault now?",
    default: true,
    flag: "--stdin (lego token set)",
  });
  if (!store) return undefined;
  const token = normalizeToken(await prompter.password({ message: "Cloudflare API token", flag: "--stdin" }));
  await vault.setToken(token);
  return token;
}

/** What `lego token status` reports: where the token comes from and what the API says about it. Never the token. */
export interface TokenReport {
  source: "env" | "vault" | "local";
  apiBaseUrl: string;
  /** `GET /user/tokens/verify`. */
  token: { id: string; status: string; expiresOn?: string | undefined; notBefore?: string | undefined };
  /** The accounts the token can see. */
  accounts: Array<{ id: string; name: string }>;
  /**
   * The token's permission groups (`GET /user/tokens/:id`), when the token may read its own policies;
   * `undefined` otherwise.
   */
  permissions?: string[] | undefined;
}

interface TokenPolicy {
  effect?: string;
  permission_groups?: Array<{ name?: string; id?: string }>;
}

/**
 * Verifies a token against the API and lists its accounts and (when allowed) its permissions.
 * A rejected token is the client's `ERR_CF_AUTH` (exit 3).
 */
export async function describeToken(options: {
  client: Pick<CloudflareClient, "verifyToken" | "listAccounts" | "request" | "baseURL">;
  source: TokenReport["source"];
  signal?: AbortSignal | undefined;
}): Promise<TokenReport> {
  const { client, signal } = options;
  const verified = await client.verifyToken({ signal });
  const accounts = await client.listAccounts({ signal });
  let permissions: string[] | undefined;
  try {
    const envelope = await client.request<{ policies?: TokenPolicy[] }>(
      {
        method: "GET",
        path: `/user/tokens/${encodeURIComponent(verified.id)}`,
        permission: "API Tokens: Read",
        // Best effort: a server that does not serve it (5xx, 501) must not cost the retry backoff.
        idempotent: false,
      },
      { signal },
    );
    const names = (envelope.result.policies ?? [])
      .filter((p) => p.effect !== "deny")
      .flatMap((p) => (p.permission_groups ?? []).map((g) => g.name ?? g.id ?? ""))
      .filter(Boolean);
    permissions = [...new Set(names)].sort();
  } catch (error) {
    // Most tokens may not read their own policies; that is no reason to fail the status.
    if (!isLegoError(error) || error.code === "ERR_INTERRUPTED") throw error;
    permissions = undefined;
  }
  return {
    source: options.source,
    apiBaseUrl: client.baseURL,
    token: {
      id: verified.id,
      status: verified.status,
      ...(verified.expires_on ? { expiresOn: verified.expires_on } : {}),
      ...(verified.not_before ? { notBefore: verified.not_before } : {}),
    },
    accounts: accounts.map((a) => ({ id: a.id, name: a.name })),
    ...(permissions ? { permissions } : {}),
  };
}
