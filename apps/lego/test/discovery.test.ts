// lego list / discover / validate, in-process against portfolios in temp dirs and a local stand-in
// for the Cloudflare API (until @lego/emulator's local cloud can serve these tests).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { createScriptedPrompter } from "@lego/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  ACCOUNT_ID,
  type FakeCloudflare,
  startFakeCloudflare,
} from "../../../packages/discovery/test/fake-cloudflare.ts";
import { SEED_PORTFOLIO } from "../../../packages/discovery/test/helpers.ts";
import { oneJson, run } from "./helpers.ts";

const dirs: string[] = [];
let fake: FakeCloudflare | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function portfolio(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "lego-cli-discovery-"));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  }
  return root;
}

function cloudEnv(f: FakeCloudflare, root: string): Record<string, string> {
  return {
    CLOUDFLARE_API_TOKEN: "cli-test-token-123",
    CLOUDFLARE_API_BASE_URL: f.baseURL,
    CLOUDFLARE_ACCOUNT_ID: ACCOUNT_ID,
    LEGO_HOME: join(root, ".lego-home"),
    PATH: process.env.PATH ?? "",
  };
}

describe("lego list", () => {
  it("--json lists a seed-format portfolio's services from their parsed configs", async () => {
    const root = await portfolio(SEED_PORTFOLIO);
    const out = await run(["list", "--json", "--root", root]);
    expect(out.exitCode).toBe(0);
    const doc = oneJson(out.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.data.services.map((s: { name: string }) => s.name)).toEqual(["api-gateway", "data-service"]);
    expect(doc.data.order).toEqual(["data-service", "api-gateway"]);
    expect(doc.data.services[1].environments.staging).toMatchObject({
      scriptName: "data-service-staging",
      hostnames: ["staging-data.greatidude.com"],
    });
    expect(doc.data.cache.cache).toBe("miss");
    // Warm: served from .lego/cache.
    const warm = oneJson((await run(["list", "--json", "--root", root])).stdout);
    expect(warm.data.cache).toEqual({ cache: "hit", rescanned: 0 });
    expect(warm.data.services).toEqual(doc.data.services);
    expect(
      oneJson((await run(["list", "--json", "--refresh", "--root", root])).stdout).data.cache.cache,
    ).toBe("miss");
  });

  it("prints a table, filtered by --env", async () => {
    const root = await portfolio(SEED_PORTFOLIO);
    const out = await run(["list", "--env", "staging", "--root", root]);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/^SERVICE\s+ENV\s+HOSTNAME\s+WORKER\s+FOLDER$/m);
    expect(out.stdout).toMatch(
      /^data-service\s+staging\s+staging-data\.greatidude\.com\s+data-service-staging\s+services\/data-service$/m,
    );
    expect(out.stdout).not.toContain("production");
  });

  it("a malformed config is exit 2 naming the file and key, without a stack", async () => {
    const root = await portfolio({
      ...SEED_PORTFOLIO,
      "services/data-service/wrangler.toml": `name = "data-service"\n[[env.staging.d1_databases]]\nbinding = 7\ndatabase_name = "x"\n`,
    });
    const out = await run(["list", "--json", "--root", root]);
    expect(out.exitCode).toBe(2);
    const doc = oneJson(out.stdout);
    expect(doc.error.code).toBe("ERR_CONFIG_INVALID");
    expect(doc.error.message).toBe(
      "services/data-service/wrangler.toml: env.staging.d1_databases[0].binding: must be a non-empty string, got number 7",
    );
    const human = await run(["list", "--root", root]);
    expect(human.exitCode).toBe(2);
    expect(human.stderr).toContain(
      "services/data-service/wrangler.toml: env.staging.d1_databases[0].binding",
    );
    expect(human.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });
});

describe("lego discover", () => {
  it("<hostname> --json --no-account returns the service the hostname belongs to, never one that merely mentions it", async () => {
    const root = await portfolio(SEED_PORTFOLIO);
    const out = await run(["discover", "api.greatidude.com", "--json", "--no-account", "--root", root]);
    expect(out.exitCode).toBe(0);
    const doc = oneJson(out.stdout);
    expect(doc.data.service.name).toBe("api-gateway");
    expect(doc.data.matchedBy).toBe("hostname");
    expect(doc.data.environments.map((e: { name: string }) => e.name)).toEqual(["production"]);
    expect(doc.data.account).toBeUndefined();
  });

  it("<hostname> --json asks the account for zones, Workers and D1, degrading a refused step to a warning", async () => {
    const root = await portfolio(SEED_PORTFOLIO);
    fake = await startFakeCloudflare(
      {
        accounts: [{ id: ACCOUNT_ID, name: "Acme" }],
        zones: [{ id: "zone1", name: "greatidude.com", accountId: ACCOUNT_ID }],
        d1: [],
        scripts: [
          {
            id: "data-service-staging",
            deployments: [
              {
                id: "d1",
                created_on: "2026-11-01T00:00:00Z",
                versions: [{ version_id: "v1", percentage: 100 }],
              },
            ],
          },
        ],
      },
      { [`GET /accounts/${ACCOUNT_ID}/d1/database`]: 403 },
    );
    const out = await run(["discover", "staging-data.greatidude.com", "--json", "--root", root], {
      env: cloudEnv(fake, root),
    });
    expect(out.exitCode).toBe(0);
    const doc = oneJson(out.stdout);
    const [staging] = doc.data.environments;
    expect(staging).toMatchObject({
      name: "staging",
      scriptName: "data-service-staging",
      deployed: true,
      deployment: { id: "d1" },
      zones: [{ hostname: "staging-data.greatidude.com", zone: "greatidude.com", zoneId: "zone1" }],
    });
    expect(staging.d1[0].exists).toBeUndefined();
    expect(doc.data.account.warnings).toEqual([
      expect.objectContaining({ step: "d1", permission: "Account · D1 · Read" }),
    ]);
    expect(out.stdout + out.stderr).not.toContain("cli-test-token-123");
  });

  it("without an argument: exit 2 with a hint off a terminal, a pick on one", async () => {
    const root = await portfolio(SEED_PORTFOLIO);
    const off = await run(["discover", "--no-account", "--root", root]);
    expect(off.exitCode).toBe(2);
    expect(off.stderr).toContain("<service>");
    const on = await run(["discover", "--no-account", "--root", root], {
      isTTY: true,
      prompter: createScriptedPrompter(["data-service"]),
    });
    expect(on.exitCode).toBe(0);
    expect(stripVTControlCharacters(on.stdout)).toContain(
      "data-service (Data Service)  services/data-service",
    );
  });

  it("an unknown argument is exit 2 suggesting close names", async () => {
    const root = await portfolio(SEED_PORTFOLIO);
    const out = await run(["discover", "data-servce", "--json", "--no-account", "--root", root]);
    expect(out.exitCode).toBe(2);
    const doc = oneJson(out.stdout);
    expect(doc.error.code).toBe("ERR_SERVICE_NOT_FOUND");
    expect(doc.error.hint).toContain('"data-service"');
  });
});

describe("lego validate", () => {
  it("--level standard reports a missing bound service by name and key (exit 2: a config error)", async () => {
    const root = await portfolio(SEED_PORTFOLIO);
    fake = await startFakeCloudflare({
      accounts: [{ id: ACCOUNT_ID, name: "Acme" }],
      zones: [{ id: "zone1", name: "greatidude.com", accountId: ACCOUNT_ID }],
      d1: [],
      scripts: [{ id: "data-service" }],
    });
    const out = await run(
      ["validate", "staging-api.greatidude.com", "--level", "standard", "--json", "--root", root],
      {
        env: cloudEnv(fake, root),
      },
    );
    expect(out.exitCode).toBe(2);
    const doc = oneJson(out.stdout);
    expect(doc.error.code).toBe("ERR_VALIDATION_FAILED");
    expect(doc.error.message).toContain(
      "services/api-gateway/wrangler.toml: env.staging.services[0].service",
    );
    expect(doc.error.message).toContain(
      'api-gateway (staging) binds DATA to the Worker "data-service-staging", which is not deployed',
    );
    expect(doc.error.hint).toContain("Deploy data-service to staging first");

    const prod = await run(["validate", "api-gateway", "--env", "production", "--root", root], {
      env: cloudEnv(fake, root),
    });
    expect(prod.exitCode).toBe(0);
    expect(prod.stdout).toContain("DATA -> data-service: the Worker exists");
    expect(prod.stdout).toMatch(/standard validation: 0 errors/);
  });

  it("without an argument: exit 2 with a hint off a terminal, a pick on one; --all takes every service", async () => {
    const root = await portfolio(SEED_PORTFOLIO);
    const off = await run(["validate", "--level", "basic", "--root", root]);
    expect(off.exitCode).toBe(2);
    expect(off.stderr).toContain("<service> (or --all)");
    const on = await run(["validate", "--level", "basic", "--root", root], {
      isTTY: true,
      prompter: createScriptedPrompter(["data-service"]),
    });
    expect(on.exitCode, on.stderr).toBe(0);
    expect(stripVTControlCharacters(on.stdout)).toContain("data-service");
    expect(on.stdout).not.toContain("api-gateway");
    const all = await run(["validate", "--all", "--level", "basic", "--json", "--root", root]);
    expect(all.exitCode, all.stderr).toBe(0);
    const services = oneJson(all.stdout).data.checks.map((c: { service?: string }) => c.service);
    expect(new Set(services.filter(Boolean))).toEqual(new Set(["api-gateway", "data-service"]));
  });

  it("--level basic needs no token and fails a config disagreement with exit 2", async () => {
    const root = await portfolio({
      ...SEED_PORTFOLIO,
      "services/api-gateway/wrangler.toml": `name = "api-gateway"\nmain = "src/worker/index.js"\ncompatibility_date = "2025-09-01"\nroutes = [{ pattern = "api.greatidude.com", custom_domain = true }]\n`,
    });
    const out = await run(["validate", "api-gateway", "--level", "basic", "--root", root]);
    expect(out.exitCode).toBe(2);
    expect(out.stdout).toContain("[config.wrangler-env]");
    expect(out.stderr).toContain("has no env.staging section");
  });
});
