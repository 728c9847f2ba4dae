import { errorLines, formatValue, jsonError, jsonResult } from "@lego/cli-kit";
import type { Clock, LegoError, LogFields, Logger, Redactor } from "@lego/core";
import { createLogUpdate } from "log-update";
import { paint, type StyleFormat, stripAnsi } from "./color.ts";
import { createTaskList, type TaskList } from "./tasks.ts";

export { formatValue } from "@lego/cli-kit";

/** A writable text stream: `process.stdout`, or a fake one in tests. */
export interface TextStream {
  write(chunk: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
  rows?: number | undefined;
}

/**
 * The renderer a command talks to. stdout carries the result only; everything else (notes,
 * warnings, task lists, errors) goes to stderr. With `--json`, stdout carries exactly one JSON
 * document, written by the framework.
 */
export interface Ui {
  readonly json: boolean;
  /** Whether stderr is coloured; style with {@link Ui.style}, which is a no-op when colour is off. */
  readonly color: boolean;
  /** Colours text (node:util `styleText`) when colour is on for the stream it is written to. */
  style(format: StyleFormat, text: string): string;
  /** A line of the human result, on stdout. In `--json` mode it goes to stderr, to keep stdout one document. */
  print(text?: string): void;
  /** A progress note on stderr. */
  info(text: string): void;
  /** A success note on stderr (green check). */
  success(text: string): void;
  /** A warning on stderr. */
  warn(text: string): void;
  /** A debug line on stderr, shown only with `--debug`. */
  debug(text: string): void;
  /** A task list for long work (live on a terminal, plain lines otherwise). */
  /** A task list; `summary` adds a header (N of M done, running, elapsed) for many parallel tasks. */
  tasks(options?: { summary?: boolean }): TaskList;
  /** Whether live views redraw in place: stderr is a terminal, not CI, not `--json`. */
  readonly live: boolean;
  /**
   * A live view (`lego monitor`): each frame replaces the last one in place on stderr (log-update)
   * when {@link Ui.live}; otherwise each frame is written whole. The last frame stays on screen.
   */
  frame(text: string): void;
}

/** What the framework needs from a renderer beyond what commands see. */
export interface Renderer extends Ui {
  /** Writes the command's result: the JSON document, or the human rendering. */
  result(data: unknown, human: ((data: unknown, ui: Ui) => void) | undefined): void;
  /** Writes an error: the JSON document, or one or two lines (a stack only with `--debug`). */
  error(error: LegoError): void;
  /** Writes raw text (help) to stdout. */
  raw(text: string): void;
  /** A Logger writing through this renderer. */
  logger(): Logger;
  /** Stops live redraws. */
  end(): void;
}

/** Options of {@link createRenderer}. */
export interface RendererOptions {
  stdout: TextStream;
  stderr: TextStream;
  json: boolean;
  debug: boolean;
  colorStdout: boolean;
  colorStderr: boolean;
  /** Live task lists: stderr is a terminal and not `--json`. */
  live: boolean;
  clock: Clock;
  redactor: Redactor;
}

/**
 * Creates the human / JSON renderer. Every byte written passes through the redactor, so a secret
 * registered by a command cannot reach the terminal even by mistake.
 */
export function createRenderer(options: RendererOptions): Renderer {
  const { stdout, stderr, json, debug, redactor } = options;
  const color = options.colorStderr;
  let live: (TaskList & { clearLive(): void; drawLive(): void }) | undefined;
  let frames: ReturnType<typeof createLogUpdate> | undefined;

  const toErr = (text: string): void => {
    const clean = redactor.redact(color ? text : stripAnsi(text));
    live?.clearLive();
    stderr.write(clean.endsWith("\n") ? clean : `${clean}\n`);
    live?.drawLive();
  };
  const toOut = (text: string): void => {
    if (json) {
      toErr(text);
      return;
    }
    const clean = redactor.redact(options.colorStdout ? text : stripAnsi(text));
    stdout.write(clean.endsWith("\n") ? clean : `${clean}\n`);
  };
  const mark = (symbol: string, format: StyleFormat, text: string): string =>
    `${paint(color, format, symbol)} ${text}`;

  const ui: Renderer = {
    json,
    color,
    style: (format, text) => paint(options.colorStdout || color, format, text),
    print: (text = "") => toOut(text),
    info: (text) => toErr(text),
    success: (text) => toErr(mark("✓", "green", text)),
    warn: (text) => toErr(mark("!", "yellow", text)),
    debug: (text) => {
      if (debug) toErr(paint(color, "dim", text));
    },
    tasks(opts) {
      live?.end();
      const list = createTaskList({
        write: (text) => stderr.write(redactor.redact(color ? text : stripAnsiKeepCursor(text))),
        color,
        live: options.live,
        columns: stderr.columns,
        rows: stderr.rows,
        clock: options.clock,
        summary: opts?.summary,
      });
      live = list;
      return list;
    },
    live: options.live,
    frame(text) {
      const clean = redactor.redact(color ? text : stripAnsi(text));
      if (!options.live) {
        stderr.write(clean.endsWith("\n") ? clean : `${clean}\n`);
        return;
      }
      frames ??= createLogUpdate(
        {
          write: (chunk: string) => {
            stderr.write(chunk);
            return true;
          },
          get columns() {
            return stderr.columns ?? 80;
          },
          get rows() {
            return stderr.rows ?? 24;
          },
          isTTY: true,
        } as unknown as NodeJS.WriteStream,
        { showCursor: true },
      );
      frames(clean);
    },
    result(data, human) {
      ui.end();
      if (json) {
        stdout.write(`${redactor.redact(jsonResult(data))}\n`);
        return;
      }
      if (human) human(data, ui);
      else if (data !== undefined && data !== null) toOut(formatValue(data));
    },
    error(error) {
      ui.end();
      if (json) stdout.write(`${redactor.redact(jsonError(error))}\n`);
      for (const line of errorLines(error, { color, debug })) toErr(line);
    },
    raw(text) {
      toOut(text);
    },
    logger() {
      const at =
        (level: "debug" | "info" | "warn" | "error") =>
        (message: string, fields?: LogFields): void => {
          const suffix = fields && debug ? ` ${JSON.stringify(fields)}` : "";
          if (level === "debug") ui.debug(message + suffix);
          else if (level === "info") ui.info(message + suffix);
          else if (level === "warn") ui.warn(message + suffix);
          else toErr(mark("✗", "red", message + suffix));
        };
      return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
    },
    end() {
      live?.end();
      live = undefined;
      frames?.done();
      frames = undefined;
    },
  };
  return ui;
}

// Task-list redraws need their cursor escapes even when colour is off; only SGR (colour) goes.
function stripAnsiKeepCursor(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
