import {
  buildDependencyGraph,
  type Portfolio,
  type PortfolioService,
  type ServiceEnvironment,
} from "@lego/discovery";
import { describe, expect, it } from "vitest";
import { defaultCanaryOptions, defaultDeployOptions, planDeployment } from "../src/index.ts";

function env(name: string, over: Partial<ServiceEnvironment> = {}): ServiceEnvironment {
  return {
    name,
    wranglerEnv: name,
    scriptName: `svc-${name}`,
    hostname: undefined,
    hostnames: [],
    routes: [],
    workersDev: false,
    d1Databases: [],
    serviceBindings: [],
    secretsRequired: [],
    declaredBy: { domainConfig: true, wrangler: true },
    ...over,
  };
}

function service(
  name: string,
  environments: Record<string, ServiceEnvironment>,
  over: Partial<PortfolioService> = {},
): PortfolioService {
  return {
    name,
    path: `/p/services/${name}`,
    dir: `services/${name}`,
    wranglerConfigFile: `services/${name}/wrangler.jsonc`,
    wranglerName: name,
    environmentNames: Object.keys(environments),
    environments,
    dependsOn: [],
    features: {},
    secretsRequired: [],
    ...over,
  };
}

const gateway = service("api-gateway", {
  staging: env("staging", {
    scriptName: "api-gateway-staging",
    hostname: "staging-api.example.com",
    hostnames: ["staging-api.example.com"],
  }),
});
const auth = service("auth-service", {
  staging: env("staging", {
    scriptName: "auth-service-staging",
    hostnames: ["staging-auth.example.com"],
    secretsRequired: ["JWT_SECRET"],
  }),
});
const data = service("data-service", {
  staging: env("staging", {
    scriptName: "data-service-staging",
    hostnames: ["staging-data.example.com"],
    d1Databases: [
      {
        binding: "DB",
        databaseName: "data-staging",
        databaseId: undefined,
        migrationsDir: "migrations",
      } as never,
    ],
  }),
});
const portfolio: Portfolio = {
  root: "/p",
  patterns: ["services/*"],
  services: [gateway, auth, data],
  graph: buildDependencyGraph(
    ["api-gateway", "auth-service", "data-service"],
    [
      { from: "api-gateway", to: "auth-service", via: "binding", environment: "staging", binding: "AUTH" },
      { from: "api-gateway", to: "data-service", via: "binding", environment: "staging", binding: "DATA" },
    ],
  ),
  externalBindings: [],
  skipped: [],
  source: { cache: "off", rescanned: 0 },
};

describe("planDeployment", () => {
  it("orders services so dependencies deploy first, with each one's steps", () => {
    const plan = planDeployment(portfolio, [], { ...defaultDeployOptions, environment: "staging" });
    expect(plan.services.map((s) => s.service)).toEqual(["auth-service", "data-service", "api-gateway"]);
    const [authPlan, dataPlan, gatewayPlan] = plan.services;
    expect(authPlan?.steps).toEqual([
      "validate",
      "secrets",
      "rollback-point",
      "deploy",
      "wait-live",
      "tests",
    ]);
    expect(dataPlan?.steps).toEqual([
      "validate",
      "rollback-point",
      "build",
      "migrate",
      "deploy",
      "wait-live",
      "tests",
    ]);
    expect(dataPlan?.databases).toEqual(["data-staging"]);
    expect(gatewayPlan).toMatchObject({
      scriptName: "api-gateway-staging",
      wranglerEnv: "staging",
      primaryHostname: "staging-api.example.com",
      path: "/p/services/api-gateway",
    });
    expect(gatewayPlan?.tests.health).toEqual({ path: "/health", expectStatus: 200 });
  });

  it("--no-tests drops the test step; a subset keeps dependency order", () => {
    const plan = planDeployment(portfolio, ["api-gateway", "data-service"], {
      ...defaultDeployOptions,
      environment: "staging",
      tests: false,
    });
    expect(plan.services.map((s) => s.service)).toEqual(["data-service", "api-gateway"]);
    expect(plan.services[1]?.steps).not.toContain("tests");
  });

  it("a canary plan lists the upload, the pre-traffic tests and each traffic step with its bake", () => {
    const plan = planDeployment(portfolio, ["auth-service"], {
      ...defaultDeployOptions,
      environment: "staging",
      strategy: { kind: "canary", ...defaultCanaryOptions, steps: [10, 50, 100] },
    });
    expect(plan.services[0]?.steps).toEqual([
      "validate",
      "secrets",
      "rollback-point",
      "upload",
      "stage",
      "wait-live",
      "tests",
      "traffic 10%",
      "bake 10%",
      "traffic 50%",
      "bake 50%",
      "traffic 100%",
    ]);
  });

  it("names the service and the environments it has on a bad environment", () => {
    expect(() =>
      planDeployment(portfolio, ["auth-service"], { ...defaultDeployOptions, environment: "production" }),
    ).toThrowError(
      expect.objectContaining({
        code: "ERR_DEPLOY_UNKNOWN_ENVIRONMENT",
        exitCode: 2,
        hint: expect.stringContaining("staging"),
      }),
    );
  });

  it("an unknown service is exit 2 listing the services", () => {
    expect(() =>
      planDeployment(portfolio, ["nope"], { ...defaultDeployOptions, environment: "staging" }),
    ).toThrowError(
      expect.objectContaining({
        code: "ERR_DEPLOY_UNKNOWN_SERVICE",
        exitCode: 2,
        hint: expect.stringContaining("api-gateway, auth-service, data-service"),
      }),
    );
  });
});
