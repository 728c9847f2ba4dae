import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { localCloudInfoPath, UsageError } from "@lego/core";
import type { LocalCloudStatus } from "@lego/emulator/lifecycle";
import { parseIntegerFlag } from "../framework/args.ts";
import { type CommandContext, defineCommand, defineGroup } from "../framework/define.ts";
import type { Ui } from "../framework/ui.ts";

// @lego/emulator is loaded on use: it pulls in Miniflare, which no other command should pay for at
// start-up.
const emulator = () => import("@lego/emulator/lifecycle");

/** What `lego local up|status` return: the local cloud's addresses, never its token. */
export interface LocalCloudView {
  running: boolean;
  /** `up` only: false when one was already running (nothing was started). */
  started?: boolean;
  /** Why it is not running, when a stale server.json was found. */
  reason?: string;
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

/** The emulator's status as a view without the token (which is registered with the redactor). */
function toView(ctx: CommandContext, status: LocalCloudStatus, started?: boolean): LocalCloudView {
  const infoFile = localCloudInfoPath(ctx.legoHome);
  const base = {
    running: status.running,
    ...(started !== undefined ? { started } : {}),
    ...(status.reason ? { reason: status.reason } : {}),
  };
  const info = status.info;
  if (!info) return { ...base, infoFile };
  ctx.redactor.add(info.token);
  return {
    ...base,
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
    ui.print(`Local cloud: ${ui.style("yellow", "not running")}${view.reason ? ` (${view.reason})` : ""}`);
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
  ui.print(`Local cloud: ${ui.style("green", view.started === false ? "already running" : "running")}`);
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
      "lego local up --root ./my-portfolio",
      "lego local up --faults faults.json --seed 42",
    ],
  },
  args: {
    faults: {
      type: "string",
      description:
        "JSON file of API fault rules ({ route, kind: 429|5xx|latency|drop|lost, probability }); applied when this starts the cloud",
      valueHint: "file",
    },
    seed: {
      type: "string",
      description: "Seed of the fault generator, for repeatable runs (default 1)",
      valueHint: "n",
    },
    root: {
      type: "string",
      description:
        "Portfolio whose domain configs name the accounts and zones to adopt (default: the current folder, when it holds one)",
      valueHint: "folder",
    },
    port: {
      type: "string",
      description:
        "Port for the API and the Workers (0 picks a free one). Default: LEGO_LOCAL_PORT, else a free one",
      valueHint: "port",
    },
    zone: {
      type: "string",
      multiple: true,
      description: "A zone to create (repeatable, or comma-separated); added to a running cloud too",
      valueHint: "example.com",
    },
  },
  async run(ctx, args) {
    const port = parseIntegerFlag(args.port, "--port", { min: 0, max: 65535 }) ?? ctx.env.LEGO_LOCAL_PORT;
    const zones = args.zone
      .flatMap((z) => z.split(","))
      .map((z) => z.trim().toLowerCase())
      .filter(Boolean);
    // A zone is a domain name: labels of letters, digits and inner hyphens, at least two of them.
    const bad = zones.find(
      (z) => z.length > 253 || !/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/.test(z),
    );
    if (bad !== undefined)
      throw new UsageError({
        code: "ERR_BAD_FLAG",
        message: `--zone ${JSON.stringify(bad)} is not a domain name`,
        hint: "Pass a zone such as example.com (letters, digits and hyphens, dot-separated).",
      });
    const { localCloudUp, localCloudDown, readFaultFile } = await emulator();
    const seed = parseIntegerFlag(args.seed, "--seed", { min: 0 });
    const faults = args.faults ? await readFaultFile(resolve(ctx.cwd, args.faults)) : undefined;
    const adopted = await portfolioToAdopt(ctx, args.root);
    const seeds = [...zones, ...(adopted?.zones ?? [])];
    const accounts = adopted?.accounts ?? [];
    const tasks = ctx.ui.tasks();
    const { started, info } = await tasks.run("Start the local cloud", () =>
      localCloudUp({
        legoHome: ctx.legoHome,
        ...(port !== undefined ? { port } : {}),
        ...(seeds.length ? { zones: seeds } : {}),
        ...(accounts.length ? { accounts } : {}),
        ...(adopted?.d1.length ? { d1Databases: adopted.d1 } : {}),
        ...(faults ? { faults } : {}),
        ...(seed !== undefined ? { seed } : {}),
      }),
    );
    tasks.end();
    // localCloudUp takes no signal; when Ctrl-C came while it started one, stop it again rather
    // than leave a background process the user asked not to have.
    if (ctx.signal.aborted && started) await localCloudDown({ legoHome: ctx.legoHome });
    return toView(ctx, { running: true, info }, started);
  },
  human: printView,
});

/**
 * The zones and accounts the portfolio at `--root` (or the current folder, when it holds a portfolio)
 * names, so `lego local up` adopts them as every command that starts the cloud does. No portfolio there:
 * nothing to adopt.
 */
async function portfolioToAdopt(
  ctx: CommandContext,
  root: string | undefined,
): Promise<
  | {
      zones: Array<string | { name: string; id?: string; accountId?: string }>;
      accounts: string[];
      d1: Array<{ uuid: string; name: string }>;
    }
  | undefined
> {
  const dir = root ? (isAbsolute(root) ? root : resolve(ctx.cwd, root)) : ctx.cwd;
  const looksLikePortfolio =
    root !== undefined ||
    existsSync(join(dir, "services")) ||
    readdirSync(dir, { withFileTypes: false }).some((f) => String(f).startsWith("lego.config."));
  if (!looksLikePortfolio) return undefined;
  const [{ scanPortfolio, portfolioZones }, { portfolioAdoption }] = await Promise.all([
    import("@lego/discovery"),
    emulator(),
  ]);
  const portfolio = await scanPortfolio({ root: dir, logger: ctx.logger, clock: ctx.clock });
  if (portfolio.services.length === 0) return undefined;
  const adopted = portfolioAdoption(portfolio);
  return {
    zones: [...portfolioZones(portfolio), ...adopted.zones],
    accounts: adopted.accounts,
    d1: adopted.d1,
  };
}

/** `lego local status`: whether the local cloud runs, and where. */
export const localStatusCommand = defineCommand({
  meta: {
    name: "status",
    description: "Show whether the local cloud is running, its API base URL and Workers URL pattern",
    examples: ["lego local status", "lego local status --json"],
  },
  async run(ctx) {
    const { localCloudStatus } = await emulator();
    return toView(ctx, await localCloudStatus({ legoHome: ctx.legoHome }));
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
    const { localCloudDown, localCloudStatus } = await emulator();
    const before = await localCloudStatus({ legoHome: ctx.legoHome });
    const tasks = ctx.ui.tasks();
    const { stopped } = await tasks.run("Stop the local cloud", () =>
      localCloudDown({ legoHome: ctx.legoHome }),
    );
    tasks.end();
    return { stopped, ...(stopped && before.info ? { pid: before.info.pid } : {}) };
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
    description: "Delete the local cloud's state: Workers, versions, secrets, D1 data (stops it first)",
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
      if (!ok) return { reset: false, stopped: false };
    }
    const { localCloudReset } = await emulator();
    const tasks = ctx.ui.tasks();
    const { stopped } = await tasks.run("Reset the local cloud", () =>
      localCloudReset({ legoHome: ctx.legoHome }),
    );
    tasks.end();
    return { reset: true, stopped };
  },
  human(result, ui) {
    if (!result.reset) ui.print("Nothing deleted.");
    else ui.print(`Local cloud state deleted${result.stopped ? " (it was running: stopped first)" : ""}.`);
  },
});

/** `lego local trigger <script> [--cron "<expr>"]`: fires a deployed Worker's cron trigger now. */
export const localTriggerCommand = defineCommand({
  meta: {
    name: "trigger",
    description: "Fire a deployed Worker's scheduled handler now (its cron trigger, or --cron)",
    examples: ["lego local trigger reports", 'lego local trigger reports --cron "0 3 * * *" --json'],
  },
  args: {
    script: { type: "positional", description: "The Worker script name", required: true },
    cron: {
      type: "string",
      description: "The cron expression the handler sees (default: the Worker's first cron trigger)",
      valueHint: "expr",
    },
  },
  async run(ctx, args) {
    const { triggerLocalCloudCron } = await emulator();
    return triggerLocalCloudCron({ legoHome: ctx.legoHome }, String(args.script), args.cron);
  },
  human(result, ui) {
    const ok = result.outcome === "ok";
    ui.print(
      `${result.script}: scheduled "${result.cron}" ${ok ? ui.style("green", "ok") : ui.style("red", result.outcome)}`,
    );
  },
});

/** `lego local …`: the local cloud (Cloudflare's API and Workers on 127.0.0.1). */
export const localGroup = defineGroup({
  meta: {
    name: "local",
    description: "Run the local cloud: Cloudflare's API and your Workers on 127.0.0.1",
  },
  commands: [localUpCommand, localStatusCommand, localDownCommand, localResetCommand, localTriggerCommand],
});
