import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LocalCloud, type LocalCloudOptions, registerLocalCloud, startLocalCloud } from "@lego/emulator";
import { execa, type Result } from "execa";

/** The built CLI; `turbo run test` builds it first (the test task depends on build). */
export const binPath = fileURLToPath(new URL("../../dist/bin.js", import.meta.url));

/** Fails with a clear message instead of an obscure spawn error when the CLI is not built. */
export function assertBuilt(): void {
  if (!existsSync(binPath)) {
    throw new Error(`${binPath} is missing: build apps/lego first (pnpm exec tsup, or turbo run test)`);
  }
}

/** A temp folder used as HOME and LEGO_HOME, removed by `dispose`. */
export async function tempHome(): Promise<{ dir: string; legoHome: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "lego-cli-e2e-"));
  return { dir, legoHome: join(dir, "lego-home"), dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `node <script> …args` with only the variables given (plus PATH), no stdin, never rejecting. */
export function runBuilt(
  args: string[],
  options: { env?: Record<string, string>; script?: string; timeout?: number } = {},
): Promise<Result<{ reject: false }>> {
  return execa(process.execPath, [options.script ?? binPath, ...args], {
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...options.env },
    extendEnv: false,
    stdin: "ignore",
    reject: false,
    timeout: options.timeout ?? 30_000,
  }) as Promise<Result<{ reject: false }>>;
}

/**
 * Makes a local cloud the test started in its own process the one the CLI finds under `legoHome`
 * (`local/server.json`, as `lego local up` writes it), so the test can switch its faults and read its
 * records while the built CLI deploys to it: @lego/emulator's own `registerLocalCloud`.
 */
export { registerLocalCloud };

/** A temp home whose local cloud runs in the test's own process (faults and records at hand). */
export interface HomeWithCloud {
  home: Awaited<ReturnType<typeof tempHome>>;
  cloud: LocalCloud;
  /** `<home>/portfolio`, where the test writes its services. */
  root: string;
  /** LEGO_HOME and HOME for the built CLI. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/** {@link tempHome} plus a local cloud started here and registered as the one the CLI finds. */
export async function homeWithLocalCloud(
  options: Omit<LocalCloudOptions, "stateDir"> = {},
): Promise<HomeWithCloud> {
  const home = await tempHome();
  const cloud = await startLocalCloud({ ...options, stateDir: join(home.dir, "cloud") });
  await registerLocalCloud(home.legoHome, cloud);
  return {
    home,
    cloud,
    root: join(home.dir, "portfolio"),
    env: { LEGO_HOME: home.legoHome, HOME: home.dir },
    async dispose() {
      await cloud.close();
      await home.dispose();
    },
  };
}

/**
 * Writes the `ledger` service under `<root>/services/ledger`: a Worker answering "ok", a D1 binding `DB`
 * per environment (`databases`: environment → database name) and the given migrations. Its folder.
 */
export async function writeLedgerService(
  root: string,
  databases: Record<string, string>,
  migrations: Record<string, string>,
): Promise<string> {
  const dir = join(root, "services", "ledger");
  await mkdir(join(dir, "migrations"), { recursive: true });
  await mkdir(join(dir, "src"), { recursive: true });
  await writeFile(
    join(dir, "src", "index.js"),
    "export default { fetch() { return new Response('ok'); } };\n",
  );
  const env = Object.fromEntries(
    Object.entries(databases).map(([name, database]) => [
      name,
      { d1_databases: [{ binding: "DB", database_name: database }] },
    ]),
  );
  await writeFile(
    join(dir, "wrangler.jsonc"),
    JSON.stringify({ name: "ledger", main: "src/index.js", compatibility_date: "2025-09-01", env }),
  );
  for (const [file, sql] of Object.entries(migrations)) await writeFile(join(dir, "migrations", file), sql);
  return dir;
}

/** Where a test reads the local cloud's API: a started cloud, or the server.json `lego local up` wrote. */
export type CloudApi = Pick<LocalCloud, "apiBaseUrl" | "token" | "accountId">;

/**
 * Runs `sql` on the D1 database named `database` through the local cloud's API (what the cloud holds,
 * not what lego reported); the first statement's rows.
 */
export async function d1Query<Row = Record<string, unknown>>(
  cloud: CloudApi,
  database: string,
  sql: string,
): Promise<Row[]> {
  const headers = { authorization: `Bearer ${cloud.token}`, "content-type": "application/json" };
  const base = `${cloud.apiBaseUrl}/accounts/${cloud.accountId}/d1/database`;
  const db = (await (await fetch(`${base}/${database}`, { headers })).json()) as { result: { uuid: string } };
  const res = await fetch(`${base}/${db.result.uuid}/query`, {
    method: "POST",
    headers,
    body: JSON.stringify({ sql }),
  });
  return ((await res.json()) as { result: Array<{ results: Row[] }> }).result[0]?.results ?? [];
}
