// ocm devices: the browsers and apps paired with a user's gateway, and the
// approvals that used to need `docker exec` into the container.
import type { Command } from 'commander';
import { OcmError, type DeviceList } from '@ocm/core';
import { opsContext } from '../context.js';
import { makeEngine } from '../engine-factory.js';
import { json, table } from '../format.js';
import type { Io } from '../io.js';

const devicesOps = () => import('@ocm/ops/devices');

const ago = (iso: string, now: number): string => {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(s)) return '-';
  return s < 90 ? `${s}s ago` : s < 5400 ? `${Math.round(s / 60)}m ago` : s < 172800 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
};

function describe(name: string, list: DeviceList): string {
  const now = Date.now();
  const out: string[] = [];
  if (list.pending.length === 0) out.push(`${name}: no pending pairing requests`);
  else {
    out.push(`${name}: ${list.pending.length} pending (approve with \`ocm devices ${name} approve <request>\` or \`--latest\`)`);
    out.push(table(['REQUEST', 'CLIENT', 'PLATFORM', 'ROLE', 'ASKED'], list.pending.map((d) => [d.requestId, d.clientAddress || '-', d.platform || '-', d.role || '-', ago(d.requestedAt, now)])));
  }
  out.push('');
  if (list.paired.length === 0) out.push(`${name}: no paired devices`);
  else {
    out.push(`${name}: ${list.paired.length} paired (revoke with \`ocm devices ${name} revoke <device>\`)`);
    out.push(table(['DEVICE', 'NAME', 'CLIENT', 'PLATFORM', 'PAIRED', 'CONNECTED'], list.paired.map((d) => [d.deviceId.slice(0, 16), d.name || '-', d.clientAddress || '-', d.platform || '-', ago(d.pairedAt, now), d.connected ? 'yes' : 'no'])));
  }
  return out.join('\n');
}

export function registerDeviceCommands(program: Command, io: Io): void {
  program.command('devices')
    .description("list a user's pending pairing requests and paired devices, or approve, reject or revoke one")
    .argument('<name>', 'user name')
    .argument('[action]', 'approve | reject | revoke')
    .argument('[id]', 'request id (approve, reject) or device id (revoke)')
    .option('--latest', 'with approve: the newest pending request')
    .option('--json', 'machine-readable output')
    .addHelpText('after', [
      '',
      'Each new browser asks to be paired once ("Approve this browser"); approve it here.',
      '',
      'Examples:',
      '  ocm devices alice',
      '  ocm devices alice approve --latest',
      '  ocm devices alice approve 6ede6e4f-3479-4353-99d3-1227128389ff',
      '  ocm devices alice reject 6ede6e4f-3479-4353-99d3-1227128389ff',
      '  ocm devices alice revoke 23b8e0c6ba6428bc...',
    ].join('\n'))
    .action(async (name: string, action: string | undefined, id: string | undefined, opts: { latest?: boolean; json?: boolean }, cmd: Command) => {
      const ops = await devicesOps();
      const ctx = { ...opsContext(cmd, io), engine: await makeEngine() };
      if (action === undefined) {
        if (opts.latest === true) throw new OcmError('OCM_E_USAGE', '--latest goes with approve', { hint: `ocm devices ${name} approve --latest` });
        const list = await ops.listDevices(ctx, name);
        io.out(opts.json === true ? json(list) : describe(name, list));
        return;
      }
      const usage = (text: string) => new OcmError('OCM_E_USAGE', text, { hint: 'run `ocm devices --help`' });
      let decision: import('@ocm/ops/devices').DeviceDecision;
      if (action === 'approve') {
        if (opts.latest === true && id !== undefined) throw usage('give a request id or --latest, not both');
        if (opts.latest !== true && id === undefined) throw usage('approve needs a request id, or --latest');
        decision = id === undefined ? { action: 'approve-latest' } : { action: 'approve', requestId: id };
      } else if (action === 'reject' || action === 'revoke') {
        if (id === undefined) throw usage(`${action} needs ${action === 'reject' ? 'a request id' : 'a device id'}`);
        if (opts.latest === true) throw usage('--latest goes with approve');
        decision = action === 'reject' ? { action, requestId: id } : { action, deviceId: id };
      } else {
        throw usage(`unknown action ${JSON.stringify(action)}: use approve, reject or revoke`);
      }
      const result = await ops.decideDevice(ctx, name, decision);
      if (opts.json === true) io.out(json(result));
      else if (result.action === 'revoke') io.out(`revoked device ${result.id} of ${name}`);
      else {
        const from = result.device === undefined ? '' : ` (${[result.device.platform, result.device.clientAddress].filter((s) => s !== '').join(', ')})`;
        io.out(`${result.action === 'approve' ? 'approved' : 'rejected'} ${name}'s request ${result.id}${from}`);
        if (result.action === 'approve') io.err('the browser connects on its own within a few seconds');
      }
    });
}
