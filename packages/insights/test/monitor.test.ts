import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cloud } from "@lego/cloudflare";
import { auditLogPath, LegoError } from "@lego/core";
import type { Portfolio } from "@lego/discovery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { monitorPortfolio, renderSnapshotText } from "../src/index.ts";

// A real HTTP server on 127.0.0.1:0 answers each service's health path; the API client answers the
// deployments endpoint as the API does (newest deployment first, versions with their shares).
describe("monitorPortfolio", () => {
  let server: Server;
  let pattern: string;
  let root: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      // As the local cloud does: the hostname is a subdomain of localhost (`api.example.com.localhost`).
      const host = (req.headers.host ?? "").replace(/\.localhost(:\d+)?$/, "");
      seen.push(`${host}${req.url}`);
      const status = host === "broken.example.com" ? 500 : 200;
      setTimeout(() => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: status === 200 }));
      }, 5);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    pattern = `http://{host}.localhost:${(server.address() as AddressInfo).port}`;
    root = await mkdtemp(join(tmpdir(), "lego-monitor-"));
    await mkdir(join(root, ".lego"), { recursive: true });
    await writeFile(
      auditLogPath(root),
      `${JSON.stringify({
        at: "2026-12-01T10:00:00.000Z",
        runId: "r1",
        who: "Ada",
        action: "deploy.finished",
        service: "api",
        environment: "staging",
        result: "ok",
        versionBefore: "v0",
        versionAfter: "v2",
      })}\n`,
    );
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  const service = (name: string, host: string, healthPath = "/health") => ({
    name,
    environments: { staging: { scriptName: `${name}-staging`, hostname: host, hostnames: [host] } },
    tests: { health: { path: healthPath, expectStatus: 200 } },
  });

  it("reads what serves from the API, probes health with p50/p95, and says what is unhealthy", async () => {
    const portfolio = {
      root,
      services: [
        service("api", "api.example.com", "/status"),
        service("broken", "broken.example.com"),
        service("fresh", "fresh.example.com"),
        service("flaky-api", "flaky.example.com"),
        { name: "prod-only", environments: { production: {} } },
      ],
    } as unknown as Portfolio;
    const client = {
      async listDeployments(script: string) {
        if (script === "fresh-staging")
          throw new LegoError({ code: "ERR_CF_NOT_FOUND", message: "no such script", exitCode: 1 });
        if (script === "flaky-api-staging") throw new Error("API answered 503");
        return [
          {
            id: "d2",
            created_on: "2026-12-01T10:00:00Z",
            versions:
              script === "api-staging"
                ? [
                    { version_id: "v2", percentage: 90 },
                    { version_id: "v1", percentage: 10 },
                  ]
                : [{ version_id: "b1", percentage: 100 }],
          },
          { id: "d1", created_on: "2026-11-30T10:00:00Z", versions: [{ version_id: "v1", percentage: 100 }] },
        ];
      },
    };
    const cloud = {
      client,
      target: { kind: "cloudflare", apiBaseUrl: "https://api.example.test", workersUrlPattern: pattern },
    } as unknown as Pick<Cloud, "client" | "target">;
    const snap = await monitorPortfolio({ portfolio, environment: "staging", probes: 4 }, { cloud });
    expect(snap.healthy).toBe(false);
    expect(snap.skipped).toEqual(["prod-only"]);
    const [api, broken, fresh, flaky] = snap.services;
    expect(api).toMatchObject({
      state: "healthy",
      serving: [
        { versionId: "v2", percentage: 90 },
        { versionId: "v1", percentage: 10 },
      ],
      deployedAt: "2026-12-01T10:00:00Z",
      lastChange: { action: "deploy.finished", who: "Ada", result: "ok", versionAfter: "v2" },
      health: { ok: true, probes: 4, failures: 0, statuses: { 200: 4 } },
    });
    expect(api?.health?.url).toBe(`${pattern.replace("{host}", "api.example.com")}/status`);
    expect(api?.health?.p50Ms).toBeGreaterThanOrEqual(4);
    expect(api?.health?.p95Ms).toBeGreaterThanOrEqual(api?.health?.p50Ms ?? 0);
    expect(seen.filter((s) => s === "api.example.com/status")).toHaveLength(4);
    expect(broken).toMatchObject({
      state: "unhealthy",
      health: {
        ok: false,
        failures: 4,
        statuses: { 500: 4 },
        problem: "GET /health: expected status 200, got 500",
      },
    });
    // Never deployed: nothing to probe, not unhealthy. The API failing: unhealthy, never a guess.
    expect(fresh).toMatchObject({ state: "not-deployed", serving: [] });
    expect(fresh?.health).toBeUndefined();
    expect(flaky).toMatchObject({ state: "unhealthy", serving: [], apiError: "API answered 503" });
    const text = renderSnapshotText(snap);
    expect(text).toContain("staging on cloudflare · 4 services · 2 unhealthy");
    expect(text).toMatch(/api\s+v2 90% \+ v1 10%\s+healthy p50/);
    expect(text).toContain("GET /health: expected status 200, got 500");
  });
});
