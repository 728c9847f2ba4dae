import { createDomainConfigSchema } from "../../src/index.ts";

// The seed README's "Domain Configuration", verbatim but for the ids and a staging override.
export const domains = {
  "my-domain": {
    ...createDomainConfigSchema(),
    name: "my-domain",
    displayName: "My Domain",
    accountId: "0123456789abcdef0123456789abcdef",
    zoneId: "fedcba9876543210fedcba9876543210",
    domains: {
      production: "api.myapp.com",
      staging: "staging-api.myapp.com",
    },
    features: {
      premiumFeatures: false,
      analytics: false,
      fileStorage: false,
    },
    environments: { staging: { features: { premiumFeatures: true } } },
  },
};
