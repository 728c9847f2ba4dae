// A generated portfolio (bench/portfolio/generate.mjs) and a local cloud with the real wrangler, for
// tests that deploy through @lego/orchestration. The caller disposes it in afterAll.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Cloud, openCloud } from "@lego/cloudflare";
import { type LocalCloud, startLocalCloud } from "@lego/emulator";
// @ts-expect-error: plain ESM without types, shared with the orchestration bench.
import { generatePortfolio } from "../../../bench/portfolio/generate.mjs";

export interface PortfolioCloud {
  /** The generated portfolio's folder. */
  root: string;
  local: LocalCloud;
  cloud: Cloud;
  dispose(): Promise<void>;
}

/** Generates `services` services in `levels` dependency levels and opens a local cloud for them. */
export async function portfolioOnLocalCloud(
  prefix: string,
  shape: { services: number; levels: number },
): Promise<PortfolioCloud> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const root = join(dir, "portfolio");
  await generatePortfolio(root, shape);
  const local = await startLocalCloud({ stateDir: join(dir, "cloud"), zones: ["example.com"] });
  const cloud = openCloud({
    target: {
      kind: "local",
      apiBaseUrl: local.apiBaseUrl,
      token: local.token,
      accountId: local.accountId,
      reason: "test",
      description: "test",
      workersUrlPattern: local.workersUrlPattern,
      tokenSource: "local",
    },
    cwd: root,
    stateDir: join(dir, "wrangler"),
    baseEnv: { PATH: process.env.PATH, HOME: dir },
  });
  return {
    root,
    local,
    cloud,
    dispose: async () => {
      await cloud.dispose();
      await local.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
