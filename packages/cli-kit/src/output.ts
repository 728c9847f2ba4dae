import type { LegoError } from "@lego/core";
import { paint } from "./color.ts";

/** The flags the kit owns on every command, wherever they appear before `--`. */
export interface GlobalFlags {
  json: boolean;
  debug: boolean;
  help: boolean;
  version: boolean;
}

/**
 * Takes the kit's own flags (`--json`, `--debug`, `--help`/`-h`, `--version`) out of argv, wherever
 * they are before `--`; what is left goes to the command's parser.
 */
export function extractGlobalFlags(argv: readonly string[]): { flags: GlobalFlags; rest: string[] } {
  const flags: GlobalFlags = { json: false, debug: false, help: false, version: false };
  const rest: string[] = [];
  let passthrough = false;
  for (const token of argv) {
    if (passthrough) {
      rest.push(token);
      continue;
    }
    if (token === "--") passthrough = true;
    if (token === "--json") flags.json = true;
    else if (token === "--debug") flags.debug = true;
    else if (token === "--help" || token === "-h") flags.help = true;
    else if (token === "--version") flags.version = true;
    else rest.push(token);
  }
  return { flags, rest };
}

/** The `error` of the `--json` document: code, message, hint, exit code and details. */
export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
  exitCode: number;
  details?: Record<string, unknown>;
}

/** The `error` member of a failed `--json` document. */
export function errorBody(error: LegoError): ErrorBody {
  return {
    code: error.code,
    message: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    exitCode: error.exitCode,
    ...(error.details ? { details: error.details } : {}),
  };
}

/** The one `--json` document of a success: `{"ok":true,"data":…}` (no newline). */
export function jsonResult(data: unknown): string {
  return JSON.stringify({ ok: true, data: data ?? null });
}

/** The one `--json` document of a failure: `{"ok":false,"error":{code,message,hint,exitCode,details}}`. */
export function jsonError(error: LegoError): string {
  return JSON.stringify({ ok: false, error: errorBody(error) });
}

/**
 * The human rendering of an error, one entry per line for stderr: `✗ message`, the hint indented,
 * and with `debug` the code and the stacks (a cause chain, five deep); never a stack otherwise.
 */
export function errorLines(error: LegoError, options: { color: boolean; debug: boolean }): string[] {
  const { color, debug } = options;
  const lines = [`${paint(color, "red", "✗")} ${error.message}`];
  if (error.hint) lines.push(`  ${paint(color, "dim", error.hint)}`);
  if (debug) {
    lines.push(paint(color, "dim", `  code: ${error.code}, exit code: ${error.exitCode}`));
    let current: unknown = error;
    let depth = 0;
    while (current instanceof Error && depth < 5) {
      if (current.stack)
        lines.push(paint(color, "dim", depth === 0 ? current.stack : `Caused by: ${current.stack}`));
      current = current.cause;
      depth++;
    }
  } else if (error.kind === "system") {
    lines.push(`  ${paint(color, "dim", "Run again with --debug for details.")}`);
  }
  return lines;
}

/**
 * The default human rendering of a result with no renderer of its own: `key: value` lines, nested
 * objects indented, arrays as `- item` lines.
 */
export function formatValue(value: unknown, indent = ""): string {
  if (value === null || value === undefined) return `${indent}-`;
  if (typeof value !== "object") return `${indent}${String(value)}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`;
    return value
      .map((item) =>
        item !== null && typeof item === "object"
          ? `${indent}-\n${formatValue(item, `${indent}  `)}`
          : `${indent}- ${String(item)}`,
      )
      .join("\n");
  }
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) =>
      v !== null && typeof v === "object"
        ? `${indent}${k}:\n${formatValue(v, `${indent}  `)}`
        : `${indent}${k}: ${v === null ? "-" : String(v)}`,
    )
    .join("\n");
}
