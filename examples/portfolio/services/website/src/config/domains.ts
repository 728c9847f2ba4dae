import { defineDomains } from "@lego/runtime";

/**
 * The domain config of website: one hostname per deployed environment, feature flags (defaults, then
 * per-environment values), the services it needs first, what every deploy tests, and the secrets it needs.
 * `lego` reads and validates this file before it deploys; the Worker reads it through initializeService.
 */
export const domains = defineDomains({
  website: {
    name: "website",
    displayName: "Website",
    domains: {
      staging: "staging-www.example.com",
      production: "www.example.com",
    },
    features: {
      betaPreview: false,
    },
    environments: {
      development: {
        features: {
          betaPreview: true,
        },
      },
      staging: {
        features: {
          betaPreview: true,
        },
      },
    },
    dependsOn: [],
    tests: {
      health: {
        path: "/health",
        expectStatus: 200,
        expectJson: {
          ok: true,
          service: "website",
        },
      },
    },
    secrets: {
      required: [],
    },
  },
});
