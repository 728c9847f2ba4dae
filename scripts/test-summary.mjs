// Sums the vitest JSON results every workspace package wrote (node_modules/.cache/vitest-results.json,
// restored by turbo on a cache hit) and prints one closing line: "Tests: N passed, N failed".
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const folders = ["packages", "apps", "examples", "examples/portfolio/services"].flatMap((group) =>
  existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => join(root, group, d)) : [],
);
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const dir of folders) {
  const file = join(dir, "node_modules", ".cache", "vitest-results.json");
  if (!existsSync(file)) continue;
  const r = JSON.parse(readFileSync(file, "utf8"));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  rows.push(`  ${dir.slice(root.length)}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
}
console.log(rows.join("\n"));
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
