// Files the gateway keeps only while it runs or rebuilds by itself: owner
// leases and locks, sockets, pid and .tmp files, a browser's singleton
// markers, regenerable sandbox copies, the unpacked Control UI (1,558 files,
// 26 MB of a fresh user's 26.6 MB archive), and the roots upstream manages and
// re-installs (dev, git, npm, npm-runtime, tools). A
// restored lease makes a new container refuse to start ("Another Gateway owner
// lease is still active"), so these never travel in an archive. The list
// follows upstream's own `openclaw backup create` (docs/cli/backup.md); chat
// transcripts and logs stay in, because ocm reads the trees frozen.

/** Top-level state directories upstream's backup leaves out as managed, re-installable state. */
const MANAGED_ROOTS = new Set(['dev', 'git', 'npm', 'npm-runtime', 'tools']);

/** Why `path` (an archive path such as `state/tmp/x`) is left out, or undefined to keep it. */
export function runtimeEntryReason(path: string, isDirectory: boolean): string | undefined {
  const slash = path.indexOf('/');
  if (slash < 0) return undefined;
  const tree = path.slice(0, slash);
  const rel = path.slice(slash + 1);
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  if (tree === 'state') {
    if (rel === 'tmp' && isDirectory) return 'runtime: the gateway\'s leases and locks (state/tmp)';
    if (rel === 'sandbox/skills-workspaces' && isDirectory) return 'runtime: regenerated sandbox copies';
    if (rel === 'cache/control-ui-assets' && isDirectory) return 'runtime: the Control UI, unpacked again at start';
    if (MANAGED_ROOTS.has(rel) && isDirectory) return `runtime: managed by the gateway (state/${rel})`;
    if (/^browser\/[^/]+\/user-data\/Singleton(Cookie|Lock|Socket)$/.test(rel)) return 'runtime: browser singleton marker';
  }
  if (!isDirectory && (name.endsWith('.sock') || name.endsWith('.pid'))) return 'runtime: socket or pid file';
  if (!isDirectory && tree === 'state' && name.endsWith('.tmp')) return 'runtime: a temporary file being written';
  return undefined;
}
