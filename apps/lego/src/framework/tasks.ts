import type { Clock } from "@lego/core";
import { createLogUpdate } from "log-update";
import { paint, type StyleFormat, stripAnsi } from "./color.ts";

/** One unit of long work shown to the user. */
export interface TaskHandle {
  readonly title: string;
  /** A short status beside the title: a live line on a terminal, a note line otherwise. */
  update(detail: string): void;
  /** Marks it done; the duration is shown. */
  succeed(detail?: string): void;
  /** Marks it failed. `TaskList.run` does this itself when the work throws. */
  fail(detail?: string): void;
  /** Marks it skipped, with a reason. */
  skip(reason?: string): void;
}

/**
 * Progress for long work. On a terminal (and without `--json`) it is a live list with spinners,
 * redrawn in place on stderr; otherwise each change is one plain line, which reads well in CI logs.
 *
 * @example
 * const tasks = ctx.ui.tasks();
 * const info = await tasks.run("Start the local cloud", (task) => {
 *   task.update("waiting for the port");
 *   return localCloudUp({ legoHome: ctx.legoHome });
 * });
 * tasks.end();
 */
export interface TaskList {
  add(title: string): TaskHandle;
  /**
   * Event-driven progress: sets the status of the task called `title`, adding it when new. Use a
   * stable title (`api: deploy`) and put what changes in `detail`, so a live list updates one line.
   *
   * @example
   * onProgress: (e) => tasks.update(`${e.service}: ${e.step}`, e.status, e.message)
   */
  update(title: string, status?: TaskStatus, detail?: string): void;
  /** Runs `work` as a task: succeeded when it resolves, failed (and rethrown) when it rejects. */
  run<T>(title: string, work: (task: TaskHandle) => Promise<T>): Promise<T>;
  /** Stops the live redraw. Called by the framework when the command returns; safe to call twice. */
  end(): void;
}

type State = "waiting" | "running" | "done" | "failed" | "skipped";
/** A status as progress events report it. */
export type TaskStatus =
  | "waiting"
  | "running"
  | "ok"
  | "done"
  | "failed"
  | "skipped"
  | "rolled-back"
  | "interrupted";
interface Task {
  title: string;
  state: State;
  detail: string | undefined;
  startedAt: number;
  endedAt: number | undefined;
}

/** Where task lines go; provided by the renderer so redraws interleave correctly with notes. */
export interface TaskSink {
  /** Writes finished text (already redacted) to stderr. */
  write(text: string): void;
  color: boolean;
  live: boolean;
  columns: number | undefined;
  /** Terminal height: the live list never draws more lines than fit, so nothing is left in scrollback. */
  rows?: number | undefined;
  clock: Clock;
  /** Show a header line "N of M done · K running · elapsed" above the list. */
  summary?: boolean | undefined;
}

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const marks: Record<State, [string, StyleFormat]> = {
  waiting: ["·", "dim"],
  running: ["…", "cyan"],
  done: ["✓", "green"],
  failed: ["✗", "red"],
  skipped: ["-", "yellow"],
};

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** A task list bound to a sink. The renderer creates these; commands call `ctx.ui.tasks()`. */
export function createTaskList(sink: TaskSink): TaskList & { clearLive(): void; drawLive(): void } {
  const tasks: Task[] = [];
  let drawn = 0;
  let frame = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let ended = false;

  const line = (task: Task, spinner: string): string => {
    const [mark, format] = marks[task.state];
    const symbol = paint(sink.color, format, task.state === "running" && sink.live ? spinner : mark);
    const elapsed =
      task.endedAt !== undefined && task.state === "done"
        ? ` (${seconds(task.endedAt - task.startedAt)})`
        : "";
    let detail = task.detail ? ` ${task.detail}` : "";
    const width = sink.columns ? sink.columns - 1 : Number.POSITIVE_INFINITY;
    if (2 + task.title.length + detail.length + elapsed.length > width) {
      detail = detail.slice(0, Math.max(0, width - 3 - task.title.length - elapsed.length));
    }
    return `${symbol} ${task.title}${paint(sink.color, "dim", detail + elapsed)}`;
  };

  // log-update erases exactly what it drew last; the list is capped to the terminal's height, so a
  // redraw never has to reach into scrollback (where no terminal can erase, and lines would repeat).
  const live = sink.live
    ? createLogUpdate(
        {
          write: (text: string) => {
            sink.write(text);
            return true;
          },
          get columns() {
            return sink.columns ?? 80;
          },
          get rows() {
            return sink.rows ?? 24;
          },
          isTTY: true,
        } as unknown as NodeJS.WriteStream,
        { showCursor: true },
      )
    : undefined;
  const started = sink.clock.now();
  const header = (): string => {
    const done = tasks.filter((t) => t.state !== "running" && t.state !== "waiting").length;
    const running = tasks.filter((t) => t.state === "running").length;
    const failed = tasks.filter((t) => t.state === "failed").length;
    const elapsed = Math.round((sink.clock.now() - started) / 1000);
    const clock = `${Math.floor(elapsed / 60)}:${String(elapsed % 60).padStart(2, "0")}`;
    return paint(
      sink.color,
      "bold",
      `${done} of ${tasks.length} done · ${running} running${failed ? ` · ${failed} failed` : ""} · ${clock}`,
    );
  };
  const visible = (spinner: string): string[] => {
    const budget = Math.max(3, (sink.rows ?? 24) - 2 - (sink.summary ? 1 : 0));
    let shown = tasks;
    let hidden = "";
    if (tasks.length > budget) {
      // Running and failed first, then waiting, then what is done; what does not fit is counted.
      const rank = (t: Task) =>
        t.state === "running" ? 0 : t.state === "failed" ? 1 : t.state === "waiting" ? 2 : 3;
      const keep = new Set([...tasks].sort((a, b) => rank(a) - rank(b)).slice(0, budget - 1));
      shown = tasks.filter((t) => keep.has(t));
      const rest = tasks.filter((t) => !keep.has(t));
      const by = (st: State) => rest.filter((t) => t.state === st).length;
      hidden = paint(
        sink.color,
        "dim",
        `  … ${rest.length} more (${[
          by("done") ? `${by("done")} done` : "",
          by("waiting") ? `${by("waiting")} waiting` : "",
          by("skipped") ? `${by("skipped")} skipped` : "",
        ]
          .filter(Boolean)
          .join(", ")})`,
      );
    }
    const lines = shown.map((t) => line(t, spinner));
    if (hidden) lines.push(hidden);
    if (sink.summary) lines.unshift(header());
    return lines;
  };
  const clearLive = (): void => {
    if (!live || drawn === 0) return;
    live.clear();
    drawn = 0;
  };
  const drawLive = (): void => {
    if (!live || ended || tasks.length === 0) return;
    const spinner = frames[frame % frames.length] as string;
    const lines = visible(spinner);
    live(lines.join("\n"));
    drawn = lines.length;
  };
  const redraw = (): void => {
    drawLive();
  };
  const tick = (): void => {
    const running = tasks.some((t) => t.state === "running" || t.state === "waiting");
    if (running && !timer && sink.live && !ended) {
      sink.write("\x1b[?25l");
      timer = setInterval(() => {
        frame++;
        redraw();
      }, 80);
      timer.unref?.();
    } else if (!running && timer) {
      clearInterval(timer);
      timer = undefined;
      sink.write("\x1b[?25h");
    }
  };

  const plain = (task: Task, text?: string): void => {
    if (sink.live) return;
    sink.write(`${text ?? line(task, "")}\n`);
  };

  const add = (title: string, announce = true): TaskHandle => {
    const task: Task = {
      title,
      state: "running",
      detail: undefined,
      startedAt: sink.clock.now(),
      endedAt: undefined,
    };
    tasks.push(task);
    if (announce) plain(task);
    if (sink.live) redraw();
    tick();
    const finish = (state: State, detail: string | undefined): void => {
      if (task.state !== "running" && task.state !== "waiting") return;
      task.state = state;
      task.detail = detail;
      task.endedAt = sink.clock.now();
      plain(task);
      if (sink.live) redraw();
      tick();
    };
    return {
      title,
      update(detail) {
        if (task.state !== "running") return;
        task.detail = stripAnsi(detail);
        if (sink.live) redraw();
        else plain(task, `  ${paint(sink.color, "dim", `${title}: ${task.detail}`)}`);
      },
      succeed: (detail) => finish("done", detail),
      fail: (detail) => finish("failed", detail),
      skip: (reason) => finish("skipped", reason ? `skipped: ${reason}` : "skipped"),
    };
  };

  const handles = new Map<string, TaskHandle>();
  return {
    add,
    update(title, status = "running", detail) {
      const open = tasks.find((t) => t.title === title && (t.state === "running" || t.state === "waiting"));
      let handle = open ? handles.get(title) : undefined;
      if (status === "waiting") {
        if (handle) return;
        handle = add(title, false);
        const task = tasks.at(-1) as Task;
        task.state = "waiting";
        task.detail = detail;
        handles.set(title, handle);
        if (sink.live) redraw();
        return;
      }
      if (open?.state === "waiting" && status === "running") {
        open.state = "running";
        open.startedAt = sink.clock.now();
        if (!sink.live) plain(open);
      }
      if (status === "running") {
        if (!handle) {
          handle = add(title);
          handles.set(title, handle);
        }
        if (detail) handle.update(detail);
        return;
      }
      // Finished without a "running" event first: one final line, no start line.
      if (!handle) {
        handle = add(title, false);
        handles.set(title, handle);
      }
      if (status === "ok" || status === "done") handle.succeed(detail);
      else if (status === "skipped") handle.skip(detail);
      else if (status === "interrupted") handle.fail(`interrupted${detail ? `: ${detail}` : ""}`);
      else handle.fail(status === "rolled-back" ? `rolled back${detail ? `: ${detail}` : ""}` : detail);
    },
    async run(title, work) {
      const handle = add(title);
      try {
        const result = await work(handle);
        handle.succeed();
        return result;
      } catch (error) {
        handle.fail();
        throw error;
      }
    },
    end() {
      if (ended) return;
      if (timer) {
        clearInterval(timer);
        timer = undefined;
        redraw();
        sink.write("\x1b[?25h");
      }
      // What the list showed last stays on screen, as it was.
      if (live && drawn > 0) live.done();
      ended = true;
      drawn = 0;
    },
    clearLive,
    drawLive,
  };
}
