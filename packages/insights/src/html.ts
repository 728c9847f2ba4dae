import { escapeHtml } from "@lego/core";
import type { DeliveryMetrics, MetricSet } from "./metrics.ts";
import { formatDuration } from "./render.ts";

const esc = escapeHtml;

const pct = (r: number | null) => (r === null ? "–" : `${Math.round(r * 1000) / 10}%`);

function dailyChart(daily: DeliveryMetrics["daily"]): string {
  const w = 720;
  const h = 180;
  const pad = { l: 32, b: 22, t: 10 };
  const max = Math.max(1, ...daily.map((d) => d.ok + d.failed));
  const slot = (w - pad.l) / Math.max(1, daily.length);
  const bw = Math.max(1, slot * 0.7);
  const y = (n: number) => ((h - pad.b - pad.t) * n) / max;
  const bars = daily
    .map((d, i) => {
      const x = pad.l + i * slot + (slot - bw) / 2;
      const okH = y(d.ok);
      const failH = y(d.failed);
      const base = h - pad.b;
      return `<g data-day="${d.day}" data-ok="${d.ok}" data-failed="${d.failed}"><title>${d.day}: ${d.ok} ok, ${d.failed} failed</title>${
        d.ok
          ? `<rect class="ok" x="${x.toFixed(1)}" y="${(base - okH).toFixed(1)}" width="${bw.toFixed(1)}" height="${okH.toFixed(1)}"/>`
          : ""
      }${
        d.failed
          ? `<rect class="failed" x="${x.toFixed(1)}" y="${(base - okH - failH).toFixed(1)}" width="${bw.toFixed(1)}" height="${failH.toFixed(1)}"/>`
          : ""
      }</g>`;
    })
    .join("");
  const first = daily[0]?.day ?? "";
  const last = daily.at(-1)?.day ?? "";
  return `<svg id="chart-daily" role="img" aria-label="Deploys per day" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">
<line class="axis" x1="${pad.l}" y1="${h - pad.b}" x2="${w}" y2="${h - pad.b}"/>
<text x="${pad.l - 6}" y="${pad.t + 8}" text-anchor="end">${max}</text><text x="${pad.l - 6}" y="${h - pad.b}" text-anchor="end">0</text>
${bars}
<text x="${pad.l}" y="${h - 6}">${esc(first)}</text><text x="${w}" y="${h - 6}" text-anchor="end">${esc(last)}</text>
</svg>`;
}

function stepsChart(steps: MetricSet["steps"]): string {
  if (steps.length === 0) return '<p class="muted" id="chart-steps-empty">No run reports in the window.</p>';
  const rowH = 24;
  const labelW = 130;
  const w = 720;
  const h = steps.length * rowH + 8;
  const max = Math.max(1, ...steps.map((s) => s.meanMs));
  const rows = steps
    .map((s, i) => {
      const bw = Math.max(1, ((w - labelW - 170) * s.meanMs) / max);
      const y = 4 + i * rowH;
      return `<g data-step="${esc(s.name)}" data-mean-ms="${s.meanMs}" data-count="${s.count}"><title>${esc(s.name)}: mean ${formatDuration(s.meanMs)}, p95 ${formatDuration(s.p95Ms)} over ${s.count}</title>
<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(s.name)}</text>
<rect class="step" x="${labelW}" y="${y + 4}" width="${bw.toFixed(1)}" height="${rowH - 8}"/>
<text x="${(labelW + bw + 6).toFixed(1)}" y="${y + 16}">${formatDuration(s.meanMs)} mean · p95 ${formatDuration(s.p95Ms)} · ${Math.round(s.share * 100)}%</text></g>`;
    })
    .join("\n");
  return `<svg id="chart-steps" role="img" aria-label="Where deploy time goes" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">
${rows}
</svg>`;
}

function tiles(m: MetricSet): string {
  const tile = (id: string, label: string, value: string, note: string) =>
    `<div class="tile" id="${id}"><div class="label">${label}</div><div class="value">${esc(value)}</div><div class="note">${esc(note)}</div></div>`;
  return `<div class="tiles">
${tile("deployment-frequency", "Deployment frequency", `${m.deploysPerDay} / day`, `${m.successful} successful of ${m.deploys} deploys`)}
${tile("lead-time", "Lead time for changes", formatDuration(m.leadTime.medianMs), `median commit → live over ${m.leadTime.count}; p95 ${formatDuration(m.leadTime.p95Ms)}`)}
${tile("change-failure-rate", "Change failure rate", pct(m.changeFailureRate), `${m.failedChanges} of ${m.changes} changes; rollbacks: ${m.rollbacks.automatic} automatic, ${m.rollbacks.byHand} by hand`)}
${tile("time-to-restore", "Time to restore", formatDuration(m.timeToRestore.medianMs), `median over ${m.timeToRestore.count}${m.timeToRestore.open ? `; ${m.timeToRestore.open} not restored` : ""}`)}
</div>`;
}

/**
 * The delivery metrics as one self-contained HTML page: headline figures, deploys per day and where
 * deploy time goes as inline SVG charts, a table per service and the deploys behind them. No script,
 * stylesheet, font or image is loaded from anywhere.
 *
 * @example
 * await writeFile(".lego/analytics.html", renderAnalyticsHtml(await deliveryMetrics({ root, since })));
 */
export function renderAnalyticsHtml(metrics: DeliveryMetrics, title = "Delivery analytics"): string {
  const p = metrics.portfolio;
  const rows = metrics.services
    .map(
      (s) =>
        `<tr data-service="${esc(s.service)}"><td>${esc(s.service)}</td><td>${s.deploys}</td><td>${s.deploysPerDay}</td><td>${formatDuration(s.leadTime.medianMs)}</td><td>${pct(s.changeFailureRate)}</td><td>${formatDuration(s.timeToRestore.medianMs)}</td><td>${s.rollbacks.automatic} / ${s.rollbacks.byHand}</td></tr>`,
    )
    .join("");
  const deploys = [...metrics.deploys]
    .reverse()
    .slice(0, 200)
    .map(
      (d) =>
        `<tr data-run="${esc(d.runId)}" class="${d.failure ? "failed" : d.result === "ok" ? "ok" : "other"}"><td>${esc(d.at.replace("T", " ").slice(0, 19))}</td><td>${esc(d.service)}</td><td>${esc(d.environment)}</td><td>${esc(d.result)}${d.failure ? ` · ${esc(d.failure)}` : ""}</td><td>${esc((d.versionAfter ?? "").slice(0, 8))}</td><td>${esc((d.commit ?? "").slice(0, 8))}</td><td>${formatDuration(d.leadTimeMs)}</td><td>${esc(d.who)}</td></tr>`,
    )
    .join("");
  const scope = [
    metrics.environment ? `environment ${metrics.environment}` : "every environment",
    metrics.service ? `service ${metrics.service}` : "every service",
  ].join(" · ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}.muted{color:#656d76}
.tiles{display:flex;gap:12px;flex-wrap:wrap}.tile{border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;min-width:150px}
.tile .label{color:#656d76;font-size:12px}.tile .value{font-size:24px;font-weight:600}.tile .note{color:#656d76;font-size:12px;max-width:220px}
svg text{font-size:11px;fill:#1f2328}svg .axis{stroke:#d0d7de}svg .ok{fill:#2da44e}svg .failed{fill:#cf222e}svg .step{fill:#0969da}
table{border-collapse:collapse;margin-top:6px}td,th{border-bottom:1px solid #d0d7de;padding:4px 10px;text-align:left}
tr.failed td{color:#cf222e}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="muted" id="window">${esc(metrics.since.slice(0, 10))} → ${esc(metrics.until.slice(0, 10))} (${metrics.windowDays} day${metrics.windowDays === 1 ? "" : "s"}) · ${esc(scope)}</p>
${tiles(p)}
<h2>Deploys per day</h2>
${dailyChart(metrics.daily)}
<h2>Where deploy time goes</h2>
${stepsChart(p.steps)}
<h2>Per service</h2>
<table id="services"><thead><tr><th>service</th><th>deploys</th><th>per day</th><th>lead time</th><th>change failure rate</th><th>time to restore</th><th>rollbacks (auto / by hand)</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Deploys</h2>
<table id="deploys"><thead><tr><th>finished</th><th>service</th><th>environment</th><th>result</th><th>version</th><th>commit</th><th>lead time</th><th>by</th></tr></thead><tbody>${deploys}</tbody></table>
</body></html>
`;
}
