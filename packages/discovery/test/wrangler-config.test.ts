import { describe, expect, it } from "vitest";
import { hostnameOfPattern, parseWranglerConfig } from "../src/index.ts";
import { thrown } from "./helpers.ts";

describe("parseWranglerConfig", () => {
  it("applies wrangler's environment rules: routes inherited, bindings not, script name <name>-<env>", () => {
    const result = parseWranglerConfig(
      `name = "api"
main = "src/index.ts"
account_id = "0123456789abcdef0123456789abcdef"
routes = ["api.example.com/*"]
services = [{ binding = "AUTH", service = "auth" }]
secrets = { required = ["TOP"] }

[[d1_databases]]
binding = "DB"
database_name = "api-db"
database_id = "id-1"

[env.staging]
services = [{ binding = "AUTH", service = "auth-staging" }]

[env.qa]
name = "api-quality"
routes = [{ pattern = "qa.example.com", custom_domain = true }]
`,
      "services/api/wrangler.toml",
    );
    expect(result.ok).toBe(true);
    const config = result.config!;
    expect(config.name).toBe("api");
    expect(config.envNames).toEqual(["staging", "qa"]);
    expect(config.topLevel).toMatchObject({
      wranglerEnv: "",
      scriptName: "api",
      workersDev: false,
      d1Databases: [
        { binding: "DB", databaseName: "api-db", databaseId: "id-1", migrationsDir: "migrations" },
      ],
      secretsRequired: ["TOP"],
    });
    const staging = config.environments.staging!;
    expect(staging.scriptName).toBe("api-staging");
    expect(staging.routes.map((r) => r.hostname)).toEqual(["api.example.com"]);
    expect(staging.d1Databases).toEqual([]);
    expect(staging.secretsRequired).toEqual([]);
    expect(staging.serviceBindings).toEqual([{ binding: "AUTH", service: "auth-staging" }]);
    expect(staging.accountId).toBe("0123456789abcdef0123456789abcdef");
    const qa = config.environments.qa!;
    expect(qa.scriptName).toBe("api-quality");
    expect(qa.routes).toEqual([
      { pattern: "qa.example.com", hostname: "qa.example.com", customDomain: true },
    ]);
    expect(qa.serviceBindings).toEqual([]);
  });

  it("reads JSONC with comments and trailing commas", () => {
    const result = parseWranglerConfig(
      `{
  // a comment mentioning other.example.com
  "name": "web",
  "route": { "pattern": "www.example.com/*", "zone_name": "example.com" },
}`,
      "wrangler.jsonc",
    );
    expect(result.config?.topLevel.routes).toEqual([
      {
        pattern: "www.example.com/*",
        hostname: "www.example.com",
        customDomain: false,
        zoneName: "example.com",
        zoneId: undefined,
      },
    ]);
    expect(result.config?.topLevel.workersDev).toBe(false);
  });

  it("names the file and key path of every shape problem", () => {
    const result = parseWranglerConfig(
      `name = "api"
[env.staging]
routes = [42, { custom_domain = true }]
d1_databases = [{ binding = "DB" }]
services = "auth"
`,
      "services/api/wrangler.toml",
    );
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.objectContaining({ file: "services/api/wrangler.toml", keyPath: "env.staging.routes[0]" }),
      {
        file: "services/api/wrangler.toml",
        keyPath: "env.staging.routes[1].pattern",
        message: "is required",
      },
      {
        file: "services/api/wrangler.toml",
        keyPath: "env.staging.d1_databases[0].database_name",
        message: "is required",
      },
      expect.objectContaining({
        keyPath: "env.staging.services",
        message: expect.stringContaining("must be an array"),
      }),
    ]);
  });

  it("requires a name, as wrangler does", () => {
    const result = parseWranglerConfig(`main = "x.js"`, "wrangler.toml");
    expect(result.problems).toEqual([{ file: "wrangler.toml", keyPath: "name", message: "is required" }]);
  });

  it("reports syntax errors with file, line and column as exit 2", async () => {
    const toml = await thrown(() =>
      parseWranglerConfig(`name = "api"\nroutes = [\n`, "services/api/wrangler.toml"),
    );
    expect(toml.code).toBe("ERR_CONFIG_PARSE");
    expect(toml.exitCode).toBe(2);
    expect(toml.message).toMatch(/^services\/api\/wrangler\.toml:\d+:\d+: invalid TOML/);
    const json = await thrown(() =>
      parseWranglerConfig(`{\n  "name": "api"\n  "main": "x"\n}`, "svc/wrangler.json"),
    );
    expect(json.message).toBe("svc/wrangler.json:3:3: invalid JSON: CommaExpected");
    expect(json.stack).toBeDefined();
  });
});

describe("hostnameOfPattern", () => {
  it("takes the host of a route pattern", () => {
    expect(hostnameOfPattern("api.example.com/*")).toBe("api.example.com");
    expect(hostnameOfPattern("https://API.Example.com:443/v1/*")).toBe("api.example.com");
    expect(hostnameOfPattern("*.example.com/*")).toBe("*.example.com");
    expect(hostnameOfPattern("example.com")).toBe("example.com");
  });
});
