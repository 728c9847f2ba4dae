import { describe, expect, it } from "vitest";
import {
  collectPages,
  type PageRequest,
  type PageResult,
  type PaginationStop,
  paginate,
} from "../src/paginate.ts";

async function walk<T>(fetchPage: (r: PageRequest) => PageResult<T>, options = {}) {
  const requests: PageRequest[] = [];
  let stop: PaginationStop | undefined;
  const items: T[] = [];
  for await (const page of paginate(
    async (r) => {
      requests.push(r);
      return fetchPage(r);
    },
    options,
    (reason) => {
      stop = reason;
    },
  ))
    items.push(...page);
  return { items, requests, stop };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe("paginate", () => {
  it("stops on total_pages without asking for an empty page", async () => {
    const r = await walk(
      ({ page }) => ({ items: range(page * 10, 10), resultInfo: { total_pages: 3, per_page: 10 } }),
      { perPage: 10 },
    );
    expect(r.requests.map((x) => x.page)).toEqual([1, 2, 3]);
    expect(r.items).toHaveLength(30);
    expect(r.stop).toBe("total-pages");
  });

  it("stops on total_count (wrangler's rule) and on a short page", async () => {
    const byCount = await walk(
      ({ page }) => ({ items: range(page * 10, 10), resultInfo: { total_count: 25, per_page: 10 } }),
      { perPage: 10 },
    );
    expect(byCount.requests).toHaveLength(3);
    expect(byCount.stop).toBe("total-count");
    const short = await walk(
      ({ page }) => ({ items: range(page * 10, page === 2 ? 4 : 10), resultInfo: { per_page: 10 } }),
      { perPage: 10 },
    );
    expect(short.items).toHaveLength(14);
    expect(short.stop).toBe("short-page");
  });

  it("does not trust a short page when the API did not report per_page (it may cap silently)", async () => {
    const r = await walk(({ page }) => ({ items: page <= 3 ? range(page * 50, 50) : [] }), { perPage: 1000 });
    expect(r.items).toHaveLength(150);
    expect(r.stop).toBe("empty-page");
  });

  it("stops on a page it has already seen", async () => {
    const r = await walk(() => ({ items: ["same"] }));
    expect(r.items).toEqual(["same"]);
    expect(r.requests).toHaveLength(2);
    expect(r.stop).toBe("repeated-page");
  });

  it("stops on an A-B-A page loop too", async () => {
    const r = await walk(({ page }) => ({ items: [page % 2 === 0 ? "b" : "a"] }));
    expect(r.items).toEqual(["a", "b"]);
    expect(r.stop).toBe("repeated-page");
  });

  it("follows cursors and stops on a missing or repeated cursor", async () => {
    const chain: Record<string, string | undefined> = { "": "x", x: "y", y: undefined };
    const done = await walk(({ cursor }) => ({
      items: [cursor ?? "start"],
      resultInfo: { cursor: chain[cursor ?? ""] },
    }));
    expect(done.items).toEqual(["start", "x", "y"]);
    expect(done.stop).toBe("no-cursor");
    const loop = await walk(({ cursor }) => ({
      items: [cursor ?? "start"],
      resultInfo: { cursors: { after: cursor === "x" ? "y" : "x" } },
    }));
    expect(loop.items).toEqual(["start", "x", "y"]);
    expect(loop.stop).toBe("repeated-cursor");
  });

  it("enforces the hard cap", async () => {
    await expect(
      collectPages(({ page }) => Promise.resolve({ items: [page] }), { maxPages: 4 }),
    ).rejects.toMatchObject({
      code: "ERR_CF_PAGINATION_LIMIT",
    });
    const truncated = await walk(({ page }) => ({ items: [page] }), { maxPages: 4, onLimit: "truncate" });
    expect(truncated.items).toEqual([1, 2, 3, 4]);
    expect(truncated.stop).toBe("max-pages");
  });

  it("is cancelled by its signal between pages", async () => {
    const controller = new AbortController();
    const pages = collectPages(
      async ({ page }) => {
        if (page === 2) controller.abort();
        return { items: [page] };
      },
      { signal: controller.signal },
    );
    await expect(pages).rejects.toMatchObject({ code: "ERR_INTERRUPTED", exitCode: 130 });
  });
});
