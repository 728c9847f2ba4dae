// A private copy of the built `lego` CLI (apps/lego/dist) for a long bench: a rebuild of the working tree
// during the bench (tsup empties dist/ first) would otherwise pull the CLI from under a run. The copy keeps
// the CLI's package.json next to it and reaches its dependencies through a link to apps/lego/node_modules,
// so it resolves exactly what the built CLI resolves.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Newest modification time in a folder (not recursive past one level), or 0. */
function newest(dir) {
  let latest = 0;
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
    latest = Math.max(latest, statSync(join(dir, entry)).mtimeMs);
  }
  return latest;
}

/**
 * Waits (up to `waitMs`) for `<appDir>/dist/bin.js` to exist and `dist/` to have been quiet for 3 s, copies
 * it into a temporary folder and checks the copy answers `--version`. Returns `{ bin, dispose }`.
 */
export async function snapshotCli(appDir, { waitMs = 180_000, env = process.env } = {}) {
  const dist = join(appDir, "dist");
  const deadline = Date.now() + waitMs;
  let lastError;
  while (Date.now() < deadline) {
    if (!existsSync(join(dist, "bin.js")) || Date.now() - newest(dist) < 3_000) {
      await sleep(1_000);
      continue;
    }
    const dir = await mkdtemp(join(tmpdir(), "lego-bench-cli-"));
    const dispose = () => rm(dir, { recursive: true, force: true });
    try {
      await cp(dist, join(dir, "dist"), { recursive: true });
      await cp(join(appDir, "package.json"), join(dir, "package.json"));
      await symlink(join(appDir, "node_modules"), join(dir, "node_modules"), "dir");
      const bin = join(dir, "dist", "bin.js");
      await exec(process.execPath, [bin, "--version"], { env });
      await exec(process.execPath, [bin, "deploy", "--help"], { env });
      return { bin, dispose };
    } catch (error) {
      lastError = error;
      await dispose();
      await sleep(2_000);
    }
  }
  throw new Error(
    `the built CLI in ${dist} did not settle within ${waitMs / 1000} s: ${lastError?.message ?? "no dist/bin.js"}`,
  );
}
