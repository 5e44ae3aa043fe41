// The status page's "model spend" section, rendered once per page load on
// the server: one row per user with the 30-day chart and its figures.
import type { SpendSeries } from '@ocm/core';
import { escapeHtml } from '@ocm/core';
import { spendChartSvg, spendSummary } from './spend-chart.js';

export const CHART_DAYS = 30;

export function spendSection(series: readonly SpendSeries[]): string {
  if (series.length === 0) return '';
  const rows = series.map((s, i) => `<tr data-user="${escapeHtml(s.user)}"><td class="user">${escapeHtml(s.user)}</td>`
    + `<td>${spendChartSvg(s, `spend-${i}`)}</td><td class="num">$${s.totalUsd.toFixed(2)}</td><td class="meta">${escapeHtml(spendSummary(s))}</td></tr>`).join('\n');
  return `<section id="spend" aria-labelledby="spend-title">
<h2 id="spend-title">Model spend, last ${CHART_DAYS} days</h2>
<table>
<thead><tr><th>User</th><th>Per day</th><th>Total</th><th>Summary</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`;
}
