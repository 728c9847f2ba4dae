import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "@lego/core";
import type { ScaffoldOptions } from "./options.ts";
import { planScaffold, type ScaffoldPlan } from "./plan.ts";

/** Entries a folder may hold and still count as empty: a fresh `git init` is a fine place to scaffold. */
const IGNORABLE = new Set([".git"]);

/** What {@link writeScaffold} wrote. */
export interface ScaffoldResult {
  /** The absolute folder written. */
  dir: string;
  /** Paths written, relative to `dir`. */
  files: string[];
  plan: ScaffoldPlan;
}

/** Lists what makes `dir` non-empty (ignoring `.git`); `[]` when it is missing or empty. */
export async function nonEmptyEntries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => !IGNORABLE.has(name)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return [dir];
    throw error;
  }
}

/**
 * Writes a plan into its folder. Refuses (exit 2, `ERR_SCAFFOLD_DIR_NOT_EMPTY`, nothing written) when the
 * folder exists and holds anything but `.git`. Relative `plan.dir` resolves against `cwd`.
 */
export async function writeScaffold(plan: ScaffoldPlan, options: { cwd: string }): Promise<ScaffoldResult> {
  const dir = resolve(options.cwd, plan.dir);
  const existing = await nonEmptyEntries(dir);
  if (existing.length > 0) {
    const shown = existing.slice(0, 5).join(", ") + (existing.length > 5 ? ", ..." : "");
    throw new UsageError({
      code: "ERR_SCAFFOLD_DIR_NOT_EMPTY",
      message: `${dir} is not empty (${shown}); nothing was written`,
      hint: "Pick a new folder with --dir, or run `lego init` there to add what an existing Worker is missing.",
      details: { dir, entries: existing.slice(0, 20) },
    });
  }
  for (const file of plan.files) {
    const path = join(dir, file.path);
    await mkdir(dirname(path), { recursive: true });
    // "wx": a file that appears while we write (another process) is an error, never overwritten.
    await writeFile(path, file.contents, { flag: "wx" });
  }
  return { dir, files: plan.files.map((f) => f.path), plan };
}

/**
 * Plans and writes a new service: {@link planScaffold} then {@link writeScaffold}.
 *
 * @example
 * const { dir, files } = await scaffoldService({ name: "notes", type: "data-service", dir: "services/notes" }, { cwd });
 */
export async function scaffoldService(
  options: ScaffoldOptions,
  context: { cwd: string },
): Promise<ScaffoldResult> {
  return writeScaffold(planScaffold(options), context);
}
