import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createManualClock } from "@lego/core";
import { describe, expect, it } from "vitest";
import { ConfigurationCacheManager } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

describe("ConfigurationCacheManager", () => {
  it("caches a configuration until its TTL passes or an input changes", async () => {
    const root = await tempDir();
    const input = join(root, "wrangler.toml");
    await writeFile(input, `name = "a"`);
    const clock = createManualClock(0);
    const cache = new ConfigurationCacheManager({ root, clock, ttlMs: 1000 });
    expect(cache.dir).toBe(join(root, ".lego", "cache"));

    await cache.cacheConfiguration("deploy-1", { env: "staging" });
    expect(await cache.getCachedConfiguration("deploy-1")).toEqual({ env: "staging" });
    await clock.sleep(1001);
    expect(await cache.getCachedConfiguration("deploy-1")).toBeUndefined();

    await cache.cacheConfiguration(
      "api.example.com/zone",
      { zone: "z1" },
      { inputs: [input], ttlMs: 60_000 },
    );
    expect(await cache.getCachedConfiguration("api.example.com/zone")).toEqual({ zone: "z1" });
    await writeFile(input, `name = "changed"`);
    expect(await cache.getCachedConfiguration("api.example.com/zone")).toBeUndefined();

    await cache.cacheConfiguration("x", 1);
    await cache.invalidate("x");
    expect(await cache.getCachedConfiguration("x")).toBeUndefined();
    await cache.cacheConfiguration("y", 2);
    await cache.clear();
    expect(await cache.getCachedConfiguration("y")).toBeUndefined();
  });

  it("keeps ids apart even when their file-safe forms collide", () => {
    const cache = new ConfigurationCacheManager({ root: "/r" });
    expect(cache.pathFor("a/b")).not.toBe(cache.pathFor("a_b"));
    expect(cache.pathFor("a/b")).toMatch(/^\/r\/\.lego\/cache\/a_b\.[0-9a-f]{8}\.json$/);
  });
});

describe("the seed's forms", () => {
  it("new ConfigurationCacheManager() with no arguments caches in <cwd>/.lego/cache for an hour", async () => {
    const cache = new ConfigurationCacheManager();
    expect(cache.dir).toBe(join(process.cwd(), ".lego", "cache"));
    expect(cache.ttlMs).toBe(60 * 60 * 1000);
  });
});
