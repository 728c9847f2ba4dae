// `lego token set|status|clear`: the encrypted API-token vault (@lego/secrets) and its check against
// the API (@lego/cloudflare). The token is never printed, never in a result, never in argv.

import type { Target } from "@lego/cloudflare";
import type { TokenReport } from "@lego/secrets";
import { type CommandContext, defineCommand, defineGroup } from "../framework/define.ts";

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** What `lego token set` returns. */
export interface TokenSetResult {
  stored: true;
  vault: string;
  /** CLOUDFLARE_API_TOKEN is set, so it wins over the stored token. */
  overriddenByEnv: boolean;
}

/** `lego token set`: stores the API token in the encrypted vault. */
export const tokenSetCommand = defineCommand({
  meta: {
    name: "set",
    description: "Store the Cloudflare API token in the encrypted vault",
    examples: ["lego token set", 'printf %s "$TOKEN" | LEGO_VAULT_PASSPHRASE=… lego token set --stdin'],
  },
  args: {
    stdin: { type: "boolean", description: "Read the token from stdin instead of a hidden prompt" },
  },
  async run(ctx, args): Promise<TokenSetResult> {
    // The framework gives commands no stdin stream of their own yet; stdin is only read on --stdin.
    const input = (ctx as CommandContext & { stdin?: NodeJS.ReadableStream }).stdin ?? process.stdin;
    const raw = args.stdin
      ? await readAll(input)
      : await ctx.prompter.password({ message: "Cloudflare API token", flag: "--stdin" });
    ctx.redactor.add(raw.trim());
    const { normalizeToken } = await import("@lego/secrets");
    const token = normalizeToken(raw);
    const vault = await ctx.vault();
    await vault.setToken(token);
    return { stored: true, vault: vault.path, overriddenByEnv: ctx.env.CLOUDFLARE_API_TOKEN !== undefined };
  },
  human(result, ui) {
    ui.print(`Stored the API token in ${result.vault} (encrypted)`);
    if (result.overriddenByEnv)
      ui.print(ui.style("yellow", "CLOUDFLARE_API_TOKEN is set and takes precedence over it."));
  },
});

/** What `lego token status` returns: the API's view of the token, never the token. */
export interface TokenStatusResult extends TokenReport {
  target: Target["kind"];
  vault: { path: string; exists: boolean };
}

/** `lego token status`: verifies the token against the API and shows its accounts. */
export const tokenStatusCommand = defineCommand({
  meta: {
    name: "status",
    description: "Verify the API token and show its account and permissions (never the token)",
    examples: ["lego token status", "lego token status --json"],
  },
  args: {},
  async run(ctx): Promise<TokenStatusResult> {
    const vault = await ctx.vault();
    const target = await ctx.target();
    const { createCloudflareClient } = await import("@lego/cloudflare");
    const client = createCloudflareClient({
      token: target.token,
      baseURL: target.apiBaseUrl,
      accountId: target.accountId,
      logger: ctx.logger,
      clock: ctx.clock,
      signal: ctx.signal,
    });
    const { describeToken } = await import("@lego/secrets");
    const report = await describeToken({ client, source: target.tokenSource, signal: ctx.signal });
    return { ...report, target: target.kind, vault: { path: vault.path, exists: await vault.exists() } };
  },
  human(result, ui) {
    const from = {
      env: "CLOUDFLARE_API_TOKEN",
      vault: `the vault (${result.vault.path})`,
      local: "the local cloud",
    }[result.source];
    const status =
      result.token.status === "active" ? ui.style("green", "active") : ui.style("red", result.token.status);
    ui.print(`Token: ${status} (id ${result.token.id}, from ${from})`);
    ui.print(`API: ${result.apiBaseUrl}`);
    if (result.token.expiresOn) ui.print(`Expires: ${result.token.expiresOn}`);
    for (const account of result.accounts) ui.print(`Account: ${account.name} (${account.id})`);
    if (result.permissions) ui.print(`Permissions: ${result.permissions.join(", ") || "(none)"}`);
    else ui.print(ui.style("dim", "Permissions: not readable with this token"));
  },
});

/** `lego token clear`: removes the token from the vault (or, with --force, deletes the vault). */
export const tokenClearCommand = defineCommand({
  meta: {
    name: "clear",
    description: "Remove the API token from the vault (--force deletes the whole vault)",
    examples: ["lego token clear", "lego token clear --force"],
  },
  args: {
    force: {
      type: "boolean",
      description: "Delete the vault file without opening it (a lost passphrase); persisted secrets go too",
    },
  },
  async run(ctx, args) {
    const { vaultPath } = await import("@lego/secrets");
    const path = vaultPath(ctx.legoHome);
    const vault = await ctx.vault();
    if (args.force) return { cleared: await vault.destroy(), deletedVault: true, vault: path };
    return { cleared: await vault.clearToken(), deletedVault: !(await vault.exists()), vault: path };
  },
  human(result, ui) {
    if (!result.cleared) ui.print("No token was stored.");
    else if (result.deletedVault) ui.print(`Deleted the vault ${result.vault}`);
    else ui.print(`Removed the API token from ${result.vault} (persisted secrets are kept)`);
  },
});

/** `lego token …` */
export const tokenGroup = defineGroup({
  meta: { name: "token", description: "The Cloudflare API token in the encrypted vault: set, status, clear" },
  commands: [tokenSetCommand, tokenStatusCommand, tokenClearCommand],
});
