import { readFile } from "node:fs/promises";
import { sep } from "node:path";
import { UsageError } from "@lego/core";
import type { Message } from "esbuild";
import type { Jiti } from "jiti";

/** A config module after evaluation, with every local file it loaded (for cache invalidation). */
export interface LoadedModule {
  file: string;
  exports: Record<string, unknown>;
  /** Absolute paths of the module and the local files it imported (never under node_modules). */
  inputs: string[];
}

/**
 * Loads config modules written in TypeScript or JavaScript (ESM or CommonJS): `src/config/domains.ts`,
 * the seed's plain `domains.js`, `lego.config.ts`.
 *
 * Evaluation is jiti's (resolution, ESM/CJS interop); the TypeScript/ESM transform is esbuild's, run
 * for a whole batch in parallel before evaluation, because jiti's own Babel transform costs about
 * 2 ms per file and a 1,000-service portfolio must scan cold in well under 3 s. `@lego/runtime` and
 * the seed's `@tamyla/lego-framework` resolve to the copy of `@lego/runtime` Lego runs with, so a
 * domain config needs no `node_modules` of its own to be discovered.
 */
export interface ModuleLoader {
  /** Loads each file; a file that fails is reported in `errors`, never thrown, so a scan can report all. */
  loadAll(
    files: readonly string[],
  ): Promise<{ modules: Map<string, LoadedModule>; errors: Map<string, UsageError> }>;
}

const RUNTIME_ALIASES = ["@lego/runtime", "@tamyla/lego-framework"] as const;

function loaderFor(filename: string): "ts" | "tsx" | "js" | "jsx" {
  if (/\.[cm]?ts$/.test(filename)) return "ts";
  if (filename.endsWith(".tsx")) return "tsx";
  if (filename.endsWith(".jsx")) return "jsx";
  return "js";
}

function esbuildOptions(filename: string) {
  return {
    loader: loaderFor(filename),
    format: "cjs" as const,
    target: "node22",
    sourcefile: filename,
    logLevel: "silent" as const,
  };
}

function parseErrorFrom(file: string, error: unknown): UsageError {
  const first = (error as { errors?: Message[] }).errors?.[0];
  const where = first?.location ? `:${first.location.line}:${first.location.column + 1}` : "";
  const text = first?.text ?? (error instanceof Error ? error.message : String(error));
  return new UsageError({
    code: "ERR_CONFIG_PARSE",
    message: `${file}${where}: ${text}`,
    hint: "Fix the syntax at that line.",
    details: { file },
  });
}

function loadErrorFrom(file: string, error: unknown): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  return new UsageError({
    code: "ERR_DOMAIN_CONFIG_LOAD",
    message: `${file}: failed to load: ${message.split("\n")[0]}`,
    hint: "The module must evaluate without side effects that need a Worker or the network; fix the error it threw.",
    details: { file },
    cause: error,
  });
}

/**
 * Creates a {@link ModuleLoader}. `displayPath` turns an absolute path into the name used in errors
 * (relative to the portfolio root).
 */
export function createModuleLoader(options: { displayPath?: (file: string) => string } = {}): ModuleLoader {
  const display = options.displayPath ?? ((f: string) => f);

  return {
    async loadAll(files) {
      // Loaded on first use only: a warm `lego list` never evaluates a config and must not pay for these.
      const [{ transform, transformSync }, { createJiti }, runtime] = await Promise.all([
        import("esbuild"),
        import("jiti"),
        import("@lego/runtime"),
      ]);
      const virtualModules = Object.fromEntries(RUNTIME_ALIASES.map((id) => [id, runtime]));
      const modules = new Map<string, LoadedModule>();
      const errors = new Map<string, UsageError>();
      const precompiled = new Map<string, string>();

      // One parallel esbuild pass over the entry files; files they import are transformed on demand.
      await Promise.all(
        files.map(async (file) => {
          try {
            const source = await readFile(file, "utf8");
            const result = await transform(source, esbuildOptions(file));
            precompiled.set(file, result.code);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "ENOENT") {
              errors.set(file, loadErrorFrom(display(file), error));
            } else if (!isTopLevelAwait(error)) {
              errors.set(file, parseErrorFrom(display(file), error));
            }
          }
        }),
      );

      let current: Set<string> | undefined;
      let fallback: Jiti | undefined;
      const jiti = createJiti(import.meta.url, {
        fsCache: false,
        moduleCache: false,
        interopDefault: true,
        virtualModules,
        transform(opts) {
          const filename = opts.filename ?? "";
          if (filename && !filename.includes(`${sep}node_modules${sep}`)) current?.add(filename);
          const ready = precompiled.get(filename);
          if (ready !== undefined) return { code: ready };
          return { code: transformSync(opts.source, esbuildOptions(filename || "module.js")).code };
        },
      });

      for (const file of files) {
        if (errors.has(file)) continue;
        current = new Set([file]);
        try {
          if (!precompiled.has(file) && !fallback) {
            fallback = createJiti(import.meta.url, { fsCache: false, moduleCache: false, virtualModules });
          }
          const loader = precompiled.has(file) ? jiti : fallback!;
          const exports = (await loader.import(file)) as Record<string, unknown>;
          modules.set(file, { file, exports: exports ?? {}, inputs: [...current].sort() });
        } catch (error) {
          errors.set(
            file,
            (error as { errors?: unknown }).errors
              ? parseErrorFrom(display(file), error)
              : loadErrorFrom(display(file), error),
          );
        } finally {
          current = undefined;
        }
      }
      return { modules, errors };
    },
  };
}

function isTopLevelAwait(error: unknown): boolean {
  // esbuild cannot emit top-level await as CommonJS; such files go through jiti's own transform.
  return ((error as { errors?: Message[] }).errors ?? []).some((m) => /top-level await/i.test(m.text));
}
