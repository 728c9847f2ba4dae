// A portfolio in the seed's layout names its real account and zone ids and a fixed D1 id: the local
// cloud adopts them (as `lego local up` and every command that starts it do), and the unmodified
// wrangler deploys the Worker unchanged. The Worker then sees requests as Cloudflare delivers them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addLocalCloudZones, type LocalCloud, portfolioAdoption, startLocalCloud } from "../src/index.ts";
import { api, request, runWrangler, wranglerEnv, writeProject } from "./helpers.ts";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const ZONE = "fedcba9876543210fedcba9876543210";
const DB = "5e1f1e57-0000-4000-8000-00000000d1d1";

const WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/count") {
      await env.DB.exec("CREATE TABLE IF NOT EXISTS hits (n INTEGER)");
      await env.DB.prepare("INSERT INTO hits VALUES (1)").run();
      const row = await env.DB.prepare("SELECT count(*) AS n FROM hits").first();
      return Response.json(row);
    }
    return Response.json({
      url: request.url,
      headers: Object.fromEntries(request.headers),
      cf: request.cf ?? null,
    });
  },
};
`;

let cloud: LocalCloud;
let home: string;
let project: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "lego-emu-edge-"));
  cloud = await startLocalCloud({ stateDir: join(home, "state") });
  project = await writeProject("edge", {
    "wrangler.jsonc": JSON.stringify({
      name: "edge",
      main: "src/index.js",
      account_id: ACCOUNT,
      compatibility_date: "2025-09-01",
      routes: [{ pattern: "edge.example.org/*", zone_id: ZONE }],
      d1_databases: [{ binding: "DB", database_name: "edge-db", database_id: DB }],
    }),
    "src/index.js": WORKER,
  });
});

afterAll(async () => {
  await cloud?.close();
  await rm(home, { recursive: true, force: true });
  await rm(project, { recursive: true, force: true });
});

describe("a portfolio's own account, zone and D1 ids", () => {
  it("portfolioAdoption reads accountId, zoneId and fixed D1 ids from the scanned portfolio", () => {
    const adopted = portfolioAdoption({
      services: [
        {
          accountId: ACCOUNT,
          zoneId: ZONE,
          environments: {
            production: {
              hostname: "edge.example.org",
              hostnames: ["edge.example.org"],
              d1Databases: [{ databaseName: "edge-db", databaseId: DB }],
            },
            staging: { hostname: "staging-edge.example.org", hostnames: ["staging-edge.example.org"] },
          },
        },
        { environments: { production: { hostnames: ["other.example.net"] } } },
      ],
    });
    expect(adopted).toEqual({
      accounts: [ACCOUNT],
      zones: [{ name: "example.org", id: ZONE, accountId: ACCOUNT }],
      d1: [{ uuid: DB, name: "edge-db" }],
    });
  });

  it("are adopted by a running cloud, and wrangler deploys under that account unchanged", async () => {
    const adopted = portfolioAdoption({
      services: [
        {
          accountId: ACCOUNT,
          zoneId: ZONE,
          environments: {
            production: {
              hostname: "edge.example.org",
              hostnames: ["edge.example.org"],
              d1Databases: [{ databaseName: "edge-db", databaseId: DB }],
            },
          },
        },
      ],
    });
    await addLocalCloudZones(cloud, ["example.org", ...adopted.zones], adopted.accounts, adopted.d1);
    // Twice is the same as once.
    await addLocalCloudZones(cloud, ["example.org", ...adopted.zones], adopted.accounts, adopted.d1);

    const accounts = await api<Array<{ id: string }>>(cloud, "GET", "/accounts");
    expect(accounts.json.result.map((a) => a.id)).toEqual([cloud.accountId, ACCOUNT]);
    const zones = await api<Array<{ id: string; account: { id: string } }>>(
      cloud,
      "GET",
      `/zones?name=example.org&account.id=${ACCOUNT}`,
    );
    expect(zones.json.result).toMatchObject([{ id: ZONE, account: { id: ACCOUNT } }]);

    const env = wranglerEnv(cloud, join(home, "xdg"), { CLOUDFLARE_ACCOUNT_ID: ACCOUNT });
    const deploy = await runWrangler(project, ["deploy"], env);
    expect(deploy.exitCode, deploy.stderr + deploy.stdout).toBe(0);

    const dbs = await api<Array<{ uuid: string; name: string }>>(
      cloud,
      "GET",
      `/accounts/${ACCOUNT}/d1/database`,
    );
    expect(dbs.json.result).toMatchObject([{ uuid: DB, name: "edge-db" }]);
    const exec = await runWrangler(
      project,
      ["d1", "execute", "edge-db", "--remote", "--command", "SELECT 1 AS one", "--json"],
      env,
    );
    expect(exec.exitCode, exec.stderr).toBe(0);

    const count = await request(cloud.port, "edge.example.org", "/count");
    expect(count.status, count.body).toBe(200);
    expect(JSON.parse(count.body)).toEqual({ n: 1 });
    const routes = await api<Array<{ pattern: string; zone_id: string }>>(
      cloud,
      "GET",
      `/zones/${ZONE}/workers/routes`,
    );
    expect(routes.json.result).toMatchObject([{ pattern: "edge.example.org/*", zone_id: ZONE }]);
  }, 60_000);
});

describe("requests as Cloudflare delivers them", () => {
  it("carry cf-* headers and request.cf, and no forwarding header of the local hop", async () => {
    const res = await request(cloud.port, "edge.example.org.localhost", "/path?q=1");
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as {
      url: string;
      headers: Record<string, string>;
      cf: Record<string, unknown> | null;
    };
    expect(seen.url).toBe("http://edge.example.org/path?q=1");
    expect(seen.headers.host).toBe("edge.example.org");
    expect(seen.headers["x-forwarded-host"]).toBeUndefined();
    expect(seen.headers["cf-connecting-ip"]).toBe("127.0.0.1");
    expect(seen.headers["cf-ipcountry"]).toMatch(/^[A-Z]{2}$/);
    expect(seen.headers["cf-ray"]).toMatch(/^[0-9a-f]{16}-[A-Z]{3}$/);
    expect(JSON.parse(seen.headers["cf-visitor"] ?? "{}")).toEqual({ scheme: "http" });
    expect(seen.cf).toMatchObject({ colo: expect.any(String), country: expect.any(String) });
    const again = JSON.parse((await request(cloud.port, "edge.example.org")).body) as typeof seen;
    expect(again.headers["cf-ray"]).not.toBe(seen.headers["cf-ray"]);
  });
});
