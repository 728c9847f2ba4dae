import { defineDomains } from "@lego/runtime";

/**
 * The domain config of data-service: one hostname per deployed environment, feature flags (defaults, then
 * per-environment values), the services it needs first, what every deploy tests, and the secrets it needs.
 * `lego` reads and validates this file before it deploys; the Worker reads it through initializeService.
 */
export const domains = defineDomains({
  "data-service": {
    name: "data-service",
    displayName: "Data Service",
    domains: {
      staging: "staging-data.example.com",
      production: "data.example.com",
    },
    features: {
      notesWrite: true,
    },
    environments: {
      development: {},
    },
    dependsOn: [],
    tests: {
      health: {
        path: "/health",
        expectStatus: 200,
        expectJson: {
          ok: true,
          service: "data-service",
        },
      },
    },
    secrets: {
      required: [],
    },
  },
});
