// `ocm import`: a user exported from another root joins this one. The file is
// checked completely before anything here changes (its description, its
// checksum, and every entry of the archive by the backup verifier); then the
// user is added as `ocm add` adds one (own port, network, new token), their
// state goes in through the restore path, and they are started and
// health-checked as `ocm add` starts them. A failure after the add takes it
// all back: entry, files, container, network and firewall rules, and leaves
// one `user.import.failed` line in the audit log where an add and a purge were.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rm, rmdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { OcmError, assertUserName, isOcmError, parseSize, rootLayout, userNetwork, userOrigin, type Manifest, type User } from '@ocm/core';
import { archiveName, readBundle, restoreState, verifyBackup, writeSidecar, type Clock, type ContainerControl, type ExportMeta, type RestoreResult } from '@ocm/backup';
import type { HealthProgress } from '@ocm/engine';
import { keptUserState, mergeUserConfig } from '@ocm/store';
import { currentPlan, selectUsers } from './current-plan.js';
import { assertAllOk, removeContainer, up } from './lifecycle.js';
import { ensureNetworkPolicy } from './network-policy.js';
import type { RuntimeContext } from './runtime-context.js';
import { editRoot, type Edit } from './edit-pipeline.js';
import { addUser, removeUser } from './users.js';
import { nodeForNewUser } from './placement.js';
import { importedEntry, type ImportedEntry } from './imported-entry.js';

export interface ImportOptions {
  /** Import under this name instead of the exported one. */
  name?: string;
  /** false: place the state but leave the gateway stopped (`--no-start`). */
  start?: boolean;
  /** Read the export from this stream (`ocm import -`); the file argument then only names it. */
  input?: Readable;
  clock?: Clock;
  onStep?: (words: string) => void;
  onHealth?: (progress: HealthProgress) => void;
  /**
   * The admin stopped the command (Ctrl-C): checked between steps and during
   * the health wait; what was done is taken back as after any failure.
   */
  signal?: AbortSignal;
}

export interface ImportResult {
  name: string;
  exportedAs: string;
  port: number;
  started: boolean;
  restored: RestoreResult;
  /** Env keys the user had in the source root; their values do not travel. */
  envKeys: string[];
  exportedAt: string;
  /** The model group she was in at the source, and whether she joined this root's group of that name. */
  group?: { name: string; joined: boolean };
  /** She brought her own budget (else this root's default applies). */
  ownBudget: boolean;
}

const systemClock: Clock = { now: () => new Date() };

/** Nothing runs yet: the trees are placed while no container exists. */
const nothingRunning: ContainerControl = {
  isRunning: () => Promise.resolve(false),
  runToken: () => Promise.resolve('missing'),
  pause: () => Promise.resolve(),
  unpause: () => Promise.resolve(),
  stop: () => Promise.resolve(),
  start: () => Promise.resolve(),
};

/** The verifier names the scratch copy; the admin knows the file they passed. */
function aboutFile(error: unknown, scratchPath: string, file: string): unknown {
  if (!isOcmError(error) || !error.message.includes(scratchPath)) return error;
  return new OcmError(error.code, error.message.split(scratchPath).join(`${file} (its archive)`), { cause: error, details: { file } });
}

async function checkedBundle(manifest: Manifest, file: string, scratch: string, clock: Clock, input: Readable | undefined): Promise<{ meta: ExportMeta; entry: ImportedEntry; payload: string }> {
  const limits = manifest.settings.backup;
  const maxBytes = parseSize(limits.maxBytes, 'settings.backup.maxBytes');
  // A name the backup package knows, so its messages and checks read as for any archive.
  const payload = `${scratch}/${archiveName('import', clock.now(), 'manual')}`;
  const meta = await readBundle(file, payload, { maxPayloadBytes: maxBytes, ...(input === undefined ? {} : { input }) });
  const entry = importedEntry(file, meta.user);
  await writeSidecar(payload, meta.payload.sha256);
  const report = await verifyBackup(payload).catch((error: unknown) => {
    throw aboutFile(error, payload, file);
  });
  if (report.files > limits.maxFiles || report.sourceBytes > maxBytes) {
    throw new OcmError('OCM_E_BACKUP_LIMIT', `${file}: its ${report.files} files of ${report.sourceBytes} bytes exceed settings.backup.maxFiles / maxBytes of this root`, { details: { file } });
  }
  if (!report.manifest.sources.includes('state')) throw new OcmError('OCM_E_IMPORT_INVALID', `${file}: its archive holds no state tree`, { details: { file } });
  return { meta, entry, payload };
}

async function assertNameFree(ctx: RuntimeContext, manifest: Manifest, name: string, renamed: boolean): Promise<void> {
  assertUserName(name);
  const hint = `import under another name: ocm import FILE --name <new-name>`;
  if (manifest.users.some((u) => u.name === name)) {
    throw new OcmError('OCM_E_USER_EXISTS', `user ${JSON.stringify(name)} already exists in this root`, { hint, details: { name, renamed } });
  }
  if (await keptUserState(ctx.root.path, name)) {
    throw new OcmError('OCM_E_USER_EXISTS', `users/${name} holds the state an earlier ${name} left; an import never replaces it`, { hint, details: { name, renamed } });
  }
}

function checkpoint(signal: AbortSignal | undefined, step: string): void {
  if (signal?.aborted === true) throw new OcmError('OCM_E_INTERRUPTED', `interrupted ${step}`);
}

const exists = (path: string): Promise<boolean> => lstat(path).then(() => true, () => false);

/**
 * Takes an import back after the add: container, network, firewall rules,
 * entry, group membership and trees, without audit lines of its own. The
 * purge's trash directory goes too when the import brought it.
 */
async function undoAdd(ctx: RuntimeContext, name: string, trashExisted: boolean): Promise<void> {
  const { plan } = await currentPlan(ctx);
  const network = selectUsers(plan, [name])[0]?.network.name;
  await removeUser(ctx, name, { purge: true, yes: true, audit: false, removeContainer: () => removeContainer(ctx, name) });
  if (network !== undefined) await ctx.engine.removeNetworkIfUnused(network).catch(() => undefined);
  const { manifest } = await ctx.root.load();
  await ensureNetworkPolicy(ctx, manifest);
  if (!trashExisted) {
    // Under the lock: a purge running meanwhile would be using it. Only ever an empty one goes.
    await ctx.root.locked(() => rmdir(rootLayout(ctx.root.path).trash).catch((error: unknown) => {
      if (!['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }));
  }
}

export async function importUser(ctx: RuntimeContext, file: string, options: ImportOptions = {}): Promise<ImportResult> {
  const clock = options.clock ?? systemClock;
  const { manifest } = await ctx.root.load();
  const layout = rootLayout(ctx.root.path);
  const trashExisted = await exists(layout.trash);
  const madeBackups = (await mkdir(layout.backups, { recursive: true, mode: 0o700 })) !== undefined;
  const scratch = `${layout.backups}/.import-${randomBytes(6).toString('hex')}`;
  await mkdir(scratch, { mode: 0o700 });
  let imported = false;
  try {
    options.onStep?.('checking the export');
    const { meta, entry, payload } = await checkedBundle(manifest, file, scratch, clock, options.input);
    const name = options.name ?? entry.name;
    await assertNameFree(ctx, manifest, name, options.name !== undefined);
    const start = options.start !== false && entry.fields.enabled !== false;
    checkpoint(options.signal, 'before anything changed');

    options.onStep?.(`adding ${name}`);
    // On a swarm root she is pinned as `ocm add` pins: where her state can be, with the most room.
    const node = await nodeForNewUser(ctx.engine, manifest, undefined);
    const added = await addUser(ctx, name, { ...entry.limits, entry: entry.fields, audit: false, ...(entry.group === undefined ? {} : { group: entry.group }), ...(node === undefined ? {} : { node }) });
    const user = added.user as User;
    const group = added.group === undefined ? {} : { group: added.group };
    try {
      checkpoint(options.signal, `after adding ${name}`);
      const restored = await restoreState({
        archive: payload,
        userDir: layout.user(name).dir,
        control: nothingRunning,
        clock,
        expectOwner: { uid: manifest.settings.gateway.uid, gid: manifest.settings.gateway.gid },
        // The token is this root's, minted by the add: the exported trees never held one.
        // Rendering again merges this root's origin and proxy address into the
        // restored openclaw.json, which still names the source root's.
        rotateToken: async () => {
          await editRoot(ctx, renderImported(ctx.root.path, name, user, entry.sourceGateway));
          return () => Promise.resolve();
        },
        waitHealthy: () => Promise.resolve(),
        ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
      });
      checkpoint(options.signal, `after placing ${name}'s state`);
      if (start) {
        options.onStep?.(`starting ${name}`);
        const result = await up(ctx, [name], { audit: false, ...(options.onHealth === undefined ? {} : { onHealth: options.onHealth }), ...(options.signal === undefined ? {} : { signal: options.signal }) });
        assertAllOk(result.outcomes);
        checkpoint(options.signal, `after starting ${name}`);
      }
      await ctx.root.audit({ actor: ctx.actor, action: 'user.import', target: name, details: { exportedAs: entry.name, sha256: meta.payload.sha256, started: start, port: user.port, ...entry.limits, envKeys: entry.envKeys, ...group } });
      imported = true;
      return { name, exportedAs: entry.name, port: user.port, started: start, restored, envKeys: entry.envKeys, exportedAt: meta.createdAt, ownBudget: entry.fields.budget !== undefined, ...group };
    } catch (error) {
      options.onStep?.(`taking ${name} out again`);
      const undone = await undoAdd(ctx, name, trashExisted).then(() => undefined, (e: unknown) => e as Error);
      const why = isOcmError(error) ? `${error.code}: ${error.message}` : (error as Error).message;
      await ctx.root.audit({ actor: ctx.actor, action: 'user.import.failed', target: name, details: { exportedAs: entry.name, sha256: meta.payload.sha256, error: isOcmError(error) ? error.code : 'error', undone: undone === undefined, ...(undone === undefined ? {} : { left: undone.message }) } });
      throw new OcmError('OCM_E_IMPORT_FAILED', `import of ${file} as ${name} failed (${why}); ${undone === undefined ? 'nothing of it was kept' : `and could not be taken back: ${undone.message}`}`, {
        cause: error,
        details: { file, name },
        ...(undone === undefined ? {} : { hint: `remove what is left with \`ocm remove ${name} --purge --yes\`` }),
      });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    if (!imported && madeBackups) await rmdir(layout.backups).catch(() => undefined);
  }
}

/**
 * The files rendered again over the restored trees, as an edit that leaves
 * ocm.yaml as it is: the source root's origin and bridge address go from her
 * openclaw.json first, then the render merges this root's in.
 */
function renderImported(root: string, name: string, user: User, source: ImportedEntry['sourceGateway']): Edit<void> {
  return {
    read: 'as-is',
    plan: (current) => ({
      beforeWrite: source === undefined ? [] : [async () => {
        const owner = process.getuid?.() === 0 ? { uid: current.settings.gateway.uid, gid: current.settings.gateway.gid } : undefined;
        await mergeUserConfig(root, name, { allowedOrigins: [userOrigin(current, name)], trustedProxies: [userNetwork(current, user).gateway], forget: source }, owner);
      }],
      result: () => undefined,
    }),
  };
}
