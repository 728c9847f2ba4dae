// Fails when a package imports across the dependency direction of DESIGN.md, imports a workspace
// package it does not declare, or when the declared graph has a cycle. Run by `pnpm run check`.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

// The DAG of DESIGN.md: each package and what it may depend on directly.
const direct = {
  "@lego/core": [],
  "@lego/runtime": [],
  "@lego/cli-kit": ["@lego/core"],
  "@lego/cloudflare": ["@lego/core"],
  "@lego/emulator": ["@lego/core"],
  "@lego/discovery": ["@lego/cloudflare", "@lego/runtime"],
  "@lego/database": ["@lego/cloudflare", "@lego/discovery"],
  "@lego/secrets": ["@lego/cloudflare", "@lego/discovery"],
  "@lego/deployment": ["@lego/database", "@lego/secrets", "@lego/discovery"],
  "@lego/orchestration": ["@lego/deployment"],
  "@lego/insights": ["@lego/orchestration"],
  "create-lego-service": ["@lego/cli-kit", "@lego/discovery", "@lego/runtime"],
  "@lego/cli": [
    "@lego/orchestration",
    "@lego/insights",
    "@lego/emulator",
    "create-lego-service",
    "@lego/cli-kit",
    "@lego/runtime",
  ],
};

function closure(name, seen = new Set()) {
  for (const dep of direct[name] ?? []) {
    if (!seen.has(dep)) {
      seen.add(dep);
      closure(dep, seen);
    }
  }
  return seen;
}

const problems = [];

// 1. The declared DAG itself has no cycle.
for (const name of Object.keys(direct)) {
  if (closure(name).has(name)) problems.push(`the DAG in scripts/check-deps.mjs has a cycle through ${name}`);
}

function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === "dist") continue;
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry)) out.push(path);
  }
  return out;
}

const importRe =
  /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm;
const workspaceNames = new Set(Object.keys(direct));
// Packages published as a bundle: what they bundle is a devDependency (apps/lego/tsup.config.ts), so
// an import is declared when it is in devDependencies too.
const bundles = new Set(["@lego/cli"]);

for (const group of ["packages", "apps"]) {
  for (const dir of readdirSync(join(root, group))) {
    const pkgDir = join(root, group, dir);
    const manifestPath = join(pkgDir, "package.json");
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    const name = manifest.name;
    if (!(name in direct)) {
      problems.push(
        `${relative(root, manifestPath)}: ${name} is not in the DAG of scripts/check-deps.mjs (add it, per DESIGN.md)`,
      );
      continue;
    }
    const allowed = closure(name);
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...(bundles.has(name) ? Object.keys(manifest.devDependencies ?? {}) : []),
    ]);
    for (const dep of declared) {
      if (workspaceNames.has(dep) && !allowed.has(dep)) {
        problems.push(
          `${relative(root, manifestPath)}: ${name} must not depend on ${dep} (DESIGN.md dependency direction)`,
        );
      }
    }
    for (const file of sourceFiles(join(pkgDir, "src"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(importRe)) {
        const spec = m[1] ?? m[2] ?? m[3];
        const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        if (!workspaceNames.has(pkg) || pkg === name) continue;
        if (!allowed.has(pkg))
          problems.push(
            `${relative(root, file)}: imports ${pkg}, against the dependency direction (${name} may use: ${[...allowed].join(", ") || "nothing"})`,
          );
        else if (!declared.has(pkg))
          problems.push(
            `${relative(root, file)}: imports ${pkg}, which ${relative(root, manifestPath)} does not declare`,
          );
      }
      if (name === "@lego/runtime" && /from\s*["']node:|require\(\s*["']node:/.test(text)) {
        problems.push(
          `${relative(root, file)}: @lego/runtime runs in Workers and must not import node: modules`,
        );
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`Dependency check failed:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("Dependency direction: ok");
