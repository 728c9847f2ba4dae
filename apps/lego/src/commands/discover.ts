import type { AccountDiscovery, DiscoveryWarning, PortfolioService } from "@lego/discovery";
import { defineCommand } from "../framework/define.ts";
import type { Ui } from "../framework/ui.ts";
import { openCloud, openPortfolio, pickServices, rootArg } from "../wiring.ts";

/** One environment of the discovered service: what the configs say, and what the account holds. */
export interface DiscoveredEnvironment {
  name: string;
  wranglerEnv: string | undefined;
  scriptName: string;
  hostnames: string[];
  /** The zone of each hostname; absent when the account was not asked or the step failed. */
  zones?: Array<{ hostname: string; zone?: string | undefined; zoneId?: string | undefined }> | undefined;
  /** Whether the Worker script exists in the account; absent when unknown. */
  deployed?: boolean | undefined;
  deployment?:
    | { id: string; createdOn: string; versions: Array<{ versionId: string; percentage: number }> }
    | undefined;
  d1: Array<{
    binding: string;
    databaseName: string;
    databaseId?: string | undefined;
    exists?: boolean | undefined;
    migrationsDir: string;
  }>;
  serviceBindings: Array<{ binding: string; service: string; deployed?: boolean | undefined }>;
  secretsRequired: string[];
}

/** What `lego discover` returns. */
export interface DiscoverResult {
  service: PortfolioService;
  matchedBy?: string | undefined;
  environments: DiscoveredEnvironment[];
  account?:
    | { accountId?: string | undefined; steps: AccountDiscovery["steps"]; warnings: DiscoveryWarning[] }
    | undefined;
}

/** `lego discover <service|hostname>`: a service's configuration on disk and what the account holds for it. */
export const discoverCommand = defineCommand({
  meta: {
    name: "discover",
    description: "Show a service's configuration and what the Cloudflare account holds for it",
    examples: [
      "lego discover data-service.greatidude.com",
      "lego discover api-gateway --env staging --json",
      "lego discover api-gateway --no-account",
    ],
  },
  args: {
    service: {
      type: "positional",
      required: false,
      description: "Service name, hostname or Worker script name",
    },
    env: { type: "string", description: "Only this environment (default: all, or the one a hostname names)" },
    account: {
      type: "boolean",
      default: true,
      description: "Ask the target's API about zones, Workers and D1 (--no-account: the configs only)",
    },
    refresh: { type: "boolean", description: "Ignore the discovery cache and read every config again" },
    ...rootArg,
  },
  async run(ctx, args): Promise<DiscoverResult> {
    const portfolio = await openPortfolio(ctx, args.root, args.refresh);
    const picked = await pickServices(ctx, portfolio, args.service ? [args.service] : [], {
      what: "discover",
    });
    const service = picked.services[0]!;
    const { matchServices, DomainDiscovery } = await import("@lego/discovery");
    const matchedBy = args.service
      ? matchServices(portfolio, args.service).find((m) => m.service === service)?.matchedBy
      : undefined;
    const only = args.env ?? picked.environment;
    const envNames = only ? [only] : service.environmentNames;
    const { UsageError } = await import("@lego/core");
    if (only && !service.environments[only]) {
      throw new UsageError({
        code: "ERR_ENVIRONMENT_NOT_FOUND",
        message: `${service.name} has no environment "${only}" (it has ${service.environmentNames.join(", ")})`,
        hint: "Pick one of those with --env.",
      });
    }
    const envs = envNames.map((n) => service.environments[n]!);

    let account: AccountDiscovery | undefined;
    if (args.account) {
      const cloud = await openCloud(ctx, portfolio.root, portfolio);
      try {
        const discovery = new DomainDiscovery({ client: cloud.client, portfolio, logger: ctx.logger });
        account = await discovery.discoverAccount({
          hostnames: envs.flatMap((e) => e.hostnames),
          scripts: envs.map((e) => e.scriptName),
          signal: ctx.signal,
        });
      } finally {
        await cloud.dispose();
      }
    }
    const scripts = account?.workers ? new Map(account.workers.map((w) => [w.script, w])) : undefined;
    const zones = account?.zones ? new Map(account.zones.map((z) => [z.hostname, z.zone])) : undefined;
    const dbs = account?.d1Databases;
    return {
      service,
      ...(matchedBy ? { matchedBy } : {}),
      environments: envs.map((e) => ({
        name: e.name,
        wranglerEnv: e.wranglerEnv,
        scriptName: e.scriptName,
        hostnames: e.hostnames,
        ...(zones
          ? {
              zones: e.hostnames.map((h) => ({
                hostname: h,
                zone: zones.get(h)?.name,
                zoneId: zones.get(h)?.id,
              })),
            }
          : {}),
        ...(scripts ? { deployed: scripts.has(e.scriptName) } : {}),
        ...(scripts?.get(e.scriptName)?.deployment
          ? { deployment: scripts.get(e.scriptName)!.deployment }
          : {}),
        d1: e.d1Databases.map((d) => ({
          ...d,
          ...(dbs
            ? {
                exists: dbs.some((x) => (d.databaseId ? x.uuid === d.databaseId : x.name === d.databaseName)),
              }
            : {}),
        })),
        serviceBindings: e.serviceBindings.map((b) => ({
          binding: b.binding,
          service: b.service,
          ...(scripts ? { deployed: scripts.has(b.service) } : {}),
        })),
        secretsRequired: e.secretsRequired,
      })),
      ...(account
        ? { account: { accountId: account.accountId, steps: account.steps, warnings: account.warnings } }
        : {}),
    };
  },
  human(result, ui) {
    renderDiscover(result, ui);
  },
});

const yesNo = (value: boolean | undefined, yes: string, no: string) =>
  value === undefined ? "" : value ? yes : no;

function renderDiscover(result: DiscoverResult, ui: Ui): void {
  const s = result.service;
  ui.print(
    `${ui.style("bold", s.name)}${s.displayName ? ` (${s.displayName})` : ""}  ${ui.style("dim", s.dir)}`,
  );
  ui.print(`  wrangler config: ${s.wranglerConfigFile}`);
  ui.print(`  domain config:   ${s.domainConfigFile ?? "(none)"}`);
  if (s.dependsOn.length > 0) ui.print(`  depends on:      ${s.dependsOn.join(", ")}`);
  const features = Object.entries(s.features);
  if (features.length > 0) ui.print(`  features:        ${features.map(([k, v]) => `${k}=${v}`).join(", ")}`);
  for (const e of result.environments) {
    ui.print();
    const deployed = yesNo(e.deployed, ui.style("green", "deployed"), ui.style("yellow", "not deployed"));
    ui.print(`  ${ui.style("bold", e.name)}: Worker ${e.scriptName} ${deployed}`.trimEnd());
    if (e.wranglerEnv === undefined)
      ui.print(`    ${ui.style("red", "no wrangler section for this environment")}`);
    for (const h of e.hostnames) {
      const zone = e.zones?.find((z) => z.hostname === h);
      ui.print(
        `    ${h}${zone ? (zone.zone ? `  zone ${zone.zone}` : `  ${ui.style("yellow", "no zone in the account")}`) : ""}`,
      );
    }
    if (e.deployment) ui.print(`    current deployment ${e.deployment.id} (${e.deployment.createdOn})`);
    for (const d of e.d1) {
      ui.print(
        `    D1 ${d.binding}: ${d.databaseName}${d.databaseId ? ` (${d.databaseId})` : ""} ${yesNo(d.exists, "exists", ui.style("yellow", "missing"))}`.trimEnd(),
      );
    }
    for (const b of e.serviceBindings) {
      ui.print(
        `    binds ${b.binding} -> ${b.service} ${yesNo(b.deployed, "", ui.style("yellow", "(not deployed)"))}`.trimEnd(),
      );
    }
    if (e.secretsRequired.length > 0) ui.print(`    secrets: ${e.secretsRequired.join(", ")}`);
  }
  for (const w of result.account?.warnings ?? []) ui.warn(w.message);
}
