// Group membership as a user moves between roots: she joins a group of the
// same name when the target has one, and leaves every group when taken out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkManifestRules, groupOf, joinGroup, leaveGroups, validateManifest } from '@ocm/core';

const provider = { api: 'openai-completions', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-admin', models: ['gpt-5'] };
const manifest = validateManifest({
  settings: { models: { providers: { openai: provider }, groups: { family: { daily: 5, members: ['bob'] }, team: { monthly: 50, members: ['carol'] } } } },
  users: [{ name: 'alice', port: 18800 }, { name: 'bob', port: 18801 }, { name: 'carol', port: 18802 }],
});

test('groupOf names the group a user is in, or none', () => {
  assert.equal(groupOf(manifest, 'bob'), 'family');
  assert.equal(groupOf(manifest, 'alice'), undefined);
  assert.equal(groupOf(validateManifest({ users: [{ name: 'alice', port: 18800 }] }), 'alice'), undefined, 'no models, no group');
});

test('joinGroup adds her to an existing group only, leaving the input as it was', () => {
  const joined = joinGroup(manifest, 'alice', 'family');
  assert.ok(joined !== undefined);
  assert.deepEqual(joined.settings.models?.groups.family, { daily: 5, members: ['bob', 'alice'] });
  assert.deepEqual(joined.settings.models?.groups.team, manifest.settings.models?.groups.team);
  checkManifestRules(joined);
  assert.deepEqual(manifest.settings.models?.groups.family?.members, ['bob']);
  assert.equal(joinGroup(manifest, 'alice', 'friends'), undefined, 'no such group here');
  assert.equal(joinGroup(manifest, 'alice', 'constructor'), undefined, 'only own keys count as groups');
  assert.equal(joinGroup(validateManifest({ users: [{ name: 'alice', port: 18800 }] }), 'alice', 'family'), undefined, 'no models at all');
  assert.equal(joinGroup(manifest, 'bob', 'family'), manifest, 'already a member: unchanged');
});

test('leaveGroups takes her out of the members and keeps the groups', () => {
  const joined = joinGroup(manifest, 'alice', 'family') as typeof manifest;
  const left = leaveGroups(joined, 'alice');
  assert.deepEqual(left.settings.models?.groups, manifest.settings.models?.groups);
  assert.equal(leaveGroups(manifest, 'alice'), manifest, 'in no group: unchanged');
});
