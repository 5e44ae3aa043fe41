// add, remove, set, list, show, token: the manifest edits.
import { Option, type Command } from 'commander';
import { OcmError, parseEnvAssignment, type HostCapacity, type Manifest, type User } from '@ocm/core';
import type { OpsContext, Prepared, UserView } from '@ocm/ops';
import type { EditEvent } from '@ocm/ops/converge-edit';

// Operations are imported when a command runs, so start-up loads only commander.
const usersOps = () => import('@ocm/ops/users');
import { opsContext } from '../context.js';
import { json, table } from '../format.js';
import type { Io } from '../io.js';
import { describeChanges } from './describe-changes.js';

const collectEnv = (value: string, previous: Record<string, string> = {}): Record<string, string> => {
  const [key, val] = parseEnvAssignment(value);
  return { ...previous, [key]: val };
};
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function limitOptions(cmd: Command): Command {
  return cmd
    .option('--cpus <n>', 'CPU limit, e.g. 0.5 or 2')
    .option('--memory <size>', 'memory limit, e.g. 512m or 2g')
    .option('--pids <n>', 'process limit, e.g. 256');
}

function budgetText(b: NonNullable<UserView['budget']>): string {
  const parts = [b.daily === undefined ? '' : `$${b.daily} a day`, b.monthly === undefined ? '' : `$${b.monthly} a month`].filter(Boolean);
  return `${parts.length === 0 ? 'none' : parts.join(', ')}${b.own ? ' (own)' : ' (default)'}${b.group === undefined ? '' : `; group ${b.group}`}`;
}

function printUser(io: Io, user: UserView): void {
  io.out([
    `name:     ${user.name}`,
    `enabled:  ${user.enabled ? 'yes' : 'no'}`,
    `url:      ${user.url}`,
    `port:     127.0.0.1:${user.port}`,
    `limits:   ${user.cpus} cpus, ${user.memory} memory, ${user.pids} pids${user.overrides.length > 0 ? ` (own: ${user.overrides.join(', ')})` : ''}`,
    `env:      ${Object.keys(user.env).length === 0 ? '-' : Object.entries(user.env).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `network:  ${user.egress.mode === 'open' ? 'open (no policy)' : 'restricted: the Internet only'}${user.egress.allow.length === 0 ? '' : `; allowed: ${user.egress.allow.join(' ')}`}`,
    ...(user.budget === undefined ? [] : [`budget:   ${budgetText(user.budget)}`]),
  ].join('\n'));
}

/** On a swarm: the node a new user goes to (the one asked for, checked, or the roomiest); undefined on one host. */
async function placeNewUser(ctx: OpsContext, wanted: string | undefined): Promise<string | undefined> {
  const { manifest } = await ctx.root.load();
  if (manifest.settings.engine !== 'swarm' && wanted === undefined) return undefined;
  const [{ nodeForNewUser }, { makeEngine }] = await Promise.all([import('@ocm/ops/placement'), import('../engine-factory.js')]);
  return nodeForNewUser(await makeEngine(), manifest, wanted);
}

/** A node to move a user to: checked against the swarm and the root's state. */
async function checkedNode(manifest: Manifest, wanted: string): Promise<string> {
  const [{ nodeForNewUser }, { makeEngine }] = await Promise.all([import('@ocm/ops/placement'), import('../engine-factory.js')]);
  return (await nodeForNewUser(await makeEngine(), manifest, wanted)) ?? wanted;
}

/** What Docker's host has, or undefined when Docker does not answer (the start that follows says so). */
async function hostCapacity(): Promise<HostCapacity | undefined> {
  const { makeEngine } = await import('../engine-factory.js');
  return (await makeEngine()).capacity().catch(() => undefined);
}

export function registerUserCommands(program: Command, io: Io, hooks: { afterEdit: AfterEdit; preflight: Preflight }): void {
  limitOptions(program.command('add')
    .description('add a user: record them in ocm.yaml, render their files and start their gateway')
    .argument('<name>', 'user name: lowercase letters, digits, hyphens; becomes <name>.<domain>'))
    .option('--env <KEY=VALUE>', 'extra environment for this gateway (repeatable)', collectEnv)
    .option('--no-start', 'only write the files; do not start the container')
    .option('--fresh', 'when users/<name> was kept by an earlier `ocm remove`, delete it and start from an empty state')
    .option('--node <host>', 'swarm only: the node that holds her state and runs her gateway (default: the one with the most memory left)')
    .addHelpText('after', '\nExamples:\n  ocm add alice\n  ocm add bob --memory 1g --cpus 1 --env OPENAI_API_KEY=sk-...\n  ocm add carol --no-start\n  ocm add dave --fresh          # a new dave, not the state a removed dave left\n  ocm add erin --node worker-2  # on a swarm: pin erin to worker-2')
    .action(async (name: string, opts: { cpus?: string; memory?: string; pids?: string; env?: Record<string, string>; start: boolean; fresh?: boolean; node?: string }, cmd: Command) => {
      const ctx = opsContext(cmd, io);
      const { addUser, showUser } = await usersOps();
      const node = await placeNewUser(ctx, opts.node);
      const removeContainer = async (): Promise<string[]> => {
        const [{ removeContainer: remove }, { makeEngine }] = await Promise.all([import('@ocm/ops/lifecycle'), import('../engine-factory.js')]);
        return remove({ ...ctx, engine: await makeEngine() }, name);
      };
      const result = await addUser(ctx, name, {
        ...opts,
        ...(node === undefined ? {} : { node }),
        ...(opts.start ? { hostCapacity } : {}),
        ...(opts.fresh === true ? { fresh: true, removeContainer } : {}),
        beforeWrite: (manifest, user) => hooks.preflight(cmd, { kind: 'add', name, start: opts.start }, manifest, user),
      });
      const user = result.user;
      if (user === undefined) throw new OcmError('OCM_E_INTERNAL', 'add returned no user');
      if (result.freshened) io.err(`deleted the state an earlier ${name} left in users/${name} (--fresh)`);
      if (result.reusedState) {
        io.err(`note: users/${name}/state from an earlier ${name} is reused (chats, paired devices, gateway config); the old env and limits went with \`ocm remove\``);
        io.err(`      to start ${name} empty instead: \`ocm remove ${name} && ocm add ${name} --fresh\``);
      }
      io.err(`added ${name} on 127.0.0.1:${user.port}${user.node === undefined ? '' : ` (node ${user.node})`}`);
      await hooks.afterEdit(cmd, { kind: 'add', name, start: opts.start });
      const view = await showUser(ctx, name);
      io.out(`${name}: ${view.url}\ntoken: run \`ocm token ${name}\` to print it`);
    });

  program.command('remove')
    .description('remove a user from ocm.yaml and stop their gateway; their data stays unless --purge')
    .argument('<name>', 'user name')
    .option('--purge', "also delete the user's state, config and backups")
    .option('--yes', 'confirm --purge without asking')
    .addHelpText('after', '\nExamples:\n  ocm remove alice            # keeps users/alice and backups/alice\n  ocm remove alice --purge --yes')
    .action(async (name: string, opts: { purge?: boolean; yes?: boolean }, cmd: Command) => {
      const { removeUser } = await usersOps();
      const ctx = opsContext(cmd, io);
      const removeContainer = async (): Promise<string[]> => {
        const [{ removeContainer: remove }, { makeEngine }] = await Promise.all([import('@ocm/ops/lifecycle'), import('../engine-factory.js')]);
        const removed = await remove({ ...ctx, engine: await makeEngine() }, name);
        for (const c of removed) io.err(`removed container ${c}`);
        return removed;
      };
      const result = await removeUser(ctx, name, { ...opts, removeContainer });
      await hooks.afterEdit(cmd, { kind: 'remove', name, start: false });
      io.out(result.purged ? `removed ${name} and deleted their data` : `removed ${name}; their data is kept in users/${name} (delete with --purge --yes)`);
    });

  limitOptions(program.command('set')
    .description("change a user's limits, environment or enabled flag; recreates only their container")
    .argument('<name>', 'user name'))
    .option('--env <KEY=VALUE>', 'set an environment variable (repeatable)', collectEnv)
    .option('--unset-env <KEY>', 'remove an environment variable (repeatable)', collect)
    .addOption(new Option('--enable', 'enable the user (start their gateway)').conflicts('disable'))
    .option('--disable', 'disable the user (stop their gateway, keep data)')
    .option('--allow <ADDR[:PORT]>', 'let this gateway reach an address or CIDR the network policy refuses, e.g. 192.168.1.20:8123 (repeatable)', collect)
    .option('--disallow <ADDR[:PORT]>', 'take back an --allow entry (repeatable)', collect)
    .option('--daily-budget <USD>', 'model spend this user may reach a day, e.g. 0.5')
    .option('--monthly-budget <USD>', 'model spend this user may reach a month, e.g. 10')
    .option('--no-budget', "remove the user's own model budget (settings.models.budget applies)")
    .addHelpText('after', '\nExamples:\n  ocm set alice --memory 4g --cpus 2\n  ocm set alice --daily-budget 0.5 --monthly-budget 10\n  ocm set alice --env ANTHROPIC_API_KEY=sk-ant-... --unset-env OPENAI_API_KEY\n  ocm set alice --allow 192.168.1.20:8123 --allow 10.0.0.0/24\n  ocm set bob --disable')
    .action(async (name: string, opts: { cpus?: string; memory?: string; pids?: string; env?: Record<string, string>; unsetEnv?: string[]; enable?: boolean; disable?: boolean; allow?: string[]; disallow?: string[]; dailyBudget?: string; monthlyBudget?: string; budget?: boolean }, cmd: Command) => {
      const enabled = opts.enable === true ? true : opts.disable === true ? false : undefined;
      const budgetChange = opts.budget === false || opts.dailyBudget !== undefined || opts.monthlyBudget !== undefined;
      if (opts.cpus === undefined && opts.memory === undefined && opts.pids === undefined && opts.env === undefined && opts.unsetEnv === undefined && enabled === undefined && opts.allow === undefined && opts.disallow === undefined && !budgetChange) {
        throw new OcmError('OCM_E_USAGE', 'ocm set needs at least one change', { hint: 'e.g. `ocm set alice --memory 4g`; see `ocm set --help`' });
      }
      const { setUser } = await usersOps();
      const result = await setUser(opsContext(cmd, io), name, { ...opts, hostCapacity, ...(enabled === undefined ? {} : { enabled }) });
      io.err(describeChanges(result.changes));
      await hooks.afterEdit(cmd, { kind: 'set', name, start: result.user?.enabled ?? true, change: result });
      io.out(`updated ${name}`);
    });

  program.command('move')
    .description('move a user to another node of the swarm: her service is pinned there and started, health-checked, and put back where she was if she does not come up')
    .argument('<name>', 'user name')
    .requiredOption('--to <node>', 'the node (host name, as `docker node ls` shows it)')
    .addHelpText('after', '\nExamples:\n  ocm move alice --to worker-2\n\nBetween two ocm roots (one host to another): ocm export alice -o alice.tar, then ocm import alice.tar there.')
    .action(async (name: string, opts: { to: string }, cmd: Command) => {
      const ctx = opsContext(cmd, io);
      const { manifest } = await ctx.root.load();
      if (manifest.settings.engine !== 'swarm') {
        throw new OcmError('OCM_E_USAGE', 'ocm move --to moves a user between the nodes of a swarm root (settings.engine: swarm)', { hint: `to move ${name} to another root, run \`ocm export ${name} -o ${name}.tar\` here and \`ocm import ${name}.tar\` there` });
      }
      const current = manifest.users.find((u) => u.name === name);
      if (current === undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(name)}`);
      const to = await checkedNode(manifest, opts.to);
      if (current.node === to) return io.out(`${name} is already on ${to}`);
      const started = Date.now();
      const { setUser } = await usersOps();
      const result = await setUser(ctx, name, { node: to });
      await hooks.afterEdit(cmd, { kind: 'set', name, start: result.user?.enabled ?? true, change: result });
      io.out(`moved ${name} from ${current.node ?? 'an unpinned node'} to ${to} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });

  program.command('list')
    .description('list users')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  ocm list\n  ocm list --json | jq -r ".[].name"')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { listUsers } = await usersOps();
      const users = await listUsers(opsContext(cmd, io));
      if (opts.json === true) return io.out(json(users));
      if (users.length === 0) return io.out('no users yet: add one with `ocm add <name>`');
      io.out(table(['NAME', 'ENABLED', 'PORT', 'CPUS', 'MEMORY', 'PIDS', 'URL'],
        users.map((u) => [u.name, u.enabled ? 'yes' : 'no', String(u.port), String(u.cpus), u.memory, String(u.pids), u.url])));
    });

  program.command('show')
    .description("show one user's settings (secrets masked)")
    .argument('<name>', 'user name')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  ocm show alice\n  ocm show alice --json')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const { showUser } = await usersOps();
      const user = await showUser(opsContext(cmd, io), name);
      if (opts.json === true) io.out(json(user));
      else printUser(io, user);
    });

  program.command('token')
    .description("print a user's gateway token, or rotate it (recreates their container); with --meter, her model meter key")
    .argument('<name>', 'user name')
    .option('--rotate', 'make a new one; the old one stops working')
    .option('--meter', 'the key her gateway uses for the model meter (rotating it needs no restart: the gateway reloads openclaw.json)')
    .addHelpText('after', '\nExamples:\n  ocm token alice\n  ocm token alice --rotate\n  ocm token alice --meter --rotate')
    .action(async (name: string, opts: { rotate?: boolean; meter?: boolean }, cmd: Command) => {
      if (opts.meter === true) {
        const { userMeterKey } = await import('@ocm/ops/meter-key');
        const result = await userMeterKey(opsContext(cmd, io), name, opts.rotate === true);
        if (result.rotated) io.err(`${name}: new meter key written to her openclaw.json; the meter refuses the old one from now on`);
        io.out(result.key);
        return;
      }
      const { userToken } = await usersOps();
      const result = await userToken(opsContext(cmd, io), name, opts.rotate === true);
      if (result.rotated) await hooks.afterEdit(cmd, { kind: 'token', name, start: true });
      io.out(result.token);
    });
}

export type { EditEvent } from '@ocm/ops/converge-edit';
export type AfterEdit = (cmd: Command, event: EditEvent) => Promise<void>;
export type Preflight = (cmd: Command, event: EditEvent, manifest: Manifest, user: User) => Promise<Prepared | void>;
