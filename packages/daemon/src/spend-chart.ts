// A user's model spend over the last days as a small inline SVG bar chart,
// rendered on the server: no script, no external asset, and the figures in
// its title and description for screen readers (and each bar's own title).
import type { SpendSeries } from '@ocm/core';
import { escapeHtml } from '@ocm/core';

const BAR = 6;
const GAP = 2;
const HEIGHT = 36;

const usd = (n: number): string => `$${n.toFixed(2)}`;

/** One sentence with the figures, e.g. "alice: $1.20 in the last 30 days, 3 days with calls, most $0.80 on 2026-12-01". */
export function spendSummary(series: SpendSeries): string {
  const spent = series.days.filter((d) => d.costUsd > 0);
  const top = spent.reduce<SpendSeries['days'][number] | undefined>((a, d) => (a === undefined || d.costUsd > a.costUsd ? d : a), undefined);
  const head = `${series.user}: ${usd(series.totalUsd)} in the last ${series.days.length} days`;
  return top === undefined ? `${head}, no calls` : `${head}, ${spent.length} day${spent.length === 1 ? '' : 's'} with calls, most ${usd(top.costUsd)} on ${top.day}`;
}

/** Bars only for days with spend, scaled to the highest day; a baseline for the whole range. */
export function spendChartSvg(series: SpendSeries, id: string): string {
  const width = series.days.length * (BAR + GAP);
  const max = Math.max(...series.days.map((d) => d.costUsd), 0);
  const bars = series.days.map((d, i) => {
    if (d.costUsd <= 0 || max <= 0) return '';
    const h = Math.max(1, Math.round((d.costUsd / max) * (HEIGHT - 2)));
    return `<rect class="bar" data-day="${d.day}" x="${i * (BAR + GAP)}" y="${HEIGHT - 1 - h}" width="${BAR}" height="${h}"><title>${d.day}: ${usd(d.costUsd)}</title></rect>`;
  }).join('');
  const safe = escapeHtml(id);
  return `<svg class="spend" role="img" aria-labelledby="${safe}-t ${safe}-d" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" xmlns="http://www.w3.org/2000/svg">`
    + `<title id="${safe}-t">${escapeHtml(`${series.user}'s model spend, last ${series.days.length} days`)}</title>`
    + `<desc id="${safe}-d">${escapeHtml(spendSummary(series))}</desc>`
    + `<line x1="0" y1="${HEIGHT - 0.5}" x2="${width}" y2="${HEIGHT - 0.5}" class="base"/>${bars}</svg>`;
}
