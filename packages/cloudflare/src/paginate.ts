import type { Logger } from "@lego/core";
import { ExitCode, InterruptedError, LegoError } from "@lego/core";

/** The `result_info` of a v4 list response. Every field is optional: fakes and old endpoints omit it. */
export interface ResultInfo {
  page?: number | undefined;
  per_page?: number | undefined;
  count?: number | undefined;
  total_count?: number | undefined;
  total_pages?: number | undefined;
  cursor?: string | undefined;
  cursors?: { after?: string | undefined } | undefined;
}

/** One page: its items and its `result_info`, if any. */
export interface PageResult<T> {
  items: T[];
  resultInfo?: ResultInfo | undefined;
}

/** What {@link paginate} asks the page fetcher for. */
export interface PageRequest {
  /** 1-based page number (page-number pagination). */
  page: number;
  perPage: number;
  /** Set from the second request on when the API paginates by cursor. */
  cursor?: string | undefined;
}

/** Bounds and reporting of a pagination. */
export interface PaginateOptions {
  /** Items per page to ask for. Default 50 (the maximum of /zones and /accounts). */
  perPage?: number | undefined;
  /** Hard cap on requests. Default 200. */
  maxPages?: number | undefined;
  /**
   * What to do when the cap is reached and the API still reports more: `throw` (the default:
   * ERR_CF_PAGINATION_LIMIT, never a silent partial list) or `truncate` (warn and return what was read).
   */
  onLimit?: "throw" | "truncate" | undefined;
  /** For messages, e.g. "GET /zones". */
  label?: string | undefined;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
}

/** Why a pagination ended, for tests and debugging. */
export type PaginationStop =
  | "empty-page"
  | "total-pages"
  | "total-count"
  | "short-page"
  | "no-cursor"
  | "repeated-page"
  | "repeated-cursor"
  | "max-pages";

/**
 * Walks a paginated list, page by page, and always terminates. It stops on the first of: an empty
 * page; `page >= result_info.total_pages`; `page * per_page >= result_info.total_count` (wrangler's
 * rule); a page shorter than the `per_page` the API reported; a page identical to one already seen
 * (an API that ignores `?page=`: the SDK alone loops forever on it); a repeated or absent cursor in
 * cursor mode; and the hard cap `maxPages`. Yields each page's items; `onStop` reports why it ended.
 */
export async function* paginate<T>(
  fetchPage: (request: PageRequest) => Promise<PageResult<T>>,
  options: PaginateOptions = {},
  onStop?: (reason: PaginationStop, pages: number) => void,
): AsyncGenerator<T[], void, undefined> {
  const perPage = options.perPage ?? 50;
  const maxPages = options.maxPages ?? 200;
  const label = options.label ?? "list";
  const seenPages = new Set<string>();
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  let count = 0;
  const stop = (reason: PaginationStop, pages: number) => {
    options.logger?.debug(`${label}: pagination stopped (${reason}) after ${pages} page(s)`);
    onStop?.(reason, pages);
  };
  for (let page = 1; ; page++) {
    if (options.signal?.aborted) throw new InterruptedError(`${label} was cancelled`);
    if (page > maxPages) {
      if (options.onLimit === "truncate") {
        options.logger?.warn(`${label}: stopped at ${maxPages} pages; the list may be incomplete`);
        stop("max-pages", page - 1);
        return;
      }
      throw new LegoError({
        code: "ERR_CF_PAGINATION_LIMIT",
        message: `${label}: still more results after ${maxPages} pages`,
        hint: "Narrow the list (a name filter) or raise maxPages.",
        kind: "system",
        exitCode: ExitCode.Failure,
        details: { label, maxPages, perPage },
      });
    }
    const result = await fetchPage({ page, perPage, ...(cursor ? { cursor } : {}) });
    const items = Array.isArray(result.items) ? result.items : [];
    const info = result.resultInfo ?? {};
    if (items.length === 0) return stop("empty-page", page);
    const fingerprint = JSON.stringify(items);
    if (seenPages.has(fingerprint)) {
      options.logger?.warn(`${label}: page ${page} repeats an earlier page; the API ignores pagination`);
      return stop("repeated-page", page);
    }
    seenPages.add(fingerprint);
    count += items.length;
    yield items;
    const nextCursor = info.cursor || info.cursors?.after || undefined;
    if (cursor !== undefined || nextCursor !== undefined) {
      if (!nextCursor) return stop("no-cursor", page);
      if (seenCursors.has(nextCursor)) return stop("repeated-cursor", page);
      seenCursors.add(nextCursor);
      cursor = nextCursor;
      continue;
    }
    if (typeof info.total_pages === "number" && page >= info.total_pages) return stop("total-pages", page);
    const reportedPerPage =
      typeof info.per_page === "number" && info.per_page > 0 ? info.per_page : undefined;
    if (
      typeof info.total_count === "number" &&
      (count >= info.total_count ||
        (reportedPerPage !== undefined && page * reportedPerPage >= info.total_count))
    )
      return stop("total-count", page);
    if (reportedPerPage !== undefined && items.length < reportedPerPage) return stop("short-page", page);
  }
}

/** Collects every item of {@link paginate} into one array. */
export async function collectPages<T>(
  fetchPage: (request: PageRequest) => Promise<PageResult<T>>,
  options: PaginateOptions = {},
): Promise<T[]> {
  const all: T[] = [];
  for await (const items of paginate(fetchPage, options)) all.push(...items);
  return all;
}
