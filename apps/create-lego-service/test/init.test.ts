import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { scanPortfolio } from "@lego/discovery";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { initService } from "../src/index.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-init-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function files(dir: string, entries: Record<string, string>): Promise<string> {
  for (const [path, text] of Object.entries(entries)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const TOKEN = "tok_should_never_appear_anywhere_0123456789";

/** A Worker folder in the seed's style: wrangler.toml, plain JS, no domain config. */
const seedWorker = {
  "wrangler.toml": `name = "accounts"
main = "src/index.js"
compatibility_date = "2025-01-01"
account_id = "0123456789abcdef0123456789abcdef"

[env.staging]
routes = [{ pattern = "staging-accounts.example.com", custom_domain = true }]
services = [{ binding = "AUTH", service = "auth-service-staging" }]
secrets = { required = ["SESSION_KEY"] }
[env.staging.vars]
ENVIRONMENT = "staging"

[env.production]
routes = [{ pattern = "accounts.example.com/*", zone_name = "example.com" }]
services = [{ binding = "AUTH", service = "auth-service-production" }]
secrets = { required = ["SESSION_KEY"] }
[env.production.vars]
ENVIRONMENT = "production"
`,
  "src/index.js": "export default { fetch() { return new Response('ok'); } };\n",
  ".dev.vars": "SESSION_KEY=local-only\n",
};

/** A folder with only the seed's plain domains.js. */
const seedDomains = {
  "src/config/domains.js": `export const domains = {
  billing: {
    name: "billing",
    accountId: "0123456789abcdef0123456789abcdef",
    domains: { production: "billing.example.com", staging: "staging-billing.example.com" },
    features: { invoices: true },
    environments: { staging: { vars: { LOG_LEVEL: "debug" } } },
    secrets: { required: ["STRIPE_KEY"] },
  },
};
`,
  "src/worker/index.ts": "export default { fetch: () => new Response('ok') };\n",
};

describe("initService", () => {
  it("writes the domain config a wrangler.toml implies, and discovery reads it back", async () => {
    const dir = await files(join(root, "services/accounts"), seedWorker);
    const result = await initService({ dir, cwd: root, env: { CLOUDFLARE_API_TOKEN: TOKEN } });
    expect(result.action).toBe("generate");
    expect(result.read).toEqual(["wrangler.toml"]);
    expect(result.written).toEqual(["src/config/domains.js"]);
    const text = await readFile(join(dir, "src/config/domains.js"), "utf8");
    expect(text).not.toContain("@lego/runtime");

    const portfolio = await scanPortfolio({ root, cache: false });
    const service = portfolio.services[0]!;
    expect(service.domainConfigFile).toBe("services/accounts/src/config/domains.js");
    expect(service.domainConfig).toMatchObject({
      name: "accounts",
      accountId: "0123456789abcdef0123456789abcdef",
      domains: { staging: "staging-accounts.example.com", production: "accounts.example.com" },
      dependsOn: ["auth-service"],
      secrets: { required: ["SESSION_KEY"] },
    });

    expect(result.variables).toContainEqual(
      expect.objectContaining({ name: "CLOUDFLARE_API_TOKEN", kind: "deploy", set: true }),
    );
    expect(result.variables).toContainEqual(
      expect.objectContaining({
        name: "CLOUDFLARE_ACCOUNT_ID",
        set: true,
        where: "the configs (accountId / account_id)",
      }),
    );
    expect(result.variables).toContainEqual({
      name: "SESSION_KEY",
      kind: "secret",
      where: ".dev.vars (wrangler dev)",
      set: true,
    });
    expect(result.nextSteps).toContain("wrangler secret put SESSION_KEY --env production");
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    expect(JSON.stringify(result)).not.toContain("local-only");

    // Run again: both configs now exist and agree, so nothing is written.
    const again = await initService({ dir, cwd: root, env: {} });
    expect(again.action).toBe("check");
    expect(again.written).toEqual([]);
  });

  it("writes a wrangler.jsonc from the seed's plain domains.js", async () => {
    const dir = await files(join(root, "services/billing"), seedDomains);
    const result = await initService({ dir, cwd: root, env: {} });
    expect(result.written).toEqual(["wrangler.jsonc"]);
    const portfolio = await scanPortfolio({ root, cache: false });
    const service = portfolio.services[0]!;
    expect(service.wranglerName).toBe("billing");
    expect(service.environments.staging).toMatchObject({
      wranglerEnv: "staging",
      scriptName: "billing-staging",
      hostnames: ["staging-billing.example.com"],
    });
    const config = JSON.parse(
      (await readFile(join(dir, "wrangler.jsonc"), "utf8")).replace(/^\/\/.*$/gm, ""),
    );
    expect(config).toMatchObject({
      main: "src/worker/index.ts",
      account_id: "0123456789abcdef0123456789abcdef",
      env: { staging: { vars: { ENVIRONMENT: "staging", LOG_LEVEL: "debug" } } },
    });
    expect(result.variables.filter((v) => v.name === "STRIPE_KEY").map((v) => v.where)).toEqual([
      "wrangler secret put STRIPE_KEY --env production",
      "wrangler secret put STRIPE_KEY --env staging",
      ".dev.vars (wrangler dev)",
    ]);
    expect(result.variables).toContainEqual(
      expect.objectContaining({ name: "CLOUDFLARE_API_TOKEN", set: false }),
    );
  });

  it("refuses to settle a disagreement silently (exit 4), and regenerates only with --force --from", async () => {
    const dir = await files(join(root, "svc"), {
      ...seedDomains,
      "wrangler.jsonc": JSON.stringify({
        name: "billing",
        main: "src/worker/index.ts",
        env: {
          staging: { routes: [{ pattern: "staging-billing.example.com", custom_domain: true }] },
          production: { routes: [{ pattern: "pay.example.com", custom_domain: true }] },
        },
      }),
    });
    const before = await readFile(join(dir, "src/config/domains.js"), "utf8");
    await expect(initService({ dir, cwd: root, env: {} })).rejects.toMatchObject({
      code: "ERR_INIT_CONFIG_MISMATCH",
      exitCode: 4,
      message: expect.stringContaining("production: the domain config says billing.example.com"),
    });
    await expect(initService({ dir, cwd: root, env: {}, from: "wrangler" })).rejects.toMatchObject({
      code: "ERR_INIT_FILE_EXISTS",
      exitCode: 4,
    });
    await expect(initService({ dir, cwd: root, env: {}, force: true })).rejects.toMatchObject({
      code: "ERR_INIT_FILE_EXISTS",
      exitCode: 2,
    });
    expect(await readFile(join(dir, "src/config/domains.js"), "utf8")).toBe(before);

    const result = await initService({ dir, cwd: root, env: {}, force: true, from: "wrangler" });
    expect(result).toMatchObject({ action: "regenerate", written: ["src/config/domains.js"] });
    expect(await readFile(join(dir, "src/config/domains.js"), "utf8")).toContain(
      'production: "pay.example.com"',
    );
    expect((await initService({ dir, cwd: root, env: {} })).action).toBe("check");
  });

  it("an environment whose hostname no route serves is a disagreement, as lego validate says", async () => {
    const dir = await files(join(root, "svc"), {
      ...seedDomains,
      "wrangler.jsonc": JSON.stringify({
        name: "billing",
        main: "src/worker/index.ts",
        env: {
          staging: { routes: [{ pattern: "staging-billing.example.com", custom_domain: true }] },
          production: {},
        },
      }),
    });
    await expect(initService({ dir, cwd: root, env: {} })).rejects.toMatchObject({
      code: "ERR_INIT_CONFIG_MISMATCH",
      exitCode: 4,
      message: expect.stringContaining(
        "production: the domain config says billing.example.com, wrangler.jsonc has no route or custom domain for it",
      ),
    });
  });

  it("reads the top level as production beside [env.staging], as discovery does", async () => {
    const dir = await files(join(root, "services/auth"), {
      "wrangler.toml": `name = "auth"
main = "src/index.js"
compatibility_date = "2025-01-01"
routes = [{ pattern = "auth.example.com", custom_domain = true }]

[env.staging]
routes = [{ pattern = "staging-auth.example.com", custom_domain = true }]
`,
      "src/index.js": "export default { fetch() { return new Response('ok'); } };\n",
    });
    const result = await initService({ dir, cwd: root, env: {} });
    expect(result.written).toEqual(["src/config/domains.js"]);
    const portfolio = await scanPortfolio({ root, cache: false });
    expect(portfolio.services[0]!.domainConfig?.domains).toEqual({
      production: "auth.example.com",
      staging: "staging-auth.example.com",
    });
    expect(portfolio.services[0]!.environmentNames.sort()).toEqual(["production", "staging"]);
    const again = await initService({ dir, cwd: root, env: {} });
    expect(again.action).toBe("check");
    expect(again.written).toEqual([]);
  });

  it("needs a hostname when the wrangler config has no routes, and takes one from --domain", async () => {
    const dir = await files(join(root, "plain"), {
      "wrangler.jsonc":
        '{ "name": "plain", "main": "src/index.ts", "env": { "staging": {}, "production": {} } }',
      "src/index.ts": "export default {};\n",
      "package.json": '{ "dependencies": { "@lego/runtime": "^0.1.0" } }',
    });
    await expect(initService({ dir, cwd: root, env: {} })).rejects.toMatchObject({
      code: "ERR_INIT_NOTHING_TO_READ",
      exitCode: 2,
      hint: expect.stringContaining("--domain"),
    });
    const result = await initService({ dir, cwd: root, env: {}, domain: "plain.example.com" });
    const text = await readFile(join(dir, "src/config/domains.ts"), "utf8");
    expect(text).toContain('import { defineDomains } from "@lego/runtime";');
    expect(text).toContain('staging: "staging-plain.example.com"');
    expect(result.written).toEqual(["src/config/domains.ts"]);
  });

  it("warns when a required secret is set as a plain var", async () => {
    const dir = await files(join(root, "leaky"), {
      "wrangler.jsonc": JSON.stringify({
        name: "leaky",
        main: "src/index.ts",
        secrets: { required: ["API_KEY"] },
        vars: { API_KEY: "oops" },
        routes: [{ pattern: "leaky.example.com", custom_domain: true }],
      }),
    });
    const result = await initService({ dir, cwd: root, env: {} });
    expect(result.warnings.join("\n")).toContain(
      "API_KEY is a required secret but wrangler.jsonc sets it as a plain var",
    );
    expect(JSON.stringify(result)).not.toContain("oops");
  });

  it("exits 2 in a folder without configs, and scaffolds an empty one given --type", async () => {
    const dir = await files(join(root, "random"), { "notes.txt": "hello" });
    await expect(initService({ dir, cwd: root, env: {} })).rejects.toMatchObject({
      code: "ERR_INIT_NOTHING_TO_READ",
      exitCode: 2,
    });
    await expect(initService({ dir, cwd: root, env: {}, type: "static-site" })).rejects.toMatchObject({
      code: "ERR_SCAFFOLD_DIR_NOT_EMPTY",
      exitCode: 2,
    });
    expect(await readdir(dir)).toEqual(["notes.txt"]);
    const created = await initService({ dir: "my-service", cwd: root, env: {}, type: "api-gateway" });
    expect(created.action).toBe("scaffold");
    expect(created.written).toContain("wrangler.jsonc");
    expect((await initService({ dir: "my-service", cwd: root, env: {} })).action).toBe("check");
  });

  it("names the file and key of a malformed wrangler config (exit 2)", async () => {
    const dir = await files(join(root, "bad"), {
      "wrangler.jsonc": '{ "name": "bad", "env": { "staging": { "routes": 5 } } }',
    });
    await expect(initService({ dir, cwd: root, env: {} })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/^wrangler\.jsonc: env\.staging\.routes/),
    });
  });
});
