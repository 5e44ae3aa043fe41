// What doctor says of a swarm user's pin, for each way it can be wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest, type PlacementNode } from '@ocm/core';
import { nodeFinding } from '@ocm/ops/placement';

const nodes: PlacementNode[] = [
  { hostname: 'mgr', state: 'ready', availability: 'active', memoryBytes: 2 ** 34, self: true },
  { hostname: 'w1', state: 'ready', availability: 'active', memoryBytes: 2 ** 34 },
  { hostname: 'w2', state: 'down', availability: 'active', memoryBytes: 2 ** 34 },
];
const own = parseManifest('settings:\n  engine: swarm\n');
const shared = parseManifest('settings:\n  engine: swarm\n  swarm:\n    sharedState: true\n');

test('a pin is fine on a ready node that can hold her state', () => {
  assert.deepEqual(nodeFinding(own, nodes, 'alice', 'mgr'), { ok: true, detail: 'pinned to mgr (ready)' });
  assert.equal(nodeFinding(shared, nodes, 'alice', 'w1').ok, true);
});

test('every other pin fails with a fix that names the way back', () => {
  const cases: Array<[typeof own, string | undefined, RegExp, RegExp]> = [
    [own, undefined, /pinned to no node/, /ocm move alice --to mgr/],
    [own, 'gone', /gone, which is not a node of this swarm/, /ocm move alice --to <node>/],
    [own, 'w1', /ocm keeps users' state on this manager \(mgr\)/, /settings\.swarm\.sharedState: true/],
    [shared, 'w2', /w2, which is down and active/, /ocm move alice --to <node>/],
  ];
  for (const [manifest, node, detail, fix] of cases) {
    const finding = nodeFinding(manifest, nodes, 'alice', node);
    assert.equal(finding.ok, false, String(node));
    assert.match(finding.detail, detail);
    assert.match(finding.fix ?? '', fix);
  }
});
