import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  escapeHtml,
  PRIVATE_FILE,
  portfolioStateDir,
  type Redactor,
  readJsonFile,
  writeFileAtomic,
} from "@lego/core";
import type { CanaryReport, ProbeStats, TrafficShare } from "./canary.ts";
import type { TestReport } from "./tester.ts";

/** One step of a service's pipeline, as it appears in the timeline. */
export interface StepRecord {
  name: string;
  status: "ok" | "failed" | "skipped";
  startedAt: string;
  durationMs: number;
  message?: string;
}

/** What happened to one service in a run. */
export interface ServiceRunReport {
  service: string;
  environment: string;
  scriptName: string;
  ok: boolean;
  /**
   * How it ended: `ok`; `failed` (the new version is not serving, or could not be rolled back);
   * `rolled-back` (it failed and its rollback point serves again, verified); `reverted` (it passed,
   * then the run's `--on-failure` policy put its rollback point back); `skipped` (not started:
   * see `skipReason`); `interrupted`. Absent in reports written before it existed: read `ok`.
   */
  status?: "ok" | "failed" | "rolled-back" | "reverted" | "skipped" | "interrupted";
  /** Why it was skipped: "auth-service failed", "--fail-fast: website failed", … */
  skipReason?: string;
  /** Its wave in the dependency order (0: depends on nothing else in the run). */
  wave?: number;
  versionBefore?: string | null;
  /** The version this run deployed (also when it was then rolled back). */
  versionAfter?: string | null;
  /**
   * The version serving once the run was done with this service: the new one seen answering, or, after
   * a failure or a rollback, as read back from the API. `null` when nothing serves or it was unreadable.
   */
  liveVersion?: string | null;
  url?: string;
  steps: StepRecord[];
  tests?: TestReport;
  rolledBack?: boolean;
  /** The database was restored to its pre-migration backup (`--restore-db`). */
  databaseRestored?: boolean;
  /** `--strategy canary`: each step (traffic shares read back, metrics, decision). */
  canary?: CanaryReport;
  /** `stderrTail`: wrangler's last output lines when wrangler failed (ERR_WRANGLER_FAILED's details). */
  error?: { code: string; message: string; hint?: string; exitCode?: number; stderrTail?: string };
}

/** The report of a whole run: `.lego/runs/<run-id>/report.{json,md,html}`. */
export interface RunReport {
  runId: string;
  /**
   * What the run did: `deploy`, `rollback`, `db.migrate`, `db.restore`, `secrets.push`, …; absent in
   * reports written before rollback runs had reports, meaning `deploy`.
   */
  kind?: string;
  /** Services grouped by dependency depth: each wave depends only on earlier ones. */
  waves?: string[][];
  /** How the run was scheduled. */
  schedule?: { concurrency: number; onFailure: string; failFast: boolean };
  command: string;
  target: { kind: string; apiBaseUrl?: string };
  who: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  ok: boolean;
  dryRun?: boolean;
  /** Why the run as a whole failed, when it was not one service's failure (a lock, a bad input, …). */
  error?: { code: string; message: string; hint?: string; exitCode?: number };
  services: ServiceRunReport[];
}

const esc = escapeHtml;
const badge = (ok: boolean) =>
  `<span class="badge ${ok ? "pass" : "fail"}">${ok ? "passed" : "failed"}</span>`;

type ServiceStatus = NonNullable<ServiceRunReport["status"]>;
/** A service's outcome, also for reports written before `status` existed. */
export function serviceStatus(s: ServiceRunReport): ServiceStatus {
  if (s.status) return s.status;
  if (s.ok) return "ok";
  if (s.error?.code === "ERR_SKIPPED") return "skipped";
  if (s.error?.exitCode === 130) return "interrupted";
  return s.rolledBack ? "rolled-back" : "failed";
}
const statusBadge: Record<ServiceStatus, [string, string, string]> = {
  ok: ["pass", "passed", "✅"],
  failed: ["fail", "failed", "❌"],
  "rolled-back": ["fail", "rolled back", "↩️"],
  reverted: ["warn", "reverted", "↩️"],
  skipped: ["skip", "skipped", "⏭️"],
  interrupted: ["skip", "interrupted", "⏹️"],
};
const serviceBadge = (s: ServiceRunReport) => {
  const [cls, label] = statusBadge[serviceStatus(s)];
  return `<span class="badge ${cls}">${label}</span>`;
};
const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);

/** Renders the report as Markdown (for PRs and chat). */
export function renderReportMarkdown(report: RunReport): string {
  const lines = [
    `# ${report.ok ? "✅" : "❌"} ${report.command} — run ${report.runId}`,
    "",
    `- target: ${report.target.kind}${report.target.apiBaseUrl ? ` (${report.target.apiBaseUrl})` : ""}`,
    `- by: ${report.who}`,
    `- started: ${report.startedAt}, took ${ms(report.durationMs)}`,
    "",
  ];
  for (const s of report.services) {
    const status = serviceStatus(s);
    lines.push(`## ${statusBadge[status][2]} ${s.service} (${s.environment}): ${statusBadge[status][1]}`, "");
    if (s.skipReason) lines.push(`- skipped: ${s.skipReason}`);
    if (s.url) lines.push(`- URL: ${s.url}`);
    lines.push(
      `- script: ${s.scriptName}`,
      `- version: ${s.versionBefore ?? "none"} → ${s.versionAfter ?? "none"}`,
    );
    if (s.rolledBack) lines.push("- rolled back to the previous version");
    if (s.databaseRestored) lines.push("- database restored to its backup from before the migrations");
    if (s.error)
      lines.push(`- error: ${s.error.code}: ${s.error.message}${s.error.hint ? ` (${s.error.hint})` : ""}`);
    lines.push("", "| step | status | time | note |", "| --- | --- | --- | --- |");
    for (const step of s.steps)
      lines.push(
        `| ${step.name} | ${step.status} | ${ms(step.durationMs)} | ${(step.message ?? "").replaceAll("|", "\\|")} |`,
      );
    if (s.canary) lines.push("", ...canaryMarkdown(s.canary));
    if (s.tests) {
      lines.push("", "| check | result | note |", "| --- | --- | --- |");
      for (const c of s.tests.checks)
        lines.push(`| ${c.id} | ${c.ok ? "pass" : "FAIL"} | ${c.message.replaceAll("|", "\\|")} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

const share = (t: TrafficShare, c: CanaryReport) =>
  t
    .map(
      (v) =>
        `${v.versionId === c.newVersion ? "new" : v.versionId === c.oldVersion ? "old" : short(v.versionId)} ${v.percentage}%`,
    )
    .join(", ");
const rate = (r: number) => `${(r * 100).toFixed(1)}%`;

/** The canary's steps as a Markdown table. */
function canaryMarkdown(c: CanaryReport): string[] {
  const lines = [
    `**${c.strategy}** ${c.steps.join("% → ")}%, bake ${ms(c.bakeMs)}: old ${c.oldVersion} → new ${c.newVersion ?? "none"}${c.outcome ? `: ${c.outcome}` : ""}${c.reason ? ` (${c.reason})` : ""}`,
    "",
    "| step | traffic (read back) | new: errors, p95 | old: errors, p95 | decision | why |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const p of c.phases) {
    const m = p.metrics;
    lines.push(
      `| ${p.kind === "pre-traffic" ? "pre-traffic tests" : `${p.percent}%`} | ${share(p.traffic, c)} | ${m ? `${rate(m.new.errorRate)}, ${m.new.p95Ms} ms (${m.new.requests})` : ""} | ${m ? `${rate(m.old.errorRate)}, ${m.old.p95Ms} ms (${m.old.requests})` : ""} | ${p.decision} | ${p.reason.replaceAll("|", "\\|")} |`,
    );
  }
  return lines;
}

/** The canary's steps as an HTML timeline: one row per step with its shares, metrics and decision. */
function canaryHtml(c: CanaryReport): string {
  const rows = c.phases
    .map((p) => {
      const m = p.metrics;
      const cell = (s: ProbeStats | undefined) =>
        s ? `${rate(s.errorRate)} · p95 ${s.p95Ms} ms <small>(${s.requests})</small>` : "";
      return `<tr data-canary-step="${p.kind === "pre-traffic" ? "pre-traffic" : p.percent}" data-decision="${p.decision}" class="${p.decision === "rollback" ? "fail" : ""}"><td>${esc(p.startedAt.slice(11, 19))}</td><td>${p.kind === "pre-traffic" ? "pre-traffic tests" : `${p.percent}%`}</td><td><span class="split"><span class="new" style="width:${(p.traffic.find((v) => v.versionId === c.newVersion)?.percentage ?? 0).toFixed(1)}%"></span></span> ${esc(share(p.traffic, c))}</td><td>${cell(m?.new)}</td><td>${cell(m?.old)}</td><td><strong>${esc(p.decision)}</strong></td><td>${esc(p.reason)}</td></tr>`;
    })
    .join("");
  return `<div class="canary" data-strategy="${esc(c.strategy)}" data-outcome="${esc(c.outcome ?? "")}"><h3>${esc(c.strategy)}: ${esc(c.steps.join("% → "))}% · bake ${ms(c.bakeMs)}${c.outcome ? ` · ${esc(c.outcome)}` : ""}</h3>
<p class="muted">old ${esc(c.oldVersion)} → new ${esc(c.newVersion ?? "none")} · thresholds: errors +${(c.thresholds.maxErrorRateIncrease * 100).toFixed(1)} points, p95 × ${c.thresholds.maxLatencyRatio} + ${c.thresholds.latencySlackMs} ms, ≥ ${c.thresholds.minRequests} probes${c.reason ? ` · <strong>${esc(c.reason)}</strong>` : ""}</p>
<table class="canary-steps"><thead><tr><th>at</th><th>step</th><th>traffic (read back)</th><th>new version</th><th>old version</th><th>decision</th><th>why</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The table at the top of the HTML report: one row per service, with its status, versions and why. */
function renderSummaryHtml(report: RunReport): string {
  const counts = new Map<string, number>();
  for (const s of report.services) {
    const label = statusBadge[serviceStatus(s)][1];
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const rows = report.services
    .map((s) => {
      const note = s.skipReason ?? s.error?.message ?? "";
      return `<tr data-service="${esc(s.service)}"><td>${esc(s.service)}</td><td>${s.wave ?? ""}</td><td>${serviceBadge(s)}</td><td title="${esc(`${s.versionBefore ?? "none"} → ${s.versionAfter ?? "none"}`)}">${esc(short(s.versionBefore))} → ${esc(short(s.versionAfter))}</td><td>${s.url ? `<a href="${esc(s.url)}">${esc(s.url)}</a>` : ""}</td><td title="${esc(note)}">${esc(note)}</td></tr>`;
    })
    .join("");
  const schedule = report.schedule
    ? ` · concurrency ${report.schedule.concurrency} · on failure: ${esc(report.schedule.onFailure)}${report.schedule.failFast ? " · fail-fast" : ""}`
    : "";
  return `<p id="summary">${[...counts].map(([k, n]) => `${n} ${esc(k)}`).join(" · ")}${schedule}</p>
<table class="summary"><thead><tr><th>service</th><th>wave</th><th>status</th><th>version</th><th>URL</th><th>note</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const short = (id: string | null | undefined) => (id ? id.slice(0, 8) : "none");

/** Renders the report as one self-contained HTML file: a timeline of steps and the test results. */
export function renderReportHtml(report: RunReport): string {
  const start = Date.parse(report.startedAt);
  const total = Math.max(1, report.durationMs);
  const services = report.services
    .map((s) => {
      const bars = s.steps
        .map((step) => {
          const left = ((Date.parse(step.startedAt) - start) / total) * 100;
          const width = Math.max(0.5, (step.durationMs / total) * 100);
          return `<div class="row" data-step="${esc(step.name)}" data-status="${step.status}"><span class="label">${esc(step.name)}</span><span class="track"><span class="bar ${step.status}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></span></span><span class="time">${ms(step.durationMs)}</span><span class="note">${esc(step.message)}</span></div>`;
        })
        .join("\n");
      const checks = s.tests
        ? `<table class="checks"><thead><tr><th>check</th><th>result</th><th>time</th><th>note</th></tr></thead><tbody>${s.tests.checks
            .map(
              (c) =>
                `<tr data-check="${esc(c.id)}" class="${c.ok ? "pass" : "fail"}"><td>${esc(c.id)}</td><td>${c.ok ? "pass" : "FAIL"}</td><td>${ms(c.durationMs)}</td><td>${esc(c.message)}</td></tr>`,
            )
            .join("")}</tbody></table>`
        : '<p class="muted">No production tests ran.</p>';
      const status = serviceStatus(s);
      return `<section class="service ${status === "ok" ? "ok" : status === "skipped" || status === "interrupted" ? "skipped" : "failed"}" data-service="${esc(s.service)}" data-status="${status}">
<h2>${serviceBadge(s)} ${esc(s.service)} <small>${esc(s.environment)} · ${esc(s.scriptName)}</small></h2>
${s.skipReason ? `<p class="muted">skipped: ${esc(s.skipReason)}</p>` : ""}
<p>${s.url ? `<a href="${esc(s.url)}">${esc(s.url)}</a> · ` : ""}version ${esc(s.versionBefore ?? "none")} → ${esc(s.versionAfter ?? "none")}${s.rolledBack ? " · <strong>rolled back</strong>" : ""}</p>
${s.error ? `<p class="error">${esc(s.error.code)}: ${esc(s.error.message)}${s.error.hint ? `<br><em>${esc(s.error.hint)}</em>` : ""}</p>` : ""}
<div class="timeline">${bars}</div>
${s.canary ? canaryHtml(s.canary) : ""}
${checks}
</section>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>lego ${esc(report.command)} — ${esc(report.runId)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-bottom:.2rem}small,.muted{color:#6e6e73}
.meta{color:#444}.service{border:1px solid #ddd;border-radius:8px;padding:.8rem 1rem;margin:1rem 0}
.service.failed{border-color:#d70015}.error{color:#d70015}
.row{display:grid;grid-template-columns:9rem 1fr 4.5rem 18rem;gap:.5rem;align-items:center;margin:.15rem 0}
.track{position:relative;height:12px;background:#f2f2f7;border-radius:3px}
.bar{position:absolute;top:0;height:12px;border-radius:3px}.bar.ok{background:#34c759}.bar.failed{background:#ff3b30}.bar.skipped{background:#c7c7cc}
.note{color:#555;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
table{border-collapse:collapse;margin-top:.6rem;width:100%}td,th{border-bottom:1px solid #eee;padding:.25rem .4rem;text-align:left}
tr.fail td{color:#d70015}
.badge{display:inline-block;font-size:.7em;text-transform:uppercase;letter-spacing:.05em;padding:.15em .5em;border-radius:4px;color:#fff;vertical-align:middle}.badge.pass{background:#248a3d}.badge.fail{background:#d70015}.badge.warn{background:#c93400}.badge.skip{background:#8e8e93}
.split{display:inline-block;width:5rem;height:8px;background:#8e8e93;border-radius:2px;vertical-align:middle}.split .new{display:block;height:8px;background:#0a84ff;border-radius:2px}
.service.skipped{border-color:#c7c7cc}table.summary td:nth-child(4){font-family:ui-monospace,monospace;font-size:.85em}
</style></head>
<body>
<h1 id="title">${badge(report.ok)} lego ${esc(report.command)}</h1>
<p class="meta">run <code id="run-id">${esc(report.runId)}</code> · target ${esc(report.target.kind)}${report.target.apiBaseUrl ? ` (${esc(report.target.apiBaseUrl)})` : ""} · by ${esc(report.who)} · ${esc(report.startedAt)} · ${ms(report.durationMs)}${report.dryRun ? " · dry run" : ""}</p>
${renderSummaryHtml(report)}
${services}
</body></html>
`;
}

/**
 * Writes `report.json`, `report.md` and `report.html` into `.lego/runs/<run-id>/`, each atomically.
 * The redactor is applied to every file as a last guard.
 */
export async function writeRunReport(root: string, report: RunReport, redactor?: Redactor): Promise<string> {
  const dir = join(portfolioStateDir(root), "runs", report.runId);
  const guard = (text: string) => (redactor ? redactor.redact(text) : text);
  // Three independent files, each written atomically (fsync + rename): written at once.
  await Promise.all([
    writeFileAtomic(join(dir, "report.json"), guard(`${JSON.stringify(report, null, 2)}\n`), PRIVATE_FILE),
    writeFileAtomic(join(dir, "report.md"), guard(renderReportMarkdown(report)), PRIVATE_FILE),
    writeFileAtomic(join(dir, "report.html"), guard(renderReportHtml(report)), PRIVATE_FILE),
  ]);
  return dir;
}

/** Lists the runs of a portfolio, newest first, from their reports. */
export async function listRuns(root: string): Promise<RunReport[]> {
  const dir = join(portfolioStateDir(root), "runs");
  let ids: string[];
  try {
    ids = await readdir(dir);
  } catch {
    return [];
  }
  const reports: RunReport[] = [];
  for (const id of ids.sort().reverse()) {
    const report = await readJsonFile<RunReport>(join(dir, id, "report.json"));
    if (report) reports.push(report);
  }
  return reports;
}

/** Reads one run's report, or undefined. */
export function readRunReport(root: string, runId: string): Promise<RunReport | undefined> {
  return readJsonFile<RunReport>(join(portfolioStateDir(root), "runs", runId, "report.json"));
}
