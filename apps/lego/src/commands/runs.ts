// `lego runs list|show`: every run (deploys, rollbacks, database and secrets runs), also those that
// were interrupted or killed, from @lego/orchestration's run records.
import { isAbsolute, resolve } from "node:path";
import { UsageError } from "@lego/core";
import type { RunSummary } from "@lego/orchestration";
import { defineCommand, defineGroup } from "../framework/define.ts";
import type { Ui } from "../framework/ui.ts";
import { rootArg } from "../wiring.ts";

const rootOf = (cwd: string, root: string | undefined) =>
  root ? (isAbsolute(root) ? root : resolve(cwd, root)) : cwd;

const statusStyle: Record<RunSummary["status"], Parameters<Ui["style"]>[0]> = {
  ok: "green",
  failed: "red",
  interrupted: "yellow",
  running: "cyan",
};

const runsList = defineCommand({
  meta: {
    name: "list",
    description: "List runs, newest first (deploys, rollbacks, db and secrets runs; killed ones too)",
    examples: ["lego runs list", "lego runs list --json"],
  },
  args: { ...rootArg },
  async run(ctx, args) {
    const { listRunSummaries } = await import("@lego/orchestration");
    const runs = await listRunSummaries(rootOf(ctx.cwd, args.root));
    return {
      runs: runs.map((r) => ({
        runId: r.runId,
        kind: r.kind,
        command: r.command,
        status: r.status,
        ok: r.status === "ok",
        target: r.target,
        who: r.who,
        startedAt: r.startedAt,
        durationMs: r.durationMs,
        services: r.services,
        ...(r.lastEvent ? { lastEvent: r.lastEvent } : {}),
      })),
    };
  },
  human(result, ui) {
    if (result.runs.length === 0) return ui.print("No runs yet.");
    for (const r of result.runs) {
      const status = ui.style(statusStyle[r.status], r.status.padEnd(11));
      const died = r.lastEvent ? ui.style("dim", ` (journal ends at ${r.lastEvent})`) : "";
      ui.print(`${r.runId}  ${status}  ${r.command}${r.who ? ui.style("dim", `  ${r.who}`) : ""}${died}`);
    }
  },
});

const runsShow = defineCommand({
  meta: {
    name: "show",
    description: "Show one run: its report, or what its journal says for a run that wrote none",
    examples: ["lego runs show 20261125-050000-1a2b3c", "lego runs show 20261125-050000-1a2b3c --json"],
  },
  args: { id: { type: "positional", description: "Run id", required: true }, ...rootArg },
  async run(ctx, args) {
    const [{ readRun }, { renderReportMarkdown }] = await Promise.all([
      import("@lego/orchestration"),
      import("@lego/deployment"),
    ]);
    const run = await readRun(rootOf(ctx.cwd, args.root), args.id);
    if (!run)
      throw new UsageError({
        code: "ERR_RUN_NOT_FOUND",
        message: `No run ${args.id}`,
        hint: "`lego runs list` shows the runs.",
      });
    return {
      summary: run.summary,
      ...(run.report ? { report: run.report } : {}),
      markdown: run.report ? renderReportMarkdown(run.report) : undefined,
      journal: run.journal,
    };
  },
  human(result, ui) {
    if (result.markdown) return ui.print(result.markdown);
    const s = result.summary;
    ui.print(`# ${s.command} — run ${s.runId}: ${s.status}`);
    if (s.lastEvent) ui.print(`The run wrote no report; its journal ends at ${s.lastEvent}.`);
    for (const svc of s.services)
      ui.print(`- ${svc.service}: ${svc.status}${svc.step ? ` (during ${svc.step})` : ""}`);
    ui.print(ui.style("dim", `journal: ${s.dir}/journal.jsonl`));
  },
});

/** `lego runs list|show`. */
export const runsGroup = defineGroup({
  meta: { name: "runs", description: "Past runs: reports, and journals of runs that were killed" },
  commands: [runsList, runsShow],
});
