// Fails when a package's source throws an error code (`code: "ERR_…"`) that no package lists in its
// registry (the `as const` lists in `src/errors.ts` and `src/**/errors.ts`), so every stable code is
// documented where users and tests look for it. Run by `pnpm run check`.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const sources = ["packages", "apps"].flatMap((group) =>
  readdirSync(join(root, group)).flatMap((name) => {
    try {
      return readdirSync(join(root, group, name, "src"), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
        .map((e) => join(e.parentPath, e.name));
    } catch {
      return [];
    }
  }),
);
const registered = new Set();
const thrown = [];
for (const file of sources) {
  const text = readFileSync(file, "utf8");
  if (/(^|\/)errors\.ts$/.test(file))
    for (const m of text.matchAll(/"(ERR_[A-Z0-9_]+)"/g)) registered.add(m[1]);
  for (const m of text.matchAll(/\bcode:\s*"(ERR_[A-Z0-9_]+)"/g)) {
    const line = text.slice(0, m.index).split("\n").length;
    thrown.push({ code: m[1], where: `${relative(root, file)}:${line}` });
  }
}
const missing = thrown.filter((t) => !registered.has(t.code));
if (missing.length > 0) {
  for (const m of missing) console.error(`${m.where}: ${m.code} is in no package's error-code registry`);
  console.error("Add each code to its package's src/errors.ts list (codes are a documented contract).");
  process.exit(1);
}
console.log(`Error codes: ${new Set(thrown.map((t) => t.code)).size} thrown, all registered`);
