/**
 * @lego/insights/render: text rendering only (no I/O, type imports only), so a CLI can import it
 * statically to render results without loading the cloud client and the deploy pipeline at start-up.
 */
import type { PortfolioSnapshot } from "./monitor.ts";

/** A duration for people: `850 ms`, `4.2 s`, `12 min`, `3.5 h`, `2.1 d`; `–` when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

const short = (id: string | null | undefined) => (id ? id.slice(0, 8) : "none");

function ago(fromIso: string, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - Date.parse(fromIso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/**
 * The snapshot as plain text lines (one block per service), for a terminal: the live view of
 * `lego monitor` redraws it in place. `style` colours words (identity by default).
 */
export function renderSnapshotText(
  snap: PortfolioSnapshot,
  style: (format: "green" | "red" | "yellow" | "dim" | "bold" | "cyan", text: string) => string = (_f, t) =>
    t,
): string {
  const now = Date.parse(snap.at);
  const mark = {
    healthy: style("green", "●"),
    unhealthy: style("red", "●"),
    "not-deployed": style("dim", "○"),
  };
  const bad = snap.services.filter((s) => s.state === "unhealthy").length;
  const lines = [
    style(
      "bold",
      `${snap.environment} on ${snap.target.kind} · ${snap.services.length} services · ${bad === 0 ? "all healthy" : `${bad} unhealthy`} · ${snap.at.slice(11, 19)} UTC`,
    ),
  ];
  const width = Math.max(8, ...snap.services.map((s) => s.service.length));
  for (const s of snap.services) {
    const serving =
      s.serving.length === 0
        ? "nothing serving"
        : s.serving.map((v) => `${short(v.versionId)} ${v.percentage}%`).join(" + ");
    const health = s.health
      ? `${s.health.ok ? style("green", "healthy") : style("red", "UNHEALTHY")} p50 ${s.health.p50Ms} ms p95 ${s.health.p95Ms} ms (${Object.entries(
          s.health.statuses,
        )
          .map(([k, n]) => `${n}×${k}`)
          .join(", ")})`
      : s.apiError
        ? style("red", `API: ${s.apiError}`)
        : style("dim", s.serving.length === 0 ? "not deployed" : "no URL to probe");
    lines.push(`${mark[s.state]} ${s.service.padEnd(width)}  ${serving}  ${health}`);
    if (s.health?.problem && !s.health.ok)
      lines.push(`  ${" ".repeat(width)}${style("red", s.health.problem)}`);
    if (s.lastChange) {
      const c = s.lastChange;
      lines.push(
        `  ${" ".repeat(width)}${style(
          "dim",
          `last ${c.action === "rollback.finished" ? "rollback" : "deploy"} ${ago(c.at, now)} by ${c.who}: ${c.result ?? "?"} (${short(c.versionBefore)} → ${short(c.versionAfter)}, run ${c.runId})`,
        )}`,
      );
    }
  }
  for (const r of snap.runs) {
    const where = r.steps
      .filter((st) => st.status === "running")
      .map((st) => `${st.service}: ${st.step ?? "?"}`)
      .join(", ");
    const label =
      r.state === "running"
        ? style("cyan", "in progress")
        : r.state === "stale"
          ? style("yellow", "stale lock")
          : style("yellow", `on ${r.hostname}`);
    lines.push(
      `${label} ${r.command} (pid ${r.pid}${r.runId ? `, run ${r.runId}` : ""}, since ${ago(r.startedAt, now)})${where ? ` · ${where}` : ""}`,
    );
  }
  if (snap.skipped.length > 0)
    lines.push(style("dim", `no ${snap.environment} environment: ${snap.skipped.join(", ")}`));
  return lines.join("\n");
}
