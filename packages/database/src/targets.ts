import { join, resolve } from "node:path";
import { LegoError, UsageError } from "@lego/core";
import type { D1DatabaseBinding, Portfolio, PortfolioService } from "@lego/discovery";
import type { D1Target } from "./ports.ts";

/** Discovery's binding, plus the optional wrangler keys it may carry. */
type Binding = D1DatabaseBinding & {
  migrationsTable?: string | undefined;
  migrationsPattern?: string | undefined;
};

/**
 * The D1 targets of a service in one environment, from the discovery model: one per `d1_databases`
 * entry of that wrangler environment. Empty when the environment binds no database.
 */
export function d1TargetsOf(
  portfolio: Pick<Portfolio, "root">,
  service: PortfolioService,
  env: string,
): D1Target[] {
  const environment = service.environments[env];
  if (!environment)
    throw new UsageError({
      code: "ERR_ENVIRONMENT_NOT_FOUND",
      message: `${service.name} has no environment "${env}"`,
      hint: `Environments of ${service.name}: ${service.environmentNames.join(", ") || "none"}.`,
      details: { service: service.name, env },
    });
  if (environment.d1Databases.length === 0) return [];
  if (environment.wranglerEnv === undefined)
    throw new LegoError({
      code: "ERR_DATABASE_NOT_CONFIGURED",
      message: `${service.name}: the wrangler config has no section for environment "${env}"`,
      hint: `Add env.${env} to ${service.wranglerConfigFile} (with its d1_databases).`,
      exitCode: 2,
    });
  const configPath = join(portfolio.root, service.wranglerConfigFile);
  return environment.d1Databases.map((d: Binding) => ({
    service: service.name,
    env,
    wranglerEnv: environment.wranglerEnv as string,
    serviceDir: service.path,
    configPath,
    binding: d.binding,
    databaseName: d.databaseName,
    ...(d.databaseId ? { databaseId: d.databaseId } : {}),
    migrationsDir: resolve(service.path, d.migrationsDir || "migrations"),
    ...(d.migrationsPattern ? { migrationsPattern: d.migrationsPattern } : {}),
    migrationsTable: d.migrationsTable || "d1_migrations",
  }));
}

/** A service's environments that bind at least one D1 database, in the service's order. */
export function environmentsWithDatabases(service: PortfolioService): string[] {
  return service.environmentNames.filter((e) => (service.environments[e]?.d1Databases.length ?? 0) > 0);
}
