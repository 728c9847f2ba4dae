import { defineDomains } from "@lego/runtime";

/**
 * The domain config of auth-service: one hostname per deployed environment, feature flags (defaults, then
 * per-environment values), the services it needs first, what every deploy tests, and the secrets it needs.
 * `lego` reads and validates this file before it deploys; the Worker reads it through initializeService.
 */
export const domains = defineDomains({
  "auth-service": {
    name: "auth-service",
    displayName: "Auth Service",
    domains: {
      staging: "staging-auth.example.com",
      production: "auth.example.com",
    },
    features: {
      tokenIssuing: true,
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
          service: "auth-service",
        },
      },
      auth: {
        token: {
          login: {
            method: "POST",
            path: "/token",
            body: {
              subject: "lego-production-test",
            },
            token: {
              json: "token",
            },
          },
        },
        protectedRoute: {
          method: "GET",
          path: "/me",
          expectStatus: 200,
        },
      },
    },
    secrets: {
      required: ["JWT_SECRET"],
    },
  },
});
