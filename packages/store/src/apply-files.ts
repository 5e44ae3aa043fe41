// Bring the files on disk in line with a render: write only what differs,
// create user dirs with the gateway's owner and mode, merge openclaw.json.
// Inside users/<name> everything goes through user-trees (no-follow handles).
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { CONFIG_FILE, isManagedContent, mapLimit, meterKey, rootLayout, type GatewayConfigKeys, type MeterKeyVersions, type Rendered, type UserDeployment } from '@ocm/core';
import { writeDurable } from '@ocm/fs';
import { readIfExists } from './read-if-exists.js';
import { ensureUserDir, mergeUserConfig } from './user-trees.js';
import { ensureMeterSecret } from './meter-secret.js';
import { readMeterKeys } from './meter-keys.js';

interface MeterKeying { secret: string; versions: MeterKeyVersions }

/** The meter's providers as this user's gateway is to use them: the user's own meter key, never the admin's. */
function modelProviders(user: UserDeployment, keying: MeterKeying | undefined): GatewayConfigKeys['modelProviders'] {
  if (user.meteredProviders === undefined || keying === undefined) return undefined;
  const apiKey = meterKey(keying.secret, user.name, keying.versions.get(user.name));
  return Object.fromEntries(user.meteredProviders.map((p) => [p.id, { baseUrl: p.baseUrl, apiKey, api: p.api, models: p.models.map((id) => ({ id, name: id })) }]));
}

export interface FileChange {
  path: string;
  /** 'skipped': a user's file ocm would not touch (reason says why); the others went ahead. */
  change: 'created' | 'updated' | 'mode' | 'removed' | 'recovered' | 'skipped';
  reason?: string;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Files and directories at once, this many: a no-op `ocm up` of 50 users
 * checks about 700 paths, and one at a time through the thread pool they
 * took most of its time on a busy host.
 */
const PARALLEL = 16;

export async function applyRendered(root: string, rendered: Rendered): Promise<FileChange[]> {
  const layout = rootLayout(root);
  await mkdir(layout.nginx, { recursive: true });
  await mkdir(layout.backups, { recursive: true, mode: 0o700 });
  const dirChanges = await mapLimit(rendered.plan.users, PARALLEL, async (user) => {
    const out: FileChange[] = [];
    // In order within a user: the user's own directory before the trees inside it.
    await mkdir(layout.users, { recursive: true, mode: 0o755 });
    for (const [i, dir] of user.dirs.entries()) {
      const recovered = await recoverAside(dir.path);
      if (recovered !== undefined) out.push({ path: `users/${user.name}/${recovered}`, change: 'recovered' });
      // dirs[0] is users/<name> itself, the others are entries in it.
      const entry = i === 0 ? '' : dir.path.slice(dir.path.lastIndexOf('/') + 1);
      // Only root can hand a directory to the gateway uid; otherwise doctor reports it.
      await ensureUserDir(root, user.name, entry, dir.mode, isRoot() ? { uid: dir.uid, gid: dir.gid } : undefined);
    }
    return out;
  });
  const fileChanges = await mapLimit(rendered.files, PARALLEL, async (file): Promise<FileChange | undefined> => {
    const path = `${root}/${file.path}`;
    const current = await readIfExists(path);
    if (current !== file.content) {
      await writeDurable(path, file.content, { mode: file.mode, followLink: true });
      return { path: file.path, change: current === undefined ? 'created' : 'updated' };
    }
    if (((await stat(path)).mode & 0o777) !== file.mode) {
      await chmod(path, file.mode);
      return { path: file.path, change: 'mode' };
    }
    return undefined;
  });
  const stale = await removeStaleNginx(root, rendered);
  const metered = rendered.plan.users.some((u) => u.meteredProviders !== undefined);
  const keying = metered ? { secret: await ensureMeterSecret(root), versions: await readMeterKeys(root) } : undefined;
  const configChanges = await mapLimit(rendered.plan.users, PARALLEL, async (user): Promise<FileChange | undefined> => {
    const stateDir = user.dirs[1];
    if (stateDir === undefined) return undefined;
    const path = `users/${user.name}/state/${CONFIG_FILE}`;
    const providers = modelProviders(user, keying);
    const keys = { allowedOrigins: [user.origin], trustedProxies: [user.network.gateway], ...(providers === undefined ? {} : { modelProviders: providers }) };
    const result = await mergeUserConfig(root, user.name, keys, isRoot() ? { uid: stateDir.uid, gid: stateDir.gid } : undefined);
    if (result.kind === 'unchanged') return undefined;
    if (result.kind === 'skipped') return { path, change: 'skipped', reason: result.reason };
    return { path, change: 'updated' };
  });
  const present = (c: FileChange | undefined): c is FileChange => c !== undefined;
  return [...dirChanges.flat(), ...fileChanges.filter(present), ...stale, ...configChanges.filter(present)];
}

/**
 * A restore killed between its renames leaves state/ (or config/) missing and
 * the previous tree beside it as <tree>.before-restore-<time>. Put the newest
 * back, so the next command never creates an empty tree over a user's data.
 */
async function recoverAside(path: string): Promise<string | undefined> {
  const slash = path.lastIndexOf('/');
  const parent = path.slice(0, slash);
  const tree = path.slice(slash + 1);
  if (tree !== 'state' && tree !== 'config') return undefined;
  try {
    await stat(path);
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const asides = (await readdir(parent).catch(() => [] as string[])).filter((e) => e.startsWith(`${tree}.before-restore-`)).sort();
  const newest = asides[asides.length - 1];
  if (newest === undefined) return undefined;
  await rename(`${parent}/${newest}`, path);
  return `${newest} -> ${tree}`;
}

/** Server blocks of users no longer in the manifest; only files ocm wrote. */
async function removeStaleNginx(root: string, rendered: Rendered): Promise<FileChange[]> {
  const wanted = new Set(rendered.files.map((f) => f.path));
  const removed: FileChange[] = [];
  for (const entry of await readdir(rootLayout(root).nginx)) {
    const rel = `nginx/${entry}`;
    if (!entry.endsWith('.conf') || wanted.has(rel)) continue;
    const text = await readIfExists(`${root}/${rel}`);
    if (text !== undefined && isManagedContent(text)) {
      await rm(`${root}/${rel}`, { force: true });
      removed.push({ path: rel, change: 'removed' });
    }
  }
  return removed;
}

export interface StaleFile { path: string; problem: 'missing' | 'differs' | 'mode' | 'extra' }

/** What `ocm render --check` reports: files that differ from a fresh render. */
export async function diffRendered(root: string, rendered: Rendered): Promise<StaleFile[]> {
  const stale: StaleFile[] = [];
  for (const file of rendered.files) {
    const current = await readIfExists(`${root}/${file.path}`);
    if (current === undefined) stale.push({ path: file.path, problem: 'missing' });
    else if (current !== file.content) stale.push({ path: file.path, problem: 'differs' });
    else if (((await stat(`${root}/${file.path}`)).mode & 0o777) !== file.mode) stale.push({ path: file.path, problem: 'mode' });
  }
  const wanted = new Set(rendered.files.map((f) => f.path));
  const entries = await readdir(rootLayout(root).nginx).catch(() => [] as string[]);
  for (const entry of entries) {
    const rel = `nginx/${entry}`;
    if (entry.endsWith('.conf') && !wanted.has(rel) && isManagedContent((await readIfExists(`${root}/${rel}`)) ?? '')) {
      stale.push({ path: rel, problem: 'extra' });
    }
  }
  return stale;
}
