// Reads `strace -f -y` output of root ocm and says, for every file syscall
// whose target lies strictly inside a tenant tree (users/<name>/<tree>/...,
// or a user's directory moved to .trash), whether the kernel could have
// followed a link the tenant placed: any path component inside a tenant tree
// that is resolved by name (an intermediate directory, or the final entry of
// a call that follows it) is a finding. Safe forms: a call on a descriptor
// (`fchown(19</…>)`), a single name below a descriptor (`openat(18</…>,
// "x", O_NOFOLLOW)` or `/proc/self/fd/18/x`), or a path whose only entry
// inside the tree is its last one, not followed (`lstat(<tree>/x)`).
import { posix } from 'node:path';

/** strace's flags for this audit: threads and children, fds shown with their paths, whole strings. */
export const STRACE_ARGS = ['-f', '-qq', '-y', '-s', '65535', '-e', 'trace=%file,clone,clone3,fork,vfork,fchdir,fchown,fchmod', '-e', 'signal=none'];

export interface TraceCall { pid: number; name: string; args: string[]; ret: string; line: string }

/** How a counted call reached its target without following a tenant link. */
export type SafeForm = 'handle' | 'proc-fd' | 'dirfd' | 'top-level-nofollow';

export interface Access {
  call: TraceCall;
  /** The target as a path (descriptors replaced by the path strace printed for them). */
  target: string;
  form?: SafeForm;
  /** Set when unsafe: which component would have been followed. */
  unsafe?: string;
}

export interface AuditReport {
  /** Calls whose target lies strictly inside a tenant tree (plus any that followed a tenant name on the way). */
  accesses: Access[];
  unsafe: Access[];
  counts: Record<SafeForm, number>;
  /** `/proc/self/fd/N` with an N no traced call had shown: the target cannot be placed. */
  unresolved: TraceCall[];
  /** Programs the traced processes ran (execve), in order. */
  programs: string[];
}

// ---------------------------------------------------------------- lines

const LINE = /^(\d+)\s+(.*)$/;
const RESUMED = /^<\.\.\. ([a-z0-9_]+) resumed>(.*)$/;
const UNFINISHED = / ?<unfinished \.\.\.>$/;

/** Syscall lines of a trace, `<unfinished ...>` halves joined with their `resumed` ends. */
export function parseTrace(text: string): TraceCall[] {
  const pending = new Map<number, string>();
  const calls: TraceCall[] = [];
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw);
    if (!m) continue;
    const pid = Number(m[1]);
    let rest = m[2] as string;
    if (rest.startsWith('---') || rest.startsWith('+++')) continue;
    const resumed = RESUMED.exec(rest);
    if (resumed) {
      const head = pending.get(pid);
      if (head === undefined) continue;
      pending.delete(pid);
      rest = head + (resumed[2] as string);
    }
    if (UNFINISHED.test(rest)) {
      pending.set(pid, rest.replace(UNFINISHED, ''));
      continue;
    }
    const call = parseCall(pid, rest);
    if (call) calls.push(call);
  }
  return calls;
}

function parseCall(pid: number, text: string): TraceCall | undefined {
  const open = /^([a-z0-9_]+)\(/.exec(text);
  if (!open) return undefined;
  const args: string[] = [];
  let depth = 0;
  let current = '';
  let i = open[0].length;
  for (; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') {
      // A string, escapes kept; strace may append `...` when it cut one.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      current += text.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '<' && /(\d|AT_FDCWD)$/.test(current)) {
      // A descriptor's path as -y prints it: read to the closing '>'.
      const end = text.indexOf('>', i);
      current += text.slice(i, end + 1);
      i = end;
      continue;
    }
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ')') {
      if (depth === 0) break;
      depth--;
    } else if (c === ',' && depth === 0) {
      args.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim() !== '') args.push(current.trim());
  const eq = text.indexOf('=', i);
  const ret = eq < 0 ? '?' : text.slice(eq + 1).trim();
  return { pid, name: open[1] as string, args, ret, line: `${pid} ${text}` };
}

/** The bytes of a C-quoted strace string, or undefined when the argument is not one. */
export function unquote(arg: string): string | undefined {
  const m = /^"((?:[^"\\]|\\.)*)"(\.\.\.)?$/s.exec(arg);
  if (!m) return undefined;
  return (m[1] as string).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

/** `18</tmp/x>` -> { fd: 18, path: '/tmp/x' }; `AT_FDCWD</cwd>` -> { fd: 'cwd', path: '/cwd' }. */
export function parseFd(arg: string): { fd: number | 'cwd'; path: string | undefined } | undefined {
  const m = /^(-?\d+|AT_FDCWD)(?:<(.*)>)?$/s.exec(arg);
  if (!m) return undefined;
  const path = m[2]?.replace(/ \(deleted\)$/, '');
  return { fd: m[1] === 'AT_FDCWD' ? 'cwd' : Number(m[1]), path };
}

const succeeded = (ret: string): boolean => !ret.startsWith('-1') && !ret.startsWith('?');

// ---------------------------------------------------------------- syscalls

/** Whether the call resolves its last component through a link there. */
type Follow = 'follow' | 'nofollow' | { openFlags: number } | { atFlags: number } | { linkFlags: number };
/** [index of the dirfd argument or null, index of the path argument, follow rule]. */
type PathArg = [number | null, number, Follow];

const FOLLOWS = ['stat', 'stat64', 'statfs', 'statfs64', 'access', 'chdir', 'chroot', 'chmod', 'chown', 'truncate', 'truncate64', 'execve', 'utime', 'utimes',
  'getxattr', 'setxattr', 'listxattr', 'removexattr', 'inotify_add_watch', 'mount', 'umount2', 'swapon', 'swapoff', 'acct', 'uselib', 'quotactl'];
const NO_FOLLOW = ['lstat', 'lstat64', 'lchown', 'lgetxattr', 'lsetxattr', 'llistxattr', 'lremovexattr', 'readlink', 'unlink', 'rmdir', 'mkdir', 'mknod'];

const SYSCALLS: Record<string, PathArg[]> = {
  open: [[null, 0, { openFlags: 1 }]],
  creat: [[null, 0, 'follow']],
  openat: [[0, 1, { openFlags: 2 }]],
  openat2: [[0, 1, { openFlags: 2 }]],
  newfstatat: [[0, 1, { atFlags: 3 }]],
  fstatat64: [[0, 1, { atFlags: 3 }]],
  statx: [[0, 1, { atFlags: 2 }]],
  fchownat: [[0, 1, { atFlags: 4 }]],
  utimensat: [[0, 1, { atFlags: 3 }]],
  futimesat: [[0, 1, 'follow']],
  faccessat: [[0, 1, 'follow']],
  faccessat2: [[0, 1, { atFlags: 3 }]],
  fchmodat: [[0, 1, 'follow']],
  fchmodat2: [[0, 1, { atFlags: 3 }]],
  name_to_handle_at: [[0, 1, 'follow']],
  mkdirat: [[0, 1, 'nofollow']],
  mknodat: [[0, 1, 'nofollow']],
  unlinkat: [[0, 1, 'nofollow']],
  readlinkat: [[0, 1, 'nofollow']],
  rename: [[null, 0, 'nofollow'], [null, 1, 'nofollow']],
  renameat: [[0, 1, 'nofollow'], [2, 3, 'nofollow']],
  renameat2: [[0, 1, 'nofollow'], [2, 3, 'nofollow']],
  link: [[null, 0, 'nofollow'], [null, 1, 'nofollow']],
  linkat: [[0, 1, { linkFlags: 4 }], [2, 3, 'nofollow']],
  symlink: [[null, 1, 'nofollow']],
  symlinkat: [[1, 2, 'nofollow']],
  ...Object.fromEntries(FOLLOWS.map((n) => [n, [[null, 0, 'follow']] as PathArg[]])),
  ...Object.fromEntries(NO_FOLLOW.map((n) => [n, [[null, 0, 'nofollow']] as PathArg[]])),
};
/** Calls on a descriptor alone: they act on what is open, never on a name. */
const ON_HANDLE = new Set(['fchown', 'fchmod', 'fchdir']);

function follows(rule: Follow, args: string[]): boolean {
  if (rule === 'follow') return true;
  if (rule === 'nofollow') return false;
  if ('openFlags' in rule) {
    const flags = args[rule.openFlags] ?? '';
    // O_CREAT|O_EXCL fails on any existing entry, a link included.
    return !(flags.includes('O_NOFOLLOW') || (flags.includes('O_CREAT') && flags.includes('O_EXCL')) || flags.includes('RESOLVE_NO_SYMLINKS'));
  }
  if ('atFlags' in rule) return !(args[rule.atFlags] ?? '').includes('AT_SYMLINK_NOFOLLOW');
  return (args[rule.linkFlags] ?? '').includes('AT_SYMLINK_FOLLOW');
}

// ---------------------------------------------------------------- processes

const PROC_FD = /^\/(?:proc\/(?:self|thread-self|(\d+))|dev)\/fd\/(\d+)(?:\/(.*))?$/s;

/** One fd table (threads and CLONE_FILES children share it) with the cwd last seen there. */
interface Table { fds: Map<number, string>; cwd: string | undefined }

class Processes {
  private readonly tables = new Map<number, Table>();
  constructor(private readonly cwd: string | undefined) {}

  table(pid: number): Table {
    let t = this.tables.get(pid);
    if (!t) this.tables.set(pid, (t = { fds: new Map(), cwd: this.cwd }));
    return t;
  }

  /** A clone/fork: the child shares the parent's table with CLONE_FILES, else starts with a copy. */
  cloned(call: TraceCall): void {
    const child = Number(/^(\d+)/.exec(call.ret)?.[1]);
    if (!Number.isInteger(child) || child <= 0) return;
    const flags = call.args.join(',');
    const parent = this.table(call.pid);
    if (flags.includes('CLONE_FILES')) this.tables.set(child, parent);
    else if (!this.tables.has(child)) this.tables.set(child, { fds: new Map(parent.fds), cwd: parent.cwd });
  }
}

// ---------------------------------------------------------------- the audit

export interface AuditOptions {
  /** Is `path` strictly inside a tenant tree? See tenantTrees(). */
  inTree: (path: string) => boolean;
  /** The traced command's starting directory, for relative paths of calls without a dirfd. */
  cwd?: string;
}

/**
 * Tenant trees of a deployment root: anything at least three names below
 * `<root>/users` (users/<name>/state/x, and the state.before-restore-… and
 * .restore-tmp-…/state asides) or below `<root>/.trash` (a purged user).
 */
export function tenantTrees(root: string): (path: string) => boolean {
  const bases = [`${root}/users/`, `${root}/.trash/`];
  return (path) => bases.some((b) => path.startsWith(b) && path.slice(b.length).split('/').filter(Boolean).length >= 3);
}

interface Target { base: string; handle: 'proc-fd' | 'dirfd' | undefined; rest: string }

export function auditTrace(text: string, options: AuditOptions): AuditReport {
  const report: AuditReport = { accesses: [], unsafe: [], counts: { handle: 0, 'proc-fd': 0, dirfd: 0, 'top-level-nofollow': 0 }, unresolved: [], programs: [] };
  const procs = new Processes(options.cwd);
  const record = (access: Access): void => {
    report.accesses.push(access);
    if (access.unsafe !== undefined) report.unsafe.push(access);
    else if (access.form !== undefined) report.counts[access.form]++;
  };
  for (const call of parseTrace(text)) {
    const table = procs.table(call.pid);
    if (['clone', 'clone3', 'fork', 'vfork'].includes(call.name)) {
      procs.cloned(call);
      continue;
    }
    // Every descriptor strace shows updates what that number is, in this table.
    for (const arg of call.args) {
      const fd = parseFd(arg);
      if (fd?.path === undefined) continue;
      if (fd.fd === 'cwd') table.cwd = fd.path;
      else table.fds.set(fd.fd, fd.path);
    }
    const opened = parseFd(call.ret);
    if (opened && typeof opened.fd === 'number' && opened.path !== undefined) table.fds.set(opened.fd, opened.path);
    if (call.name === 'execve' && succeeded(call.ret)) report.programs.push(unquote(call.args[0] ?? '') ?? '?');
    if (call.name === 'chdir' && succeeded(call.ret)) {
      const dir = unquote(call.args[0] ?? '');
      if (dir !== undefined && table.cwd !== undefined) table.cwd = posix.resolve(table.cwd, dir);
    }
    if (ON_HANDLE.has(call.name)) {
      const fd = parseFd(call.args[0] ?? '');
      if (fd?.path !== undefined && options.inTree(fd.path)) record({ call, target: fd.path, form: 'handle' });
      continue;
    }
    for (const [dirIndex, pathIndex, rule] of SYSCALLS[call.name] ?? []) {
      const path = unquote(call.args[pathIndex] ?? '');
      const dir = dirIndex === null ? undefined : parseFd(call.args[dirIndex] ?? '');
      let target: Target | undefined;
      if (path === undefined || path === '') {
        // NULL or "" with AT_EMPTY_PATH: the call is on the descriptor itself.
        if (dir?.path !== undefined && dir.fd !== 'cwd' && options.inTree(dir.path)) record({ call, target: dir.path, form: 'handle' });
        continue;
      }
      const proc = PROC_FD.exec(path);
      if (proc) {
        const owner = proc[1] === undefined ? table : procs.table(Number(proc[1]));
        const base = owner.fds.get(Number(proc[2]));
        if (base === undefined) {
          report.unresolved.push(call);
          continue;
        }
        target = { base, handle: 'proc-fd', rest: proc[3] ?? '' };
      } else if (path.startsWith('/')) {
        target = { base: '/', handle: undefined, rest: path };
      } else if (dir !== undefined && dir.fd !== 'cwd') {
        if (dir.path === undefined) {
          report.unresolved.push(call);
          continue;
        }
        target = { base: dir.path, handle: 'dirfd', rest: path };
      } else {
        const cwd = dir?.path ?? table.cwd;
        if (cwd === undefined) {
          report.unresolved.push(call);
          continue;
        }
        target = { base: '/', handle: undefined, rest: `${cwd}/${path}` };
      }
      const access = walk(target, follows(rule, call.args), options.inTree);
      if (access.counted) record({ call, target: access.path, ...(access.unsafe === undefined ? { form: target.handle ?? 'top-level-nofollow' } : { unsafe: access.unsafe }) });
    }
  }
  return report;
}

/**
 * Resolves `rest` below `base` name by name as the kernel would, noting the
 * first component inside a tenant tree that it would follow if it were a link.
 */
function walk(target: Target, followLast: boolean, inTree: (path: string) => boolean): { path: string; counted: boolean; unsafe?: string } {
  const names = target.rest.split('/').filter((n) => n !== '' && n !== '.');
  let path = target.base;
  let unsafe: string | undefined;
  names.forEach((name, i) => {
    path = name === '..' ? posix.dirname(path) : posix.join(path, name);
    const last = i === names.length - 1;
    if (name !== '..' && (!last || followLast) && inTree(path) && unsafe === undefined) {
      unsafe = last ? `follows a link at ${path} (the call does not refuse one)` : `resolves ${path} by name on the way to a deeper entry`;
    }
  });
  return { path, counted: unsafe !== undefined || inTree(path), ...(unsafe === undefined ? {} : { unsafe }) };
}

/** The report as lines for an assertion message: unsafe calls first, then the counts. */
export function describe(report: AuditReport, max = 40): string {
  const lines = report.unsafe.slice(0, max).map((a) => `UNSAFE ${a.unsafe}:\n  ${a.call.line}`);
  if (report.unsafe.length > max) lines.push(`... and ${report.unsafe.length - max} more`);
  for (const c of report.unresolved.slice(0, max)) lines.push(`UNRESOLVED descriptor:\n  ${c.line}`);
  lines.push(`counted ${report.accesses.length}: ${JSON.stringify(report.counts)}, unsafe ${report.unsafe.length}, unresolved ${report.unresolved.length}`);
  return lines.join('\n');
}

/**
 * Raw trace lines that name a path strictly inside a tenant tree in a quoted
 * argument but that the audit did not count: a syscall it has no rule for,
 * or a line it could not parse. Empty when the audit saw everything.
 */
export function blindSpots(text: string, root: string, report: AuditReport): string[] {
  const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const named = new RegExp(`"${escaped}/(?:users|\\.trash)/[^/"]+/[^/"]+/[^"]`);
  const counted = report.accesses.map((a) => a.call.line);
  return text.split('\n').filter((line) => {
    if (!named.test(line)) return false;
    const head = line.replace(UNFINISHED, '').replace(/^(\d+)\s+/, '$1 ');
    return !counted.some((c) => c.startsWith(head) || c === line);
  });
}
