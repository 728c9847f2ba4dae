// Runs every benchmark in this folder (files named *.bench.mjs), one after another, and prints what
// each reports. Targets are ratios against a baseline measured in the same run, never absolute times.

import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter(
  (f) => f.endsWith(".bench.mjs") && (only.length === 0 || only.some((o) => f.includes(o))),
);
if (files.length === 0) console.log("no benchmarks matched");
for (const file of files.sort()) {
  console.log(`\n# ${file}`);
  execFileSync(process.execPath, [join(here, file)], { stdio: "inherit" });
}
