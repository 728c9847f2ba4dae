import { readdir } from "node:fs/promises";
import { join } from "node:path";

function segmentMatcher(segment: string): (name: string) => boolean {
  if (!/[*?]/.test(segment)) return (name) => name === segment;
  let source = "";
  for (const char of segment) {
    if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const re = new RegExp(`^${source}$`);
  return (name) => re.test(name);
}

const SKIPPED = new Set(["node_modules", ".git", ".lego", ".wrangler", "dist"]);

/**
 * Expands folder globs relative to `root`: `*` and `?` within a segment, `**` for any depth. Only
 * folders match; hidden folders, `node_modules`, `dist`, `.lego` and `.wrangler` are never entered by
 * a wildcard. A pattern without wildcards names one folder. Returns relative POSIX paths, sorted.
 *
 * @example
 * await expandFolderGlobs("/repo", ["services/*", "apps/*\/workers/*"]);
 */
export async function expandFolderGlobs(root: string, patterns: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of patterns) {
    const segments = pattern
      .replace(/\\/g, "/")
      .split("/")
      .filter((s) => s !== "" && s !== ".");
    await walk(root, "", segments, found);
  }
  return [...found].sort();
}

async function listFolders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

async function walk(root: string, rel: string, segments: string[], found: Set<string>): Promise<void> {
  if (segments.length === 0) {
    if (rel !== "") found.add(rel);
    return;
  }
  const [head, ...rest] = segments as [string, ...string[]];
  const here = rel === "" ? root : join(root, rel);
  const child = (name: string) => (rel === "" ? name : `${rel}/${name}`);
  if (head === "**") {
    await walk(root, rel, rest, found);
    for (const name of await listFolders(here)) {
      if (name.startsWith(".") || SKIPPED.has(name)) continue;
      await walk(root, child(name), segments, found);
    }
    return;
  }
  if (!/[*?]/.test(head)) {
    if ((await listFolders(here)).includes(head)) await walk(root, child(head), rest, found);
    return;
  }
  const match = segmentMatcher(head);
  for (const name of await listFolders(here)) {
    if (name.startsWith(".") || SKIPPED.has(name) || !match(name)) continue;
    await walk(root, child(name), rest, found);
  }
}
