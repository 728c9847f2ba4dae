import { basename } from "node:path";
import type { CloudflareClient, WranglerRunner } from "@lego/cloudflare";
import { isLegoError, UsageError } from "@lego/core";
import type { PortfolioService } from "@lego/discovery";
import type { SecretsScope } from "./plan.ts";
import type { SecretsReader, SecretsWriter } from "./ports.ts";

/**
 * The secrets scope of one environment of a discovered service: its script name, its required secrets
 * (domain config plus wrangler), and where wrangler runs. An unknown environment is exit 2 listing the known ones.
 */
export function secretsScopeFor(service: PortfolioService, env: string): SecretsScope {
  const environment = service.environments[env];
  if (!environment) {
    throw new UsageError({
      code: "ERR_SECRETS_ENVIRONMENT_UNKNOWN",
      message: `${service.name} has no environment "${env}"`,
      hint: `Known environments: ${service.environmentNames.join(", ") || "(none)"}.`,
      details: { service: service.name, env, known: service.environmentNames },
    });
  }
  return {
    service: service.name,
    env,
    scriptName: environment.scriptName,
    required: [...environment.secretsRequired].sort(),
    dir: service.path,
    configFile: basename(service.wranglerConfigFile),
    wranglerEnv: environment.wranglerEnv ?? env,
  };
}

/** {@link secretsScopeFor} for several environments (all of the service's when `envs` is empty). */
export function secretsScopesFor(service: PortfolioService, envs: readonly string[] = []): SecretsScope[] {
  const names = envs.length > 0 ? envs : service.environmentNames;
  return names.map((env) => secretsScopeFor(service, env));
}

/**
 * Reads secret names through the Cloudflare API client (`GET …/scripts/:script/secrets`). A script that
 * does not exist yet (404) has no secrets: `undefined`.
 */
export function createApiSecretsReader(
  client: Pick<CloudflareClient, "listSecrets">,
  options: { signal?: AbortSignal | undefined } = {},
): SecretsReader {
  return {
    async listSecretNames(scope) {
      try {
        const secrets = await client.listSecrets(scope.scriptName, { signal: options.signal });
        return secrets.map((s) => s.name).sort();
      } catch (error) {
        if (isLegoError(error) && error.code === "ERR_CF_NOT_FOUND") return undefined;
        throw error;
      }
    },
  };
}

/**
 * Uploads through `wrangler secret bulk` in the service folder, with the values as JSON on stdin: never
 * argv, never a file. The scope must carry `dir` (wrangler's working directory).
 */
export function createWranglerSecretsWriter(
  runner: Pick<WranglerRunner, "secretBulk">,
  options: { signal?: AbortSignal | undefined } = {},
): SecretsWriter {
  return {
    async putSecrets(scope, values) {
      if (Object.keys(values).length === 0) return;
      await runner.secretBulk({
        cwd: scope.dir,
        env: scope.wranglerEnv ?? scope.env,
        ...(scope.configFile ? { config: scope.configFile } : {}),
        secrets: { ...values },
        signal: options.signal,
      });
    },
  };
}
