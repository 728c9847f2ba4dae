import type { Clock } from "@lego/core";
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

type State = "running" | "done" | "failed" | "skipped";
/** A status as progress events report it. */
export type TaskStatus = "running" | "ok" | "done" | "failed" | "skipped" | "rolled-back";
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
  clock: Clock;
}

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const marks: Record<State, [string, StyleFormat]> = {
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

  const clearLive = (): void => {
    if (!sink.live || drawn === 0) return;
    sink.write("\x1b[1A\x1b[2K".repeat(drawn) + "\r");
    drawn = 0;
  };
  const drawLive = (): void => {
    if (!sink.live || ended || tasks.length === 0) return;
    const spinner = frames[frame % frames.length] as string;
    const text = tasks.map((t) => line(t, spinner)).join("\n");
    sink.write(`${text}\n`);
    drawn = tasks.length;
  };
  const redraw = (): void => {
    clearLive();
    drawLive();
  };
  const tick = (): void => {
    const running = tasks.some((t) => t.state === "running");
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
      if (task.state !== "running") return;
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
      const running = tasks.some((t) => t.title === title && t.state === "running");
      let handle = running ? handles.get(title) : undefined;
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
      ended = true;
      drawn = 0;
    },
    clearLive,
    drawLive,
  };
}
