import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { noNodeBuiltins } from "../build/no-node-builtins.ts";
import tsupConfig from "../tsup.config.ts";

const here = join(import.meta.dirname, "..");
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function bundle(entry: string) {
  return build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    external: ["zod", "zod/*"],
    plugins: [noNodeBuiltins()],
    logLevel: "silent",
  });
}

describe("the Worker-safety guard", () => {
  it("fails a build that imports a Node built-in, with or without the node: prefix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lego-runtime-guard-"));
    dirs.push(dir);
    for (const [file, spec] of [
      ["prefixed.ts", "node:fs"],
      ["bare.ts", "path"],
      ["subpath.ts", "fs/promises"],
    ] as const) {
      await writeFile(join(dir, file), `import * as m from "${spec}";\nexport const x = m;\n`);
      await expect(bundle(join(dir, file))).rejects.toThrow(
        `"${spec}" is a Node built-in: @lego/runtime runs inside Workers and must not import it`,
      );
    }
  });

  it("passes on the package's own sources, which import only zod", async () => {
    const result = await bundle(join(here, "src/index.ts"));
    expect(result.errors).toEqual([]);
    expect(result.outputFiles[0]?.text).toContain("initializeService");
  });

  it("is wired into the package build", () => {
    const config = tsupConfig as {
      platform?: string;
      removeNodeProtocol?: boolean;
      esbuildPlugins?: { name: string }[];
    };
    expect(config.platform).toBe("neutral");
    // tsup's own node-protocol plugin would otherwise externalise `node:` imports before ours runs.
    expect(config.removeNodeProtocol).toBe(false);
    expect(config.esbuildPlugins?.map((p) => p.name)).toContain("lego-no-node-builtins");
  });

  it("finds no process.env (or any process access) in the sources", async () => {
    const files = (await readdir(join(here, "src"), { recursive: true })).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = await readFile(join(here, "src", file), "utf8");
      expect(text, file).not.toMatch(/\bprocess\.|from "node:|require\(/);
    }
  });
});
