// ocm usage: what each user's model calls cost, per day and model, read from
// the meter's usage store (also while the daemon writes to it).
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { OcmError, assertUserName, localDay } from '@ocm/core';
import { opsContext } from '../context.js';
import { json, table } from '../format.js';
import type { Io } from '../io.js';

const meter = () => import('@ocm/meter');

const CSV_COLUMNS = ['user', 'day', 'provider', 'model', 'calls', 'inputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'outputTokens', 'reasoningTokens', 'totalTokens', 'costUsd'] as const;

export function registerUsageCommands(program: Command, io: Io): void {
  program.command('usage')
    .description('model usage and cost per user, day and model (from the daemon\'s model meter)')
    .argument('[name]', 'only this user')
    .option('--since <YYYY-MM-DD>', 'first day to show (default: 30 days ago, in settings.timezone)')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .addHelpText('after', '\nExamples:\n  ocm usage\n  ocm usage alice --since 2026-12-01 --csv')
    .action(async (name: string | undefined, opts: { since?: string; json?: boolean; csv?: boolean }, cmd: Command) => {
      if (name !== undefined) assertUserName(name);
      if (opts.since !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(opts.since) || Number.isNaN(Date.parse(opts.since)))) {
        throw new OcmError('OCM_E_USAGE', `--since: ${JSON.stringify(opts.since)} is not a date`, { hint: 'use YYYY-MM-DD, e.g. --since 2026-12-01' });
      }
      const ctx = opsContext(cmd, io);
      const { manifest } = await ctx.root.load();
      const since = opts.since ?? localDay(Date.now() - 30 * 86_400_000, manifest.settings.timezone);
      const file = `${ctx.root.path}/usage.db`;
      let rows: import('@ocm/meter').UsageRow[] = [];
      if (existsSync(file)) {
        const store = (await meter()).openUsageStore(file, { readonly: true });
        try { rows = store.report({ user: name, sinceDay: since }); } finally { store.close(); }
      }
      if (opts.json === true) return io.out(json(rows));
      if (opts.csv === true) return io.out([CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => String(r[c])).join(','))].join('\n'));
      if (rows.length === 0) return io.out(`no model usage since ${since}`);
      const total = rows.reduce((sum, r) => sum + r.costUsd, 0);
      io.out(`${table(['USER', 'DAY', 'MODEL', 'CALLS', 'INPUT', 'OUTPUT', 'TOTAL', 'COST'],
        rows.map((r) => [r.user, r.day, `${r.provider}/${r.model}`, String(r.calls), String(r.inputTokens + r.cacheReadTokens + r.cacheWriteTokens), String(r.outputTokens), String(r.totalTokens), `$${r.costUsd.toFixed(4)}`]))}\ntotal: $${total.toFixed(4)} since ${since}`);
    });
}
