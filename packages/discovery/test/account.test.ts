import { createCloudflareClient } from "@lego/cloudflare";
import { createMemoryLogger } from "@lego/core";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigurationCacheManager, DomainDiscovery, zoneCandidates } from "../src/index.ts";
import { ACCOUNT_ID, type FakeCloudflare, startFakeCloudflare } from "./fake-cloudflare.ts";
import { SEED_PORTFOLIO, tempDir, thrown, writeTree } from "./helpers.ts";

let fake: FakeCloudflare | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const TOKEN = "test-token-abcdef123456";
const client = (f: FakeCloudflare) =>
  createCloudflareClient({ token: TOKEN, baseURL: f.baseURL, retry: false });

const account = () => ({
  accounts: [{ id: ACCOUNT_ID, name: "Acme" }],
  zones: [{ id: "zone-greatidude", name: "greatidude.com", accountId: ACCOUNT_ID }],
  d1: [{ uuid: "11111111-2222-3333-4444-555555555555", name: "data-db" }],
  scripts: [
    {
      id: "data-service",
      deployments: [
        {
          id: "dep-2",
          created_on: "2026-11-02T00:00:00Z",
          versions: [{ version_id: "v2", percentage: 100 }],
        },
        {
          id: "dep-1",
          created_on: "2026-11-01T00:00:00Z",
          versions: [{ version_id: "v1", percentage: 100 }],
        },
      ],
    },
  ],
});

describe("DomainDiscovery.discoverAccount", () => {
  it("finds accounts, the zone of each hostname (walking up labels), D1 databases, scripts and current deployments", async () => {
    fake = await startFakeCloudflare(account());
    const discovery = new DomainDiscovery({ client: client(fake) });
    const found = await discovery.discoverAccount({
      hostnames: ["staging-api.eu.greatidude.com", "nowhere.example.org"],
      scripts: ["data-service", "not-deployed"],
    });
    expect(found.steps).toEqual({
      token: "ok",
      accounts: "ok",
      zones: "ok",
      d1: "ok",
      workers: "ok",
      deployments: "ok",
    });
    expect(found.warnings).toEqual([]);
    expect(found.accountId).toBe(ACCOUNT_ID);
    expect(found.zones).toEqual([
      {
        hostname: "staging-api.eu.greatidude.com",
        zone: { id: "zone-greatidude", name: "greatidude.com", status: "active" },
      },
      { hostname: "nowhere.example.org" },
    ]);
    expect(found.d1Databases).toEqual([{ uuid: "11111111-2222-3333-4444-555555555555", name: "data-db" }]);
    expect(found.workers).toEqual([
      {
        script: "data-service",
        modifiedOn: "2026-11-01T00:00:00Z",
        deployment: {
          id: "dep-2",
          createdOn: "2026-11-02T00:00:00Z",
          versions: [{ versionId: "v2", percentage: 100 }],
        },
      },
    ]);
    // Wrangler's walk: the hostname itself, then each parent, never the bare TLD; each asked once.
    // Hostnames are looked up in parallel, so the walks interleave; each walk keeps its order.
    const zoneQueries = fake.requests
      .filter((r) => r.startsWith("GET /zones"))
      .map((q) => new URL(`http://x${q.slice(4)}`).searchParams.get("name"));
    expect(zoneQueries.filter((n) => n?.endsWith("greatidude.com"))).toEqual([
      "staging-api.eu.greatidude.com",
      "eu.greatidude.com",
      "greatidude.com",
    ]);
    expect(zoneQueries.filter((n) => n?.endsWith("example.org"))).toEqual([
      "nowhere.example.org",
      "example.org",
    ]);
    expect(zoneQueries).toHaveLength(5);
    expect(fake.requests.some((r) => r.includes("not-deployed"))).toBe(false);
    expect(new Set(fake.authorizations)).toEqual(new Set([`Bearer ${TOKEN}`]));
  });

  it("turns a 403 on D1 into a warning naming the permission, and discovers the rest", async () => {
    fake = await startFakeCloudflare(account(), { [`GET /accounts/${ACCOUNT_ID}/d1/database`]: 403 });
    const logger = createMemoryLogger();
    const found = await new DomainDiscovery({ client: client(fake), logger }).discoverAccount({
      hostnames: ["api.greatidude.com"],
      scripts: ["data-service"],
    });
    expect(found.steps).toEqual({
      token: "ok",
      accounts: "ok",
      zones: "ok",
      d1: "denied",
      workers: "ok",
      deployments: "ok",
    });
    expect(found.d1Databases).toBeUndefined();
    expect(found.zones?.[0]?.zone?.name).toBe("greatidude.com");
    expect(found.workers?.[0]?.deployment?.id).toBe("dep-2");
    expect(found.warnings).toEqual([
      expect.objectContaining({
        step: "d1",
        outcome: "denied",
        code: "ERR_CF_AUTH",
        permission: "Account · D1 · Read",
        message: expect.stringMatching(/^D1 discovery needs 'Account · D1 · Read'; skipped/),
      }),
    ]);
    expect(logger.records.some((r) => r.level === "warn" && r.message.startsWith("D1 discovery needs"))).toBe(
      true,
    );
    expect(JSON.stringify(found)).not.toContain(TOKEN);
  });

  it("degrades each step on its own: zones and workers refused, accounts fine", async () => {
    fake = await startFakeCloudflare(account(), {
      "GET /zones": 403,
      [`GET /accounts/${ACCOUNT_ID}/workers/scripts`]: 403,
    });
    const found = await new DomainDiscovery({ client: client(fake) }).discoverAccount({
      hostnames: ["api.greatidude.com"],
    });
    expect(found.steps).toMatchObject({
      token: "ok",
      accounts: "ok",
      zones: "denied",
      d1: "ok",
      workers: "denied",
    });
    expect(found.warnings.map((w) => w.permission)).toEqual([
      "Zone · Zone · Read",
      "Account · Workers Scripts · Read",
    ]);
  });

  it("stops after an invalid token instead of failing every step", async () => {
    fake = await startFakeCloudflare(account(), { "GET /user/tokens/verify": 401 });
    const found = await new DomainDiscovery({ client: client(fake) }).discoverAccount({
      hostnames: ["api.greatidude.com"],
    });
    expect(found.steps.token).toBe("denied");
    expect(found.steps.zones).toBe("skipped");
    // One warning for the token, the rest skipped (the calls already under way are not reported).
    expect(found.warnings.map((w) => [w.step, w.outcome])).toEqual([
      ["token", "denied"],
      ["accounts", "skipped"],
      ["zones", "skipped"],
      ["d1", "skipped"],
      ["workers", "skipped"],
      ["deployments", "skipped"],
    ]);
  });

  it("asks for the token, accounts, D1 databases and scripts at once when the account id is known", async () => {
    fake = await startFakeCloudflare(account(), {}, { delayMs: 100 });
    const found = await new DomainDiscovery({ client: client(fake) }).discoverAccount({
      hostnames: ["api.greatidude.com"],
      accountId: ACCOUNT_ID,
    });
    expect(found.steps).toMatchObject({ token: "ok", accounts: "ok", zones: "ok", d1: "ok", workers: "ok" });
    // Each answer takes 100 ms, so calls made one after another are never in flight together.
    expect(fake.maxConcurrent).toBeGreaterThanOrEqual(4);
  });

  it("needs a client for the account, not for the disk", async () => {
    const root = await tempDir();
    await writeTree(root, SEED_PORTFOLIO);
    const discovery = new DomainDiscovery({ root });
    const error = await thrown(() => discovery.discoverAccount());
    expect(error).toMatchObject({ code: "ERR_ACCOUNT_CLIENT_MISSING", exitCode: 3 });
    expect(await discovery.getDomainConfig("staging-data.greatidude.com")).toMatchObject({
      name: "data-service",
      domains: { production: "data-service.greatidude.com" },
    });
    const { domains } = await discovery.discoverDomains();
    expect(domains.map((d) => `${d.service}/${d.environment}: ${d.hostname}`)).toEqual([
      "api-gateway/production: api.greatidude.com",
      "api-gateway/staging: staging-api.greatidude.com",
      "data-service/production: data-service.greatidude.com",
      "data-service/staging: staging-data.greatidude.com",
    ]);
  });
});

describe("DomainDiscovery.discoverDomains and validateCloudflareSetup", () => {
  it("joins the portfolio's hostnames with zones and deployed scripts, cached until a config changes", async () => {
    const root = await tempDir();
    await writeTree(root, SEED_PORTFOLIO);
    fake = await startFakeCloudflare(account());
    const cache = new ConfigurationCacheManager({ root });
    const discovery = new DomainDiscovery({ client: client(fake), root, cache });
    const first = await discovery.discoverDomains();
    expect(first.domains.find((d) => d.hostname === "data-service.greatidude.com")).toMatchObject({
      zone: { name: "greatidude.com" },
      deployed: true,
    });
    expect(first.domains.find((d) => d.hostname === "staging-api.greatidude.com")).toMatchObject({
      deployed: false,
    });
    const calls = fake.requests.length;
    expect(await discovery.discoverDomains()).toEqual(first);
    expect(fake.requests.length).toBe(calls);
    await discovery.discoverDomains({ refresh: true });
    expect(fake.requests.length).toBeGreaterThan(calls);

    expect(await discovery.validateCloudflareSetup()).toEqual({ ok: true, missingZones: [], warnings: [] });
    expect((await discovery.validateCloudflareSetup(["x.other.dev"])).missingZones).toEqual(["x.other.dev"]);
  });
});

describe("zoneCandidates", () => {
  it("walks up to the registrable-looking parent", () => {
    expect(zoneCandidates("a.b.example.com")).toEqual(["a.b.example.com", "b.example.com", "example.com"]);
    expect(zoneCandidates("example.com")).toEqual(["example.com"]);
  });
});
