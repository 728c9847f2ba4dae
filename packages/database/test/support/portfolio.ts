// A real portfolio on disk (wrangler.jsonc files, migrations folders), scanned by @lego/discovery.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Portfolio, scanPortfolio } from "@lego/discovery";

export interface ServiceSpec {
  name: string;
  /** Database name per environment; omitted: no D1. */
  databases?: Record<string, string>;
  /** Scripts this service calls through service bindings, per environment. */
  calls?: string[];
  migrations?: Record<string, string>;
}

/** Writes `services/<name>/wrangler.jsonc` (+ migrations) for each spec, then scans the portfolio. */
export async function writePortfolio(
  root: string,
  specs: ServiceSpec[],
  envs = ["staging", "production"],
): Promise<Portfolio> {
  for (const spec of specs) {
    const dir = join(root, "services", spec.name);
    await mkdir(join(dir, "src"), { recursive: true });
    await writeFile(
      join(dir, "src", "index.js"),
      "export default { fetch() { return new Response('ok'); } };\n",
    );
    const env: Record<string, unknown> = {};
    for (const e of envs) {
      env[e] = {
        name: `${spec.name}-${e}`,
        ...(spec.databases?.[e]
          ? {
              d1_databases: [
                { binding: "DB", database_name: spec.databases[e], migrations_dir: "migrations" },
              ],
            }
          : {}),
        ...(spec.calls?.length
          ? { services: spec.calls.map((c) => ({ binding: c.toUpperCase(), service: `${c}-${e}` })) }
          : {}),
      };
    }
    const config = { name: spec.name, main: "src/index.js", compatibility_date: "2025-09-01", env };
    await writeFile(join(dir, "wrangler.jsonc"), JSON.stringify(config, null, 2));
    for (const [file, text] of Object.entries(spec.migrations ?? {})) {
      await mkdir(join(dir, "migrations"), { recursive: true });
      await writeFile(join(dir, "migrations", file), text);
    }
  }
  return scanPortfolio({ root, cache: false });
}
