import { defineDomains } from "@lego/runtime";

/**
 * The domain config of inventory: one hostname per deployed environment, feature flags (defaults, then
 * per-environment values), the services it needs first, what every deploy tests, and the secrets it needs.
 * `lego` reads and validates this file before it deploys; the Worker reads it through initializeService.
 */
export const domains = defineDomains({
  inventory: {
    name: "inventory",
    displayName: "Inventory",
    domains: {
      staging: "staging-inventory.example.net",
      production: "inventory.example.net",
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
          service: "inventory",
        },
      },
    },
    secrets: {
      required: [],
    },
  },
});
