import { LegoError, type LocalCloudInfo, localCloudInfoPath } from "@lego/core";
import { parseIntegerFlag } from "../framework/args.ts";
import { type CommandContext, defineCommand, defineGroup } from "../framework/define.ts";
import type { Ui } from "../framework/ui.ts";

// The library functions `lego local` calls (@lego/emulator). Loaded on use: the emulator pulls in
// Miniflare, which no other command should pay for at start-up.
interface EmulatorLifecycle {
  localCloudUp(options: { legoHome: string; port?: number; zones?: string[] }): Promise<unknown>;
  localCloudStatus(options: { legoHome: string }): Promise<unknown>;
  localCloudDown(options: { legoHome: string }): Promise<unknown>;
  localCloudReset(options: { legoHome: string }): Promise<unknown>;
}

async function emulator<K extends keyof EmulatorLifecycle>(name: K): Promise<EmulatorLifecycle[K]> {
  const mod = (await import("@lego/emulator")) as Record<string, unknown>;
  const fn = mod[name];
  if (typeof fn !== "function") {
    throw new LegoError({
      code: "ERR_COMMAND_UNAVAILABLE",
      message: `This build of lego has no local cloud yet: @lego/emulator does not export ${name}`,
      hint: "Rebuild lego (scripts/bootstrap) from a checkout where @lego/emulator is complete.",
      kind: "system",
    });
  }
  return fn as EmulatorLifecycle[K];
}

/** What `lego local up|status` return: the local cloud's addresses, never its token. */
export interface LocalCloudView {
  running: boolean;
  /** e.g. http://127.0.0.1:8787/client/v4 — set CLOUDFLARE_API_BASE_URL to it for a plain wrangler. */
  apiBaseUrl?: string;
  /** Replace `{host}`: http://{host}.localhost:8787 */
  workersUrlPattern?: string;
  pid?: number;
  port?: number;
  accountId?: string;
  accountSubdomain?: string;
  stateDir?: string;
  startedAt?: string;
  version?: string;
  /** Where the pid, port and token are recorded (the token is read from there, never printed). */
  infoFile: string;
}

function isInfo(value: unknown): value is LocalCloudInfo {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { apiBaseUrl?: unknown }).apiBaseUrl === "string"
  );
}

/** Accepts the emulator's info or status object (`LocalCloudInfo`, `{ running, info }`, or null). */
function toView(ctx: CommandContext, value: unknown): LocalCloudView {
  const infoFile = localCloudInfoPath(ctx.legoHome);
  const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const info = isInfo(value) ? value : isInfo(record.info) ? record.info : undefined;
  const running = typeof record.running === "boolean" ? record.running : info !== undefined;
  if (!info) return { running, infoFile };
  ctx.redactor.add(info.token);
  return {
    running,
    apiBaseUrl: info.apiBaseUrl,
    workersUrlPattern: info.workersUrlPattern,
    pid: info.pid,
    port: info.port,
    accountId: info.accountId,
    accountSubdomain: info.accountSubdomain,
    stateDir: info.stateDir,
    startedAt: info.startedAt,
    version: info.version,
    infoFile,
  };
}

function printView(view: LocalCloudView, ui: Ui): void {
  if (!view.running) {
    ui.print(`Local cloud: ${ui.style("yellow", "not running")}`);
    ui.print(ui.style("dim", "Start it with `lego local up`."));
    return;
  }
  const rows: Array<[string, string | number | undefined]> = [
    ["API", view.apiBaseUrl],
    ["Workers", view.workersUrlPattern],
    ["Account", view.accountId],
    ["PID", view.pid],
    ["State", view.stateDir],
    ["Token", `in ${view.infoFile} (never printed)`],
  ];
  ui.print(`Local cloud: ${ui.style("green", "running")}`);
  for (const [label, value] of rows) if (value !== undefined) ui.print(`  ${label.padEnd(8)} ${value}`);
  if (view.apiBaseUrl) {
    ui.print(ui.style("dim", `Point a plain wrangler at it: CLOUDFLARE_API_BASE_URL=${view.apiBaseUrl}`));
  }
}

/** `lego local up`: starts the local cloud in the background (or reports the running one). */
export const localUpCommand = defineCommand({
  meta: {
    name: "up",
    description: "Start the local cloud in the background",
    examples: [
      "lego local up",
      "lego local up --port 8787 --zone example.com",
      "lego local up --port 0 --json",
    ],
  },
  args: {
    port: {
      type: "string",
      description:
        "Port for the API and the Workers (0 picks a free one). Default: LEGO_LOCAL_PORT or the emulator's",
      valueHint: "port",
    },
    zone: {
      type: "string",
      multiple: true,
      description: "A zone to create (repeatable, or comma-separated)",
      valueHint: "example.com",
    },
  },
  async run(ctx, args) {
    const port = parseIntegerFlag(args.port, "--port", { min: 0, max: 65535 }) ?? ctx.env.LEGO_LOCAL_PORT;
    const zones = args.zone
      .flatMap((z) => z.split(","))
      .map((z) => z.trim())
      .filter(Boolean);
    const up = await emulator("localCloudUp");
    const tasks = ctx.ui.tasks();
    const info = await tasks.run("Start the local cloud", () =>
      up({
        legoHome: ctx.legoHome,
        ...(port !== undefined ? { port } : {}),
        ...(zones.length ? { zones } : {}),
      }),
    );
    tasks.end();
    return toView(ctx, isInfo(info) ? { running: true, info } : info);
  },
  human: printView,
});

/** `lego local status`: whether the local cloud runs, and where. */
export const localStatusCommand = defineCommand({
  meta: {
    name: "status",
    description: "Show whether the local cloud is running, its API base URL and Workers URL pattern",
    examples: ["lego local status", "lego local status --json"],
  },
  async run(ctx) {
    const status = await emulator("localCloudStatus");
    return toView(ctx, await status({ legoHome: ctx.legoHome }));
  },
  human: printView,
});

/** `lego local down`: stops the background local cloud; its state stays. */
export const localDownCommand = defineCommand({
  meta: {
    name: "down",
    description: "Stop the local cloud (its state is kept)",
    examples: ["lego local down"],
  },
  async run(ctx) {
    const before = toView(ctx, await (await emulator("localCloudStatus"))({ legoHome: ctx.legoHome }));
    const down = await emulator("localCloudDown");
    const tasks = ctx.ui.tasks();
    await tasks.run("Stop the local cloud", () => down({ legoHome: ctx.legoHome }));
    tasks.end();
    return { stopped: before.running, ...(before.pid !== undefined ? { pid: before.pid } : {}) };
  },
  human(result, ui) {
    ui.print(
      result.stopped ? `Local cloud stopped (pid ${result.pid ?? "?"}).` : "Local cloud was not running.",
    );
  },
});

/** `lego local reset`: deletes the local cloud's state (scripts, versions, secrets, D1 data). */
export const localResetCommand = defineCommand({
  meta: {
    name: "reset",
    description: "Delete the local cloud's state: Workers, versions, secrets, D1 data",
    examples: ["lego local reset", "lego local reset --yes"],
  },
  args: {
    yes: {
      type: "boolean",
      alias: "y",
      description: "Do not ask for confirmation (required without a terminal)",
    },
  },
  async run(ctx, args) {
    if (!args.yes) {
      const ok = await ctx.prompter.confirm({
        message: `Delete all local cloud state under ${ctx.legoHome}/local?`,
        default: false,
        flag: "--yes",
      });
      if (!ok) return { reset: false };
    }
    const reset = await emulator("localCloudReset");
    const tasks = ctx.ui.tasks();
    await tasks.run("Reset the local cloud", () => reset({ legoHome: ctx.legoHome }));
    tasks.end();
    return { reset: true };
  },
  human(result, ui) {
    ui.print(result.reset ? "Local cloud state deleted." : "Nothing deleted.");
  },
});

/** `lego local …`: the local cloud (Cloudflare's API and Workers on 127.0.0.1). */
export const localGroup = defineGroup({
  meta: {
    name: "local",
    description: "Run the local cloud: Cloudflare's API and your Workers on 127.0.0.1",
  },
  commands: [localUpCommand, localStatusCommand, localDownCommand, localResetCommand],
});
