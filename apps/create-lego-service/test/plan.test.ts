import { isLegoError } from "@lego/core";
import { validateDomains } from "@lego/runtime";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RUNTIME_VERSION,
  deriveHostname,
  planScaffold,
  type ScaffoldOptions,
  SERVICE_TYPES,
  type ServiceType,
} from "../src/index.ts";
import { domainConfigOf, toLiteral } from "../src/templates/config.ts";
import { toJson } from "../src/templates/json.ts";
import { markdownTable } from "../src/templates/readme.ts";

const base = (type: ServiceType, extra: Partial<ScaffoldOptions> = {}): ScaffoldOptions => ({
  name: type,
  type,
  dir: `services/${type}`,
  domain: `${type.split("-")[0]}.example.com`,
  ...extra,
});

/** The plan's files with the one value that changes between releases (the runtime version) normalised. */
function normalised(type: ServiceType): Record<string, string> {
  const plan = planScaffold(base(type));
  return Object.fromEntries(
    plan.files.map((f) => [f.path, f.contents.replaceAll(DEFAULT_RUNTIME_VERSION, "^<runtime-version>")]),
  );
}

/** wrangler.jsonc as written: JSON after a header of line comments. */
const parse = (jsonc: string) => JSON.parse(jsonc.replace(/^\/\/.*$/gm, ""));

function usageError(fn: () => unknown): { code: string; message: string; hint?: string; exitCode: number } {
  try {
    fn();
  } catch (error) {
    if (isLegoError(error)) return error;
    throw error;
  }
  throw new Error("expected a LegoError");
}

describe("planScaffold", () => {
  it.each(SERVICE_TYPES)("plans a complete %s (snapshot)", (type) => {
    expect(normalised(type)).toMatchSnapshot();
  });

  it("writes only the files each type needs", () => {
    const paths = (type: ServiceType) => planScaffold(base(type)).files.map((f) => f.path);
    const common = [
      ".gitignore",
      "README.md",
      "package.json",
      "src/config/domains.ts",
      "src/config/features.ts",
      "src/worker/env.d.ts",
      "src/worker/http.ts",
      "src/worker/index.ts",
      "test/worker.test.ts",
      "tsconfig.json",
      "vitest.config.ts",
      "wrangler.jsonc",
    ];
    expect(paths("data-service")).toEqual(
      [
        ...common,
        "migrations/0001_init.sql",
        "src/worker/notes.ts",
        "test/apply-migrations.ts",
        "test/env.d.ts",
      ].sort(),
    );
    expect(paths("auth-service")).toEqual([...common, ".dev.vars.example", "src/worker/tokens.ts"].sort());
    expect(paths("api-gateway")).toEqual([...common, "src/worker/proxy.ts"].sort());
    expect(paths("static-site")).toEqual([...common, "src/worker/page.ts"].sort());
  });

  it("is pure: the same options give the same plan", () => {
    expect(planScaffold(base("data-service"))).toEqual(planScaffold(base("data-service")));
  });

  it("writes a wrangler config with a custom domain, vars and bindings per environment", () => {
    const file = planScaffold(base("data-service")).files.find((f) => f.path === "wrangler.jsonc")!;
    const config = parse(file.contents);
    expect(config).toMatchObject({
      name: "data-service",
      main: "src/worker/index.ts",
      compatibility_date: "2025-09-01",
      vars: { ENVIRONMENT: "development", SERVICE_VERSION: "0.1.0" },
      version_metadata: { binding: "CF_VERSION_METADATA" },
      d1_databases: [
        { binding: "DB", database_name: "data-service-db-development", migrations_dir: "migrations" },
      ],
    });
    expect(Object.keys(config.env)).toEqual(["staging", "production"]);
    expect(config.env.staging).toEqual({
      vars: { ENVIRONMENT: "staging", SERVICE_VERSION: "0.1.0" },
      version_metadata: { binding: "CF_VERSION_METADATA" },
      d1_databases: [
        { binding: "DB", database_name: "data-service-db-staging", migrations_dir: "migrations" },
      ],
      routes: [{ pattern: "staging-data.example.com", custom_domain: true }],
    });
    expect(config.env.production.routes).toEqual([{ pattern: "data.example.com", custom_domain: true }]);
    expect(config.env.production.d1_databases[0].database_name).toBe("data-service-db");
  });

  it.each(SERVICE_TYPES)(
    "binds %s's version metadata in every section and reports its id on /health",
    (type) => {
      const plan = planScaffold(base(type));
      const config = parse(plan.files.find((f) => f.path === "wrangler.jsonc")!.contents);
      // Wrangler does not inherit bindings into environments: without it there, /health of a deployed
      // Worker reports no version id and `lego deploy` cannot tell the new version from the old one.
      for (const section of [config, ...Object.values(config.env as Record<string, typeof config>)]) {
        expect(section.version_metadata).toEqual({ binding: "CF_VERSION_METADATA" });
      }
      const worker = plan.files.find((f) => f.path === "src/worker/index.ts")!.contents;
      expect(worker).toContain("versionId: env.CF_VERSION_METADATA.id");
      const envTypes = plan.files.find((f) => f.path === "src/worker/env.d.ts")!.contents;
      expect(envTypes).toContain("CF_VERSION_METADATA: WorkerVersionMetadata;");
    },
  );

  it("binds the gateway to the auth and data services in each environment", () => {
    const plan = planScaffold(base("api-gateway", { authService: "login", dataService: "store" }));
    const config = parse(plan.files.find((f) => f.path === "wrangler.jsonc")!.contents);
    expect(config.services).toEqual([
      { binding: "AUTH", service: "login" },
      { binding: "DATA", service: "store" },
    ]);
    expect(config.env.staging.services).toEqual([
      { binding: "AUTH", service: "login-staging" },
      { binding: "DATA", service: "store-staging" },
    ]);
    expect(domainConfigOf(plan.options).dependsOn).toEqual(["login", "store"]);
  });

  it.each(SERVICE_TYPES)("writes a %s domain config that @lego/runtime's schema accepts", (type) => {
    const plan = planScaffold(base(type, { accountId: "a".repeat(32), zoneId: "b".repeat(32) }));
    const validated = validateDomains(
      { [type]: domainConfigOf(plan.options) },
      { file: "src/config/domains.ts" },
    );
    const config = validated[type]!;
    expect(config.domains).toEqual(plan.options.hostnames);
    expect(config.accountId).toBe("a".repeat(32));
    expect(config.tests.health).toMatchObject({ path: "/health", expectStatus: 200 });
    expect(Object.keys(config.environments)).toContain("development");
    expect(config.secrets.required).toEqual(type === "auth-service" ? ["JWT_SECRET"] : []);
    if (type === "auth-service") {
      expect(config.tests.auth?.protectedRoute).toMatchObject({
        path: "/me",
        unauthorizedStatus: [401, 403],
      });
    }
  });

  it("derives hostnames per environment and honours explicit ones", () => {
    expect(deriveHostname("api.example.com", "production")).toBe("api.example.com");
    expect(deriveHostname("api.example.com", "staging")).toBe("staging-api.example.com");
    const plan = planScaffold(
      base("static-site", {
        environments: ["preview", "staging", "production"],
        hostnames: { preview: "pr.example.net" },
      }),
    );
    expect(plan.environments).toEqual([
      { name: "preview", hostname: "pr.example.net", script: "static-site-preview" },
      { name: "staging", hostname: "staging-static.example.com", script: "static-site-staging" },
      { name: "production", hostname: "static.example.com", script: "static-site-production" },
    ]);
  });

  it("asks for @lego/runtime at ^ the version it is built with (the release sets it; scripts/release-test.mjs checks the published bin)", async () => {
    const { default: runtime } = await import("@lego/runtime/package.json", { with: { type: "json" } });
    expect(DEFAULT_RUNTIME_VERSION).toBe(`^${runtime.version}`);
  });

  it("defaults the domain, the environments and the runtime version", () => {
    const plan = planScaffold({ name: "notes", type: "data-service", dir: "notes" });
    expect(plan.environments.map((e) => [e.name, e.hostname])).toEqual([
      ["staging", "staging-notes.example.com"],
      ["production", "notes.example.com"],
    ]);
    const pkg = JSON.parse(plan.files.find((f) => f.path === "package.json")!.contents);
    expect(pkg.dependencies).toEqual({ "@lego/runtime": DEFAULT_RUNTIME_VERSION });
    expect(Object.keys(pkg.devDependencies).sort()).toEqual([
      "@cloudflare/vitest-plugin",
      "@cloudflare/workers-types",
      "typescript",
      "vitest",
      "wrangler",
    ]);
    expect(pkg.scripts["deploy:staging"]).toBe("wrangler deploy --env staging");
  });

  it("lists the secrets a type needs and the next steps in order", () => {
    const plan = planScaffold(base("auth-service"));
    expect(plan.secrets).toEqual(["JWT_SECRET"]);
    expect(plan.nextSteps).toEqual([
      "pnpm install",
      "pnpm test",
      "wrangler secret put JWT_SECRET --env staging",
      "lego deploy auth-service --env staging",
    ]);
    const devVars = plan.files.find((f) => f.path === ".dev.vars.example")!.contents;
    expect(devVars).toContain("JWT_SECRET=\n");
  });

  it.each([
    [{ name: "Bad_Name" }, "ERR_SCAFFOLD_NAME_INVALID", "<name>"],
    [{ type: "lambda" as ServiceType }, "ERR_SCAFFOLD_TYPE_INVALID", "--type"],
    [{ domain: "https://api.example.com" }, "ERR_SCAFFOLD_DOMAIN_INVALID", "--domain"],
    [{ domain: "localhost" }, "ERR_SCAFFOLD_DOMAIN_INVALID", "--domain"],
    [{ environments: ["staging", "staging"] }, "ERR_SCAFFOLD_ENV_INVALID", "--env"],
    [{ environments: ["development"] }, "ERR_SCAFFOLD_ENV_INVALID", "--env"],
    [{ environments: [] }, "ERR_SCAFFOLD_ENV_INVALID", "--env"],
    [{ hostnames: { qa: "qa.example.com" } }, "ERR_SCAFFOLD_ENV_INVALID", "--hostnames"],
    [{ hostnames: { staging: "data.example.com" } }, "ERR_SCAFFOLD_DOMAIN_INVALID", "two environments"],
    [{ accountId: "123" }, "ERR_SCAFFOLD_ID_INVALID", "--account-id"],
    [{ type: "api-gateway" as ServiceType, authService: "X" }, "ERR_SCAFFOLD_NAME_INVALID", "--auth-service"],
  ])("refuses %j with %s (exit 2) naming %s", (extra, code, named) => {
    const error = usageError(() => planScaffold(base("data-service", extra)));
    expect(error.code).toBe(code);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(named);
    expect(error.hint).toBeTruthy();
  });
});

describe("formatting helpers", () => {
  it("prints JSON and object literals the way the repo's formatter leaves them", () => {
    expect(toJson({ a: [1, 2], b: { c: "d" }, e: [] })).toBe(
      '{\n  "a": [1, 2],\n  "b": {\n    "c": "d"\n  },\n  "e": []\n}',
    );
    expect(toLiteral({ "my-key": { ok: true }, list: ["x"] })).toBe(
      '{\n  "my-key": {\n    ok: true,\n  },\n  list: ["x"],\n}',
    );
    expect(markdownTable(["a", "long header"], [["→x", "y"]])).toEqual([
      "| a   | long header |",
      "| --- | ----------- |",
      "| →x  | y           |",
    ]);
  });
});
