// A temp folder holding one generated service per type, with the node_modules `pnpm install` would give
// them (links to this repo's packages), shared by the end-to-end tests.
import { existsSync, realpathSync } from "node:fs";
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SERVICE_TYPES, scaffoldService } from "../src/index.ts";

/** The installed folder of a package, found the way Node resolves it (some hide package.json from `exports`). */
export function packageDir(name: string): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`${name} is not installed`);
  }
}

/** The production hostname each type is generated with: `api.example.com`, `data.example.com`, ... */
export const domainOf = (type: string) => `${type.split("-")[0]}.example.com`;

/** The environment of a child tool: no VITEST_* of the parent run, wrangler kept off the network (traffic doc §2). */
export function childEnv(configHome: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith("VITEST") || key === "NODE_OPTIONS" || key === "TEST") continue;
    if (key.startsWith("CLOUDFLARE_")) continue;
    env[key] = value;
  }
  return {
    ...env,
    CI: "true",
    NO_COLOR: "1",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    XDG_CONFIG_HOME: configHome,
    ...extra,
  };
}

/** Generates the four services (one folder per type, named after it) under a new temp folder. */
export async function createGeneratedRoot(prefix: string): Promise<string> {
  const runtime = packageDir("@lego/runtime");
  if (!existsSync(join(runtime, "dist/index.js"))) {
    throw new Error(
      "@lego/runtime is not built: generated services import its dist like any user would. Run `pnpm turbo run build --filter create-lego-service^...` (the repo's test task does).",
    );
  }
  const root = await mkdtemp(join(tmpdir(), prefix));
  const modules = join(root, "node_modules");
  await mkdir(join(modules, "@lego"), { recursive: true });
  await mkdir(join(modules, "@cloudflare"), { recursive: true });
  await symlink(runtime, join(modules, "@lego/runtime"), "dir");
  for (const name of [
    "@cloudflare/vitest-plugin",
    "@cloudflare/workers-types",
    "vitest",
    "wrangler",
    "typescript",
  ]) {
    await symlink(packageDir(name), join(modules, name), "dir");
  }
  await writeFile(join(root, "package.json"), '{ "private": true, "type": "module" }\n');
  for (const type of SERVICE_TYPES) {
    await scaffoldService({ name: type, type, dir: type, domain: domainOf(type) }, { cwd: root });
  }
  return root;
}
