// The pure decision behind refusing a manifest that lost its users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRemovalsConfirmed, isEmptyManifestText, manifestLoss, manifestLossError, OcmError } from '@ocm/core';

const text = 'settings: {}\nusers: []\n';

test('empty, whitespace-only and comment-only texts count as empty; anything with content does not', () => {
  for (const t of ['', '\n', '   \n\t\n', '# ocm users manifest\n# Edit it\n', '---\n', '---\n...\n']) assert.equal(isEmptyManifestText(t), true, JSON.stringify(t));
  for (const t of [text, 'users: []', '{}', 'settings:\n']) assert.equal(isEmptyManifestText(t), false, JSON.stringify(t));
});

test('an empty text is refused, whether or not users were known', () => {
  assert.deepEqual(manifestLoss({ text: '', users: [], known: ['alice', 'bob'] }), { empty: true, vanished: ['alice', 'bob'], known: 2 });
  assert.deepEqual(manifestLoss({ text: '  \n', users: [], known: undefined }), { empty: true, vanished: [], known: 0 });
  assert.deepEqual(manifestLoss({ text: '', users: [], known: [] }), { empty: true, vanished: [], known: 0 });
});

test('fewer than half of the known users left is refused; half or more is not', () => {
  const known = ['alice', 'bob', 'carol'];
  assert.deepEqual(manifestLoss({ text, users: ['alice'], known }), { empty: false, vanished: ['bob', 'carol'], known: 3 });
  assert.equal(manifestLoss({ text, users: ['alice', 'carol'], known }), undefined);
  assert.equal(manifestLoss({ text, users: ['alice'], known: ['alice', 'bob'] }), undefined, 'one of two is half');
  assert.deepEqual(manifestLoss({ text, users: [], known: ['alice'] })?.vanished, ['alice']);
  assert.deepEqual(manifestLoss({ text, users: ['alice', 'dave'], known: ['alice', 'bob', 'carol', 'erin', 'fred'] })?.vanished, ['bob', 'carol', 'erin', 'fred']);
});

test('users removed through ocm are not known any more, so their absence is no loss', () => {
  // `ocm remove` records the users it leaves: removing the last one leaves none known.
  assert.equal(manifestLoss({ text, users: [], known: [] }), undefined);
  assert.equal(manifestLoss({ text, users: [], known: undefined }), undefined, 'nothing recorded: only an empty text is refused');
  assert.equal(manifestLoss({ text, users: ['alice', 'bob'], known: ['alice'] }), undefined, 'added users never count as lost');
});

test('the refusal names how many users vanished and hints at the backup and --yes', () => {
  const loss = manifestLoss({ text, users: ['alice'], known: ['alice', 'bob', 'carol'] });
  assert.ok(loss !== undefined);
  const error = manifestLossError(loss, { file: '/opt/ocm/ocm.yaml', backup: '/opt/ocm/ocm.yaml.bak' });
  assert.equal(error.code, 'OCM_E_MANIFEST_LOST_USERS');
  assert.equal(error.message, '/opt/ocm/ocm.yaml lost 2 of its 3 users since ocm last wrote it (bob, carol); refusing to act on it');
  assert.equal(error.hint, 'restore the last good manifest with `cp /opt/ocm/ocm.yaml.bak /opt/ocm/ocm.yaml`, or confirm with `ocm up --yes` if the removal is intended');
  assert.ok(!error.message.includes('\n'));
  const empty = manifestLossError({ empty: true, vanished: ['alice'], known: 1 }, { file: 'ocm.yaml', backup: undefined });
  assert.equal(empty.message, 'ocm.yaml is empty: the one user ocm last wrote is gone (alice); refusing to act on it');
  assert.match(empty.hint, /^restore ocm\.yaml from your own copy, or confirm with `ocm up --yes`/);
});

test('up may remove one user\'s container on its own; more need --yes', () => {
  const wording = { file: 'ocm.yaml', backup: 'ocm.yaml.bak' };
  assertRemovalsConfirmed([], false, wording);
  assertRemovalsConfirmed(['bob'], false, wording);
  assertRemovalsConfirmed(['bob', 'carol'], true, wording);
  assert.throws(() => assertRemovalsConfirmed(['bob', 'carol'], false, wording), (error: unknown) => {
    assert.ok(error instanceof OcmError);
    assert.equal(error.code, 'OCM_E_CONFIRM_REQUIRED');
    assert.equal(error.message, 'ocm up would remove the containers of 2 users no longer in ocm.yaml (bob, carol)');
    assert.match(error.hint, /cp ocm\.yaml\.bak ocm\.yaml.*ocm up --yes/);
    return true;
  });
});
