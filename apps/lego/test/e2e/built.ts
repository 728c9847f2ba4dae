import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
export { registerLocalCloud } from "@lego/emulator";
