import runtimePackage from "@lego/runtime/package.json" with { type: "json" };
import {
  type ResolvedScaffoldOptions,
  resolveScaffoldOptions,
  type ScaffoldOptions,
  type ServiceType,
} from "./options.ts";
import { domainConfigOf, renderDomains, renderFeatures } from "./templates/config.ts";
import { renderHttp } from "./templates/http.ts";
import {
  renderNotesModule,
  renderPageModule,
  renderProxyModule,
  renderTokensModule,
} from "./templates/modules.ts";
import {
  renderDevVarsExample,
  renderEnvTypes,
  renderGitignore,
  renderInitMigration,
  renderPackageJson,
  renderTsconfig,
  renderVitestConfig,
  requiredSecrets,
} from "./templates/project.ts";
import { renderReadme } from "./templates/readme.ts";
import { renderMigrationsSetup, renderTestEnv, renderWorkerTest } from "./templates/tests.ts";
import { renderWorker } from "./templates/worker.ts";
import { renderWranglerJsonc, scriptName, usesD1, wranglerConfig } from "./templates/wrangler.ts";

/** One file the scaffolder writes: a path relative to the service folder (forward slashes) and its text. */
export interface PlannedFile {
  path: string;
  contents: string;
}

/** What {@link planScaffold} decides, before anything touches the disk. */
export interface ScaffoldPlan {
  /** The options after validation and defaults. */
  options: ResolvedScaffoldOptions;
  /** The folder the files go into (as given). */
  dir: string;
  /** Files to write, sorted by path. */
  files: PlannedFile[];
  /** Per deployed environment: hostname and Worker script name. */
  environments: Array<{ name: string; hostname: string; script: string }>;
  /** Secrets the service needs before it can serve (set them with `wrangler secret put` or `lego secrets`). */
  secrets: string[];
  /** Commands to run next, in order. */
  nextSteps: string[];
}

/** The `@lego/runtime` dependency a generated service gets unless told otherwise. */
export const DEFAULT_RUNTIME_VERSION = `^${runtimePackage.version}`;

function typeModule(type: ServiceType): PlannedFile {
  switch (type) {
    case "api-gateway":
      return { path: "src/worker/proxy.ts", contents: renderProxyModule() };
    case "data-service":
      return { path: "src/worker/notes.ts", contents: renderNotesModule() };
    case "auth-service":
      return { path: "src/worker/tokens.ts", contents: renderTokensModule() };
    case "static-site":
      return { path: "src/worker/page.ts", contents: renderPageModule() };
  }
}

/**
 * Decides every file of a new service: pure (no I/O), so it is unit-tested and previewed before writing.
 * Throws a `UsageError` (exit 2) naming a bad option.
 *
 * @example
 * const plan = planScaffold({ name: "notes", type: "data-service", dir: "services/notes", domain: "notes.example.com" });
 * plan.files.map((f) => f.path); // ["README.md", "migrations/0001_init.sql", "package.json", ...]
 */
export function planScaffold(options: ScaffoldOptions): ScaffoldPlan {
  const o = resolveScaffoldOptions(options, { runtimeVersion: DEFAULT_RUNTIME_VERSION });
  const files: PlannedFile[] = [
    { path: "package.json", contents: renderPackageJson(o) },
    { path: "tsconfig.json", contents: renderTsconfig() },
    { path: "wrangler.jsonc", contents: renderWranglerJsonc(o) },
    { path: "vitest.config.ts", contents: renderVitestConfig(o) },
    { path: ".gitignore", contents: renderGitignore() },
    { path: "README.md", contents: renderReadme(o) },
    { path: "src/config/domains.ts", contents: renderDomains(o) },
    { path: "src/config/features.ts", contents: renderFeatures(o) },
    { path: "src/worker/index.ts", contents: renderWorker(o) },
    { path: "src/worker/env.d.ts", contents: renderEnvTypes(o, "./index") },
    { path: "src/worker/http.ts", contents: renderHttp() },
    typeModule(o.type),
    { path: "test/worker.test.ts", contents: renderWorkerTest(o) },
  ];
  const testEnv = renderTestEnv(o);
  if (testEnv) files.push({ path: "test/env.d.ts", contents: testEnv });
  const devVars = renderDevVarsExample(o);
  if (devVars) files.push({ path: ".dev.vars.example", contents: devVars });
  if (usesD1(o.type)) {
    files.push({ path: "migrations/0001_init.sql", contents: renderInitMigration() });
    files.push({ path: "test/apply-migrations.ts", contents: renderMigrationsSetup() });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const secrets = requiredSecrets(o);
  const first = o.environments[0]!;
  const nextSteps = [
    "pnpm install",
    "pnpm test",
    ...secrets.map((s) => `wrangler secret put ${s} --env ${first}`),
    ...(usesD1(o.type) ? [`wrangler d1 migrations apply DB --remote --env ${first}`] : []),
    `lego deploy ${o.name} --env ${first}`,
  ];
  return {
    options: o,
    dir: options.dir,
    files,
    environments: o.environments.map((name) => ({
      name,
      hostname: o.hostnames[name]!,
      script: scriptName(o.name, name),
    })),
    secrets,
    nextSteps,
  };
}

/** The parsed configs a plan writes, for callers that want data rather than text (e.g. `lego init`). */
export function plannedConfigs(o: ResolvedScaffoldOptions): {
  wrangler: Record<string, unknown>;
  domain: Record<string, unknown>;
} {
  return { wrangler: wranglerConfig(o), domain: domainConfigOf(o) };
}
