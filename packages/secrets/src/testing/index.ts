/**
 * Test helpers of @lego/secrets: an in-memory secret store and the contract suite every implementation
 * of the secret-store ports passes. The suite needs vitest (an optional peer dependency).
 */
export type { SecretsStoreUnderTest } from "./contract.ts";
export { describeSecretsStoreContract } from "./contract.ts";
export type { MemorySecretsStore } from "./memory.ts";
export { createMemorySecretsStore } from "./memory.ts";
