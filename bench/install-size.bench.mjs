// The CLI's install size, from a registry, against wrangler's own install (the baseline it cannot go
// below: the CLI spawns wrangler). The built @lego/cli and the workspace packages it depends on are
// packed (`pnpm pack`: workspace ranges become versions) and published to Verdaccio on 127.0.0.1
// (scripts/release/registry.mjs: other names proxied read-only from npmjs); then, in temp folders,
// `npm i -g --prefix <a> @lego/cli` and `npm i --prefix <b> wrangler@<the pinned version>`.
// Target: @lego/cli <= 1.1x wrangler.
// Run: node bench/install-size.bench.mjs   (needs apps/lego built; turbo's bench task does it)
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { registryEnv, startLocalRegistry } from "../scripts/release/registry.mjs";
import { folderSize, mb } from "../scripts/release/sizes.mjs";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const TARGET = 1.1;

if (!existsSync(join(root, "apps/lego/dist/bin.js"))) {
  console.error(
    "apps/lego is not built: run `pnpm turbo run build --filter @lego/cli...` (or `pnpm bench`).",
  );
  process.exit(1);
}

const readJson = async (path) => JSON.parse(await readFile(path, "utf8"));

// Workspace folders by package name, and the ones @lego/cli's install needs (dependencies, transitively).
const folders = new Map();
for (const group of ["packages", "apps"]) {
  for (const dir of await readdir(join(root, group))) {
    const manifest = await readJson(join(root, group, dir, "package.json")).catch(() => undefined);
    if (manifest) folders.set(manifest.name, join(root, group, dir));
  }
}
const needed = new Set();
const visit = async (name) => {
  if (needed.has(name)) return;
  needed.add(name);
  const manifest = await readJson(join(folders.get(name), "package.json"));
  for (const dep of Object.keys(manifest.dependencies ?? {})) if (folders.has(dep)) await visit(dep);
};
await visit("@lego/cli");

const work = await mkdtemp(join(tmpdir(), "lego-install-size-"));
const publicRegistry = (await run("npm", ["config", "get", "registry"], { cwd: work })).stdout.trim();
const registry = await startLocalRegistry({ dir: join(work, "registry"), uplink: publicRegistry });
try {
  const env = await registryEnv({ npmrcPath: join(work, "npmrc"), npmrc: registry.npmrc });
  // Installs: @lego/* from the local registry, the rest from the public one (and npm's cache).
  const installEnv = await registryEnv({
    npmrcPath: join(work, "npmrc-scoped"),
    npmrc: `registry=${publicRegistry}\n@lego:registry=${registry.url}\n`,
  });
  const tarballs = join(work, "tarballs");
  await mkdir(tarballs);
  for (const name of needed) {
    await run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: folders.get(name), env });
  }
  for (const file of await readdir(tarballs)) {
    await run("npm", ["publish", join(tarballs, file)], { cwd: work, env });
  }
  const { version: wranglerVersion } = await readJson(
    join(root, "apps/lego/node_modules/wrangler/package.json"),
  );
  const cliPrefix = join(work, "cli");
  const wranglerPrefix = join(work, "wrangler");
  await Promise.all([
    run("npm", ["install", "--global", "--prefix", cliPrefix, "@lego/cli"], { cwd: work, env: installEnv }),
    run("npm", ["install", "--prefix", wranglerPrefix, `wrangler@${wranglerVersion}`], {
      cwd: work,
      env: installEnv,
    }),
  ]);
  const cli = await folderSize(join(cliPrefix, "lib/node_modules/@lego/cli"));
  const wrangler = await folderSize(join(wranglerPrefix, "node_modules"));
  const ratio = cli.bytes / wrangler.bytes;
  console.log(`published to ${registry.url}: ${[...needed].join(", ")} (workspace builds)`);
  console.log("install size (apparent bytes of every installed file)");
  console.log(
    `  npm i wrangler@${wranglerVersion} (baseline)   ${mb(wrangler.bytes).padStart(9)}  ${wrangler.files} files`,
  );
  console.log(
    `  npm i -g @lego/cli               ${mb(cli.bytes).padStart(9)}  ${cli.files} files   ratio ${ratio.toFixed(3)}x  (target <= ${TARGET}x) ${ratio <= TARGET ? "ok" : "OVER"}`,
  );
  console.log(`  the CLI's extra over wrangler: ${mb(cli.bytes - wrangler.bytes)}`);
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
