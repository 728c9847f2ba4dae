// Through the package itself, so the built ./testing entry shares the main entry instead of a copy.
import { type CloudflareClient, createCloudflareClient } from "@lego/cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The state a server under contract test starts with. Ids are fixed so assertions can name them. */
export interface ContractFixture {
  /** The bearer token the server accepts; any other token must get 401 (or 403) with the v4 envelope. */
  token: string;
  account: { id: string; name: string };
  user: { id: string; email: string };
  /** workers.dev subdomain of the account. */
  accountSubdomain: string;
  /** Enough zones to need several pages at per_page=50. */
  zones: Array<{ id: string; name: string }>;
  scripts: Array<{
    name: string;
    /** Oldest first. */
    versions: Array<{ id: string; message?: string | undefined }>;
    /** Newest first; each serves 100% of one version. */
    deployments: Array<{ id: string; versionId: string }>;
    secrets: string[];
  }>;
  d1: Array<{ uuid: string; name: string }>;
  domains: Array<{
    id: string;
    hostname: string;
    service: string;
    environment: string;
    zoneId: string;
    zoneName: string;
  }>;
  /** Worker routes by zone id. */
  routes: Record<string, Array<{ id: string; pattern: string; script: string }>>;
}

/** A running server seeded with a fixture. */
export interface ContractServer {
  /** Base URL of its v4 API, e.g. `http://127.0.0.1:PORT/client/v4`. */
  baseURL: string;
  close(): Promise<void>;
}

/** Starts a server implementing the Cloudflare API, seeded with `fixture`. */
export type MakeContractServer = (fixture: ContractFixture) => Promise<ContractServer>;

const hex = (n: number, width = 32) => n.toString(16).padStart(width, "0");
const uuid = (n: number) => {
  const h = hex(n);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The fixture the contract suite uses unless given another one. */
export function defaultContractFixture(): ContractFixture {
  const zones = Array.from({ length: 123 }, (_, i) => ({
    id: hex(0x5000 + i),
    name: `zone-${String(i).padStart(3, "0")}.example`,
  }));
  return {
    token: "contract-token-0123456789abcdef",
    account: { id: hex(0xacc), name: "Contract Account" },
    user: { id: hex(0x05e7), email: "ops@example.com" },
    accountSubdomain: "contract",
    zones,
    scripts: [
      {
        name: "api-staging",
        versions: [
          { id: uuid(0x1001), message: "first" },
          { id: uuid(0x1002), message: "second" },
        ],
        deployments: [
          { id: uuid(0x2002), versionId: uuid(0x1002) },
          { id: uuid(0x2001), versionId: uuid(0x1001) },
        ],
        secrets: ["API_KEY", "JWT_SECRET"],
      },
      {
        name: "auth-production",
        versions: [{ id: uuid(0x1101) }],
        deployments: [{ id: uuid(0x2101), versionId: uuid(0x1101) }],
        secrets: [],
      },
    ],
    d1: [
      { uuid: uuid(0xd1001), name: "api-db" },
      { uuid: uuid(0xd1002), name: "auth-db" },
    ],
    domains: [
      {
        id: hex(0xd0),
        hostname: "staging-api.zone-000.example",
        service: "api-staging",
        environment: "production",
        zoneId: zones[0]?.id ?? "",
        zoneName: zones[0]?.name ?? "",
      },
    ],
    routes: {
      [zones[1]?.id ?? ""]: [{ id: hex(0xe0), pattern: "zone-001.example/api/*", script: "api-staging" }],
    },
  };
}

/** Options of {@link describeCloudflareApiContract}. */
export interface ContractOptions {
  /** Replaces the default fixture. */
  fixture?: ContractFixture | undefined;
  /** Title of the `describe` block. */
  name?: string | undefined;
}

/**
 * The Cloudflare API contract, as `@lego/cloudflare` uses it: runs every client operation against a
 * server started by `makeServer` (a test fake, the local cloud of `@lego/emulator`, …) and checks
 * the results, the pagination, the 404 conventions and the auth failures. Call it at the top level
 * of a vitest file.
 *
 * @example
 * import { describeCloudflareApiContract } from "@lego/cloudflare/testing";
 * describeCloudflareApiContract(async (fixture) => {
 *   const cloud = await startLocalCloud({ seed: fixture });
 *   return { baseURL: cloud.apiBaseUrl, close: () => cloud.close() };
 * });
 */
export function describeCloudflareApiContract(
  makeServer: MakeContractServer,
  options: ContractOptions = {},
): void {
  const fixture = options.fixture ?? defaultContractFixture();
  describe(options.name ?? "Cloudflare API contract", () => {
    let server: ContractServer;
    let cf: CloudflareClient;
    const script = fixture.scripts[0];
    if (!script) throw new Error("The contract fixture needs at least one script");
    const db = fixture.d1[0];
    if (!db) throw new Error("The contract fixture needs at least one D1 database");

    beforeAll(async () => {
      server = await makeServer(fixture);
      cf = createCloudflareClient({
        token: fixture.token,
        baseURL: server.baseURL,
        accountId: fixture.account.id,
        retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    it("verifies the token and reads the user", async () => {
      const status = await cf.verifyToken();
      expect(status.status).toBe("active");
      expect((await cf.getUser()).email).toBe(fixture.user.email);
    });

    it("lists the account and resolves it when none is configured", async () => {
      const accounts = await cf.listAccounts();
      expect(accounts.map((a) => a.id)).toContain(fixture.account.id);
      if (accounts.length === 1) {
        const bare = createCloudflareClient({ token: fixture.token, baseURL: server.baseURL, retry: false });
        expect(await bare.accountId()).toBe(fixture.account.id);
      }
    });

    it("rejects a wrong token with ERR_CF_AUTH (exit 3) and never echoes it", async () => {
      const wrongToken = "wrong-token-do-not-print-4242";
      const bad = createCloudflareClient({
        token: wrongToken,
        baseURL: server.baseURL,
        accountId: fixture.account.id,
        retry: false,
      });
      const error = await bad.listWorkerScripts().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_CF_AUTH", exitCode: 3 });
      const shown = JSON.stringify({
        message: (error as Error).message,
        json: (error as { toJSON(): unknown }).toJSON(),
      });
      expect(shown).not.toContain(wrongToken);
      expect(shown).not.toContain(fixture.token);
    });

    it("walks every zone across pages, each once", async () => {
      const zones = await cf.listZones();
      const ids = zones.map((z) => z.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(fixture.zones.map((z) => z.id).sort());
    });

    it("finds a zone by exact name", async () => {
      const wanted = fixture.zones[fixture.zones.length - 1];
      const zones = await cf.listZones({ name: wanted?.name });
      expect(zones.map((z) => z.id)).toEqual([wanted?.id]);
    });

    it("lists Worker scripts and tells a missing Worker apart", async () => {
      const scripts = await cf.listWorkerScripts();
      expect(scripts.map((s) => s.id).sort()).toEqual(fixture.scripts.map((s) => s.name).sort());
      const service = await cf.getWorkerService(script.name);
      expect(service?.id).toBe(script.name);
      expect(await cf.getWorkerService("no-such-worker")).toBeUndefined();
    });

    it("reads deployments (result.deployments), versions and one version", async () => {
      const deployments = await cf.listDeployments(script.name);
      expect(deployments.map((d) => d.id)).toEqual(script.deployments.map((d) => d.id));
      expect(deployments[0]?.versions).toEqual([
        { version_id: script.deployments[0]?.versionId, percentage: 100 },
      ]);
      const versions = await cf.listVersions(script.name);
      expect(versions.map((v) => v.id).sort()).toEqual(script.versions.map((v) => v.id).sort());
      const first = script.versions[0];
      if (first) expect((await cf.getVersion(script.name, first.id)).id).toBe(first.id);
    });

    it("lists, puts and deletes secrets without ever returning values", async () => {
      const before = await cf.listSecrets(script.name);
      expect(before.map((s) => s.name).sort()).toEqual([...script.secrets].sort());
      await cf.putSecret(script.name, "CONTRACT_SECRET", "value-that-must-not-come-back");
      const during = await cf.listSecrets(script.name);
      expect(during.map((s) => s.name)).toContain("CONTRACT_SECRET");
      expect(JSON.stringify(during)).not.toContain("value-that-must-not-come-back");
      await cf.deleteSecret(script.name, "CONTRACT_SECRET");
      expect((await cf.listSecrets(script.name)).map((s) => s.name)).not.toContain("CONTRACT_SECRET");
    });

    it("finds D1 databases by name and by id, and misses cleanly", async () => {
      const all = await cf.listD1Databases();
      expect(all.map((d) => d.uuid).sort()).toEqual(fixture.d1.map((d) => d.uuid).sort());
      expect((await cf.getD1Database(db.name))?.uuid).toBe(db.uuid);
      expect((await cf.getD1Database(db.uuid))?.name).toBe(db.name);
      expect(await cf.getD1Database("no-such-db")).toBeUndefined();
      expect(await cf.getD1Database("00000000-0000-0000-0000-00000000dead")).toBeUndefined();
    });

    it("runs D1 queries with parameters, one result per statement", async () => {
      await cf.queryD1(
        db.uuid,
        "CREATE TABLE IF NOT EXISTS contract_notes (id INTEGER PRIMARY KEY, body TEXT)",
      );
      await cf.queryD1(db.uuid, "INSERT INTO contract_notes (body) VALUES (?)", ["hello"]);
      const [select] = await cf.queryD1(
        db.uuid,
        "SELECT body FROM contract_notes WHERE body = ?",
        ["hello"],
        {
          idempotent: true,
        },
      );
      expect(select?.success).toBe(true);
      expect(select?.results).toEqual([{ body: "hello" }]);
      const two = await cf.queryD1(db.uuid, "SELECT 1 AS a; SELECT 2 AS b;");
      expect(two.map((r) => r.results)).toEqual([[{ a: 1 }], [{ b: 2 }]]);
    });

    it("reads D1 Time Travel bookmarks that move on with writes; a missing database is ERR_CF_NOT_FOUND", async () => {
      const bookmark = await cf.getD1Bookmark(db.uuid);
      expect(bookmark).toEqual(expect.stringMatching(/\S/));
      await cf.queryD1(
        db.uuid,
        "CREATE TABLE IF NOT EXISTS contract_bookmarks (n INTEGER); INSERT INTO contract_bookmarks VALUES (1);",
      );
      const later = await cf.getD1Bookmark(db.uuid);
      expect(later).toEqual(expect.stringMatching(/\S/));
      expect(later).not.toBe(bookmark);
      const error = await cf.getD1Bookmark("00000000-0000-0000-0000-00000000dead").catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_CF_NOT_FOUND", details: { status: 404 } });
    });

    it("creates a D1 database", async () => {
      const created = await cf.createD1Database("contract-created-db");
      expect(created.name).toBe("contract-created-db");
      expect((await cf.getD1Database("contract-created-db"))?.uuid).toBe(created.uuid);
    });

    it("lists custom domains, filtered by hostname", async () => {
      const domains = await cf.listWorkerDomains();
      expect(domains.map((d) => d.hostname).sort()).toEqual(fixture.domains.map((d) => d.hostname).sort());
      const first = fixture.domains[0];
      if (first) {
        const one = await cf.listWorkerDomains({ hostname: first.hostname });
        expect(one.map((d) => d.service)).toEqual([first.service]);
      }
    });

    it("reads the account's workers.dev subdomain and a zone's routes", async () => {
      expect(await cf.getAccountSubdomain()).toBe(fixture.accountSubdomain);
      for (const [zoneId, routes] of Object.entries(fixture.routes)) {
        const live = await cf.listRoutes(zoneId);
        expect(live.map((r) => ({ pattern: r.pattern, script: r.script }))).toEqual(
          routes.map((r) => ({ pattern: r.pattern, script: r.script })),
        );
      }
    });

    it("answers an unknown version with ERR_CF_NOT_FOUND", async () => {
      const error = await cf
        .getVersion(script.name, "00000000-0000-0000-0000-000000000000")
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_CF_NOT_FOUND", details: { status: 404 } });
    });
  });
}
