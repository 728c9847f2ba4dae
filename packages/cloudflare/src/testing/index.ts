/**
 * Test helpers of @lego/cloudflare: the Cloudflare API contract suite, run against any server that
 * implements the API (a fake, the local cloud). Needs vitest (an optional peer dependency).
 */
export type { ContractFixture, ContractOptions, ContractServer, MakeContractServer } from "./contract.ts";
export { defaultContractFixture, describeCloudflareApiContract } from "./contract.ts";
