import { stripVTControlCharacters, styleText } from "node:util";

/** A format `node:util` `styleText` accepts (`"red"`, `["bold", "green"]`, …). */
export type StyleFormat = Parameters<typeof styleText>[0];

/**
 * Whether to colour a stream. `FORCE_COLOR` wins (as in Node: `0`/`false` off, anything else on),
 * then `NO_COLOR` (any non-empty value: off), then whether the stream is a terminal.
 */
export function shouldUseColor(env: { NO_COLOR?: string; FORCE_COLOR?: string }, isTTY: boolean): boolean {
  if (env.FORCE_COLOR !== undefined) return !/^(0|false)$/i.test(env.FORCE_COLOR.trim());
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return isTTY;
}

/**
 * The one colour helper: styles `text` when `enabled`, else returns it unchanged. The decision is
 * made by the caller (see {@link shouldUseColor}), never by Node's per-stream check, so in-process
 * tests with fake streams get exactly what a terminal or a pipe would.
 */
export function paint(enabled: boolean, format: StyleFormat, text: string): string {
  return enabled ? styleText(format, text, { validateStream: false }) : text;
}

/** Removes ANSI escapes (colour from a library or from citty's usage renderer). */
export function stripAnsi(text: string): string {
  return stripVTControlCharacters(text);
}
