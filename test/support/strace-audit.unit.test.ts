// The strace auditor on hand-written trace lines: what a plain readFileSync of
// a tenant file looks like is a finding, the handle forms tenant-tree and the
// backup walk use are not, and calls outside the trees are not counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditTrace, blindSpots, parseTrace, tenantTrees, unquote } from './strace-audit.js';

const inTree = tenantTrees('/r');
const audit = (lines: string[]) => auditTrace(lines.join('\n'), { inTree, cwd: '/w' });

// Opening users/eve/state the way openDirUnder does: root by path, then each name under the previous handle.
const HANDLES = [
  '100 openat(AT_FDCWD</w>, "/r", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 17</r>',
  '100 openat(AT_FDCWD</w>, "/proc/self/fd/17/users", O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_DIRECTORY) = 18</r/users>',
  '100 openat(AT_FDCWD</w>, "/proc/self/fd/18/eve", O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_DIRECTORY) = 19</r/users/eve>',
  '100 openat(AT_FDCWD</w>, "/proc/self/fd/19/state", O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_DIRECTORY) = 20</r/users/eve/state>',
];

test('tenantTrees: strictly inside users/<name>/<tree> or a trashed user, not the tree itself', () => {
  assert.equal(inTree('/r/users/eve/state/openclaw.json'), true);
  assert.equal(inTree('/r/users/eve/state.before-restore-x/a'), true);
  assert.equal(inTree('/r/.trash/eve-1/state/x'), true);
  assert.equal(inTree('/r/.trash/eve-1/state'), false);
  assert.equal(inTree('/r/users/eve/state'), false);
  assert.equal(inTree('/r/users/eve/env'), false);
  assert.equal(inTree('/r/ocm.yaml'), false);
  assert.equal(inTree('/rx/users/eve/state/x'), false);
});

test('a plain open of a tenant file by its path is unsafe; the same file through a handle is not', () => {
  const report = audit([
    ...HANDLES,
    // fs.readFileSync('/r/users/eve/state/openclaw.json') with openclaw.json a link to a host file:
    '100 openat(AT_FDCWD</w>, "/r/users/eve/state/openclaw.json", O_RDONLY|O_CLOEXEC) = 21</tmp/canary/host.json>',
    // tenant-tree's readRegularFile:
    '100 openat(AT_FDCWD</w>, "/proc/self/fd/20/openclaw.json", O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC) = -1 ELOOP (Too many levels of symbolic links)',
  ]);
  assert.equal(report.unsafe.length, 1);
  assert.match(report.unsafe[0]?.call.line ?? '', /"\/r\/users\/eve\/state\/openclaw.json", O_RDONLY\|O_CLOEXEC/);
  assert.match(report.unsafe[0]?.unsafe ?? '', /follows a link at \/r\/users\/eve\/state\/openclaw.json/);
  assert.equal(report.counts['proc-fd'], 1);
  // Opening the tree itself and the directories above it is not inside a tree.
  assert.equal(report.accesses.length, 2);
});

test('an intermediate name inside a tree is unsafe even when the last one is not followed', () => {
  const report = audit([
    ...HANDLES,
    '100 newfstatat(AT_FDCWD</w>, "/r/users/eve/state/agents/x", 0x7ffd, AT_SYMLINK_NOFOLLOW) = 0',
    '100 openat(20</r/users/eve/state>, "agents/x", O_RDONLY|O_NOFOLLOW) = 21</tmp/canary/x>',
    '100 openat(AT_FDCWD</w>, "/proc/self/fd/20/agents/x", O_RDONLY|O_NOFOLLOW) = 22</tmp/canary/x>',
    '100 unlink("/r/.trash/eve-1/state/a/b") = 0',
  ]);
  assert.deepEqual(report.unsafe.map((a) => a.unsafe?.replace(/ .*/, '')), ['resolves', 'resolves', 'resolves', 'resolves']);
  assert.match(report.unsafe[0]?.unsafe ?? '', /\/r\/users\/eve\/state\/agents by name/);
});

test('the safe forms are counted by kind', () => {
  const report = audit([
    ...HANDLES,
    '100 statx(AT_FDCWD</w>, "/r/users/eve/state/openclaw.json", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_ALL, 0x7ffd) = 0',
    '100 mkdir("/r/users/eve/state/new", 0700) = 0',
    '100 unlinkat(20</r/users/eve/state>, "f", 0) = 0',
    '100 openat(20</r/users/eve/state>, "g", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 21</r/users/eve/state/g>',
    '100 fchown(21</r/users/eve/state/g>, 1000, 1000) = 0',
    '100 newfstatat(21</r/users/eve/state/g>, "", {st_mode=S_IFREG|0600, ...}, AT_EMPTY_PATH) = 0',
    '100 rename("/proc/self/fd/20/.g.tmp", "/proc/self/fd/20/g") = 0',
    '100 openat(AT_FDCWD</w>, "/proc/self/fd/20", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 22</r/users/eve/state>',
    '100 openat(AT_FDCWD</w>, "/proc/self/fd/20/..", O_RDONLY|O_NOFOLLOW|O_DIRECTORY) = 23</r/users/eve>',
    '100 openat(AT_FDCWD</w>, "/r/ocm.yaml", O_RDONLY|O_CLOEXEC) = 24</r/ocm.yaml>',
  ]);
  assert.equal(report.unsafe.length, 0, report.unsafe.map((a) => a.call.line).join('\n'));
  assert.deepEqual(report.counts, { handle: 2, 'proc-fd': 2, dirfd: 2, 'top-level-nofollow': 2 });
  assert.equal(report.accesses.length, 8);
});

test('following the last name is unsafe for calls that follow it, by path, dirfd or /proc/self/fd', () => {
  const report = audit([
    ...HANDLES,
    '100 chmod("/r/users/eve/state/openclaw.json", 0600) = 0',
    '100 fchownat(20</r/users/eve/state>, "openclaw.json", 1000, 1000, 0) = 0',
    '100 newfstatat(AT_FDCWD</w>, "/proc/self/fd/20/openclaw.json", {st_mode=S_IFREG|0640, ...}, 0) = 0',
    '100 openat(AT_FDCWD</r/users/eve/state>, "openclaw.json", O_RDONLY|O_CLOEXEC) = 21</tmp/canary/host.json>',
  ]);
  assert.equal(report.unsafe.length, 4);
  assert.ok(report.unsafe.every((a) => a.target === '/r/users/eve/state/openclaw.json'));
});

test('threads share descriptors, split calls are joined, unknown descriptors are reported', () => {
  const calls = parseTrace([
    '100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, child_tid=0x1} => {parent_tid=[101]}, 88) = 101',
    '101 openat(AT_FDCWD</w>, "/proc/self/fd/20/state" <unfinished ...>',
    '100 getcwd("/w", 4096) = 3',
    '101 <... openat resumed>, O_RDONLY|O_NOFOLLOW|O_DIRECTORY) = 30</r/users/bob/state>',
  ].join('\n'));
  assert.equal(calls.length, 3);
  assert.deepEqual(calls[2]?.args, ['AT_FDCWD</w>', '"/proc/self/fd/20/state"', 'O_RDONLY|O_NOFOLLOW|O_DIRECTORY']);
  const report = audit([
    '100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, child_tid=0x1} => {parent_tid=[101]}, 88) = 101',
    '101 openat(AT_FDCWD</w>, "/r/users/bob" <unfinished ...>',
    '100 getcwd("/w", 4096) = 3',
    '101 <... openat resumed>, O_RDONLY|O_DIRECTORY) = 30</r/users/bob>',
    '100 openat(AT_FDCWD</w>, "/proc/self/fd/30/state", O_RDONLY|O_NOFOLLOW|O_DIRECTORY) = 31</r/users/bob/state>',
    '100 openat(AT_FDCWD</w>, "/proc/self/fd/31/openclaw.json", O_RDONLY) = 32</r/users/bob/state/openclaw.json>',
    // A child without CLONE_FILES keeps a copy: its own later opens are not the parent's.
    '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x1) = 200',
    '200 openat(AT_FDCWD</w>, "/proc/self/fd/31/x", O_RDONLY|O_NOFOLLOW) = 3</r/users/bob/state/x>',
    '200 openat(AT_FDCWD</w>, "/proc/self/fd/3/y", O_RDONLY|O_NOFOLLOW) = 4</r/users/bob/state/x/y>',
    '100 openat(AT_FDCWD</w>, "/proc/self/fd/77/y", O_RDONLY|O_NOFOLLOW) = 5</r/users/bob/state/y>',
  ]);
  assert.equal(report.unsafe.length, 1);
  assert.match(report.unsafe[0]?.call.line ?? '', /fd\/31\/openclaw.json", O_RDONLY\)/);
  assert.equal(report.counts['proc-fd'], 2);
  assert.equal(report.unresolved.length, 1);
  assert.match(report.unresolved[0]?.line ?? '', /fd\/77/);
});

test('unquote decodes strace escapes', () => {
  assert.equal(unquote('"a\\"b\\\\c\\x41\\101\\n"'), 'a"b\\cAA\n');
  assert.equal(unquote('"abc"...'), 'abc');
  assert.equal(unquote('NULL'), undefined);
});

test('blindSpots names tenant paths in calls the audit has no rule for', () => {
  const lines = [
    '100 openat(AT_FDCWD</w>, "/r/users/eve/state/a", O_RDONLY|O_NOFOLLOW) = 3</r/users/eve/state/a>',
    '100  setxattrat(AT_FDCWD</w>, "/r/users/eve/state/b", 0) = 0',
    '100  openat(AT_FDCWD</w>, "/r/users/eve/state/d", O_RDONLY|O_NOFOLLOW) = 6</r/users/eve/state/d>',
    '100 openat(AT_FDCWD</w>, "/r/users/eve/state" <unfinished ...>',
    '100 <... openat resumed>, O_RDONLY|O_DIRECTORY) = 4</r/users/eve/state>',
    '100 openat(AT_FDCWD</w>, "/r/users/eve/state/c" <unfinished ...>',
    '100 <... openat resumed>, O_RDONLY) = 5</r/users/eve/state/c>',
  ].join('\n');
  const report = auditTrace(lines, { inTree, cwd: '/w' });
  assert.equal(report.unsafe.length, 1);
  assert.deepEqual(blindSpots(lines, '/r', report), ['100  setxattrat(AT_FDCWD</w>, "/r/users/eve/state/b", 0) = 0']);
});
