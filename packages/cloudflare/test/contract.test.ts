import { describeCloudflareApiContract } from "../src/testing/index.ts";
import { startFakeCloudflare } from "./support/fake-cloudflare.ts";

// The same suite runs against the local cloud in @lego/emulator; here it keeps the test fake honest.
describeCloudflareApiContract(
  async (fixture) => {
    const fake = await startFakeCloudflare(fixture);
    return { baseURL: fake.baseURL, close: fake.close };
  },
  { name: "Cloudflare API contract (test fake)" },
);
