import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ExitCode, LegoError } from "./errors.ts";
import { randomHex } from "./random.ts";

export interface WriteFileAtomicOptions {
  /** File mode, e.g. 0o600 for secrets. Applied before the rename, so the file is never readable by others. */
  mode?: number;
  /** Mode of the folders created for the file (not of existing ones), e.g. 0o700 for private state. */
  dirMode?: number;
}

/**
 * What Lego keeps under `.lego/` (reports, journals, audit log, locks, caches) and D1 backups hold user
 * data: only the user reads them. Files 0600, the folders created for them 0700.
 */
export const PRIVATE_FILE = { mode: 0o600, dirMode: 0o700 } as const satisfies WriteFileAtomicOptions;

/**
 * Writes a file so that readers see either the old or the new content, never a torn one:
 * a temp file in the same folder, fsync, then rename. Creates the parent folder.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, ...(options.dirMode !== undefined ? { mode: options.dirMode } : {}) });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomHex(4)}.tmp`);
  const handle = await open(tmp, "w", options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Writes JSON atomically, pretty-printed, with a trailing newline. */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

/**
 * Reads and parses a JSON file. Returns `undefined` when the file does not exist; a file that is not
 * valid JSON is an error naming the file.
 */
export async function readJsonFile<T = unknown>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new LegoError({
      code: "ERR_FILE_READ",
      message: `Cannot read ${path}: ${(error as Error).message}`,
      exitCode: ExitCode.Failure,
      kind: "system",
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new LegoError({
      code: "ERR_FILE_INVALID",
      message: `${path} is not valid JSON: ${(error as Error).message}`,
      hint: "Fix or delete the file; Lego rewrites state files it owns.",
      exitCode: ExitCode.Usage,
      cause: error,
    });
  }
}
