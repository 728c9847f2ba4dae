import { defineDomains } from "@lego/runtime";

/**
 * The domain config of api-gateway: one hostname per deployed environment, feature flags (defaults, then
 * per-environment values), the services it needs first, what every deploy tests, and the secrets it needs.
 * `lego` reads and validates this file before it deploys; the Worker reads it through initializeService.
 */
export const domains = defineDomains({
  "api-gateway": {
    name: "api-gateway",
    displayName: "Api Gateway",
    domains: {
      staging: "staging-api.example.com",
      production: "api.example.com",
    },
    features: {
      authProxy: true,
      dataProxy: true,
    },
    environments: {
      development: {},
    },
    dependsOn: ["auth-service", "data-service"],
    tests: {
      health: {
        path: "/health",
        expectStatus: 200,
        expectJson: {
          ok: true,
          service: "api-gateway",
        },
      },
    },
    secrets: {
      required: [],
    },
  },
});
