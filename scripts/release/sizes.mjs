// Install sizes, as the release test and bench/install-size.bench.mjs report them.
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/** The apparent bytes and the number of files under a folder (symlinks counted, never followed). */
export async function folderSize(dir) {
  let bytes = 0;
  let files = 0;
  const walk = async (d) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else {
        bytes += (await lstat(path)).size;
        files += 1;
      }
    }
  };
  await walk(dir);
  return { bytes, files };
}

/** `12.3 MB` */
export const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
