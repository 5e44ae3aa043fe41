// A swarm manifest plans the same users as services: the stack's names, an
// attachable overlay whose proxy address is the relay's, a node pin, and a
// spec hash that leaves one-host users exactly as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseNode, containerName, networkName, nodeHeadroom, parseManifest, planDeployment, type PlacementNode } from '@ocm/core';

const swarm = parseManifest('settings:\n  engine: swarm\n  project: fam\nusers:\n  - {name: alice, port: 18800, node: n1}\n  - {name: bob, port: 18801}\n');
const host = parseManifest('settings:\n  project: fam\nusers:\n  - {name: alice, port: 18800}\n  - {name: bob, port: 18801}\n');
const plan = (m: typeof swarm) => planDeployment(m, { root: '/opt/ocm', envFiles: new Map() });

test('swarm users are named as `docker stack deploy -c docker-compose.yml <project>` names them', () => {
  assert.equal(containerName(swarm, 'alice'), 'fam_alice');
  assert.equal(containerName(host, 'alice'), 'fam-alice');
  assert.equal(networkName(swarm, 'alice'), 'fam-alice', 'networks keep their name on either engine');
});

test('a swarm user gets an attachable overlay; the gateway trusts her relay, the subnet\'s last address', () => {
  const [alice, bob] = plan(swarm).users;
  assert.deepEqual(alice?.network, {
    name: 'fam-alice', subnet: '10.231.0.0/28', gateway: '10.231.0.14', driver: 'overlay',
    labels: { 'ocm.managed': '1', 'ocm.user': 'alice', 'ocm.root': '/opt/ocm', 'com.docker.stack.namespace': 'fam' },
  });
  assert.equal(bob?.network.gateway, '10.231.0.30');
  assert.equal(alice?.container.node, 'n1');
  assert.equal(bob?.container.node, undefined, 'no node recorded: no pin');
  assert.equal(alice?.container.labels['com.docker.stack.namespace'], 'fam');
  assert.ok(!Object.keys(alice?.container.labels ?? {}).some((k) => k.startsWith('com.docker.compose.')), 'no compose labels on a service');
  assert.equal(alice?.container.healthcheck.intervalSeconds, 10, 'swarm DNS names a task once healthy: check soon');
});

test('one-host plans are untouched by the swarm fields', () => {
  const [alice] = plan(host).users;
  assert.equal(alice?.network.driver, undefined);
  assert.equal(alice?.network.gateway, '10.231.0.1');
  assert.equal(alice?.container.node, undefined);
  assert.equal(alice?.container.healthcheck.intervalSeconds, 30);
  assert.equal(alice?.specHash, plan(parseManifest('settings:\n  project: fam\nusers:\n  - {name: alice, port: 18800}\n')).users[0]?.specHash);
});

test('moving a swarm user to another node changes her spec hash, and only hers', () => {
  const moved = parseManifest('settings:\n  engine: swarm\n  project: fam\nusers:\n  - {name: alice, port: 18800, node: n2}\n  - {name: bob, port: 18801}\n');
  const [a1, b1] = plan(swarm).users;
  const [a2, b2] = plan(moved).users;
  assert.notEqual(a1?.specHash, a2?.specHash);
  assert.equal(b1?.specHash, b2?.specHash);
});

const nodes: PlacementNode[] = [
  { hostname: 'n1', state: 'ready', availability: 'active', memoryBytes: 16 * 2 ** 30, self: true },
  { hostname: 'n2', state: 'ready', availability: 'active', memoryBytes: 8 * 2 ** 30 },
  { hostname: 'n3', state: 'down', availability: 'active', memoryBytes: 64 * 2 ** 30 },
  { hostname: 'n4', state: 'ready', availability: 'drain', memoryBytes: 64 * 2 ** 30 },
];
const shared = (users: string) => parseManifest(`settings:\n  engine: swarm\n  swarm:\n    sharedState: true\nusers:\n${users}`);
const own = (users: string) => parseManifest(`settings:\n  engine: swarm\nusers:\n${users}`);

test('with shared state, a new user goes to the ready, active node with the most memory left after the limits placed there', () => {
  assert.equal(chooseNode(shared('  []\n'), nodes), 'n1');
  // n1 holds 5 x 2g = 10g of limits: 6g left against n2's 8g.
  const five = [0, 1, 2, 3, 4].map((i) => `  - {name: u${i}, port: ${18800 + i}, node: n1}\n`).join('');
  assert.equal(chooseNode(shared(five), nodes), 'n2');
  assert.equal(nodeHeadroom(shared(five), nodes).get('n1'), 6 * 2 ** 30);
  assert.equal(chooseNode(shared('  []\n'), nodes, 'n2'), 'n2', 'the node asked for');
  assert.throws(() => chooseNode(shared('  []\n'), nodes, 'n9'), { code: 'OCM_E_NODE_UNKNOWN', message: /"n9" is not a node of this swarm \(nodes: n1, n2, n3, n4\)/ });
  assert.throws(() => chooseNode(shared('  []\n'), nodes, 'n3'), { code: 'OCM_E_NODE_UNKNOWN', message: /is down and active/ });
  assert.throws(() => chooseNode(shared('  []\n'), nodes, 'n4'), { code: 'OCM_E_NODE_UNKNOWN', message: /is ready and drain/ });
  assert.throws(() => chooseNode(shared('  []\n'), [nodes[2] as PlacementNode]), { code: 'OCM_E_NODE_UNKNOWN' });
});

test('without shared state, users stay on this manager, where ocm keeps their state', () => {
  const five = [0, 1, 2, 3, 4].map((i) => `  - {name: u${i}, port: ${18800 + i}, node: n1}\n`).join('');
  assert.equal(chooseNode(own(five), nodes), 'n1', 'roomier n2 cannot hold her state');
  assert.throws(() => chooseNode(own('  []\n'), nodes, 'n2'), (e: Error & { code?: string; hint?: string }) => e.code === 'OCM_E_NODE_UNKNOWN' && /settings\.swarm\.sharedState: true/.test(e.hint ?? ''));
  assert.throws(() => chooseNode(own('  []\n'), nodes.slice(1)), { code: 'OCM_E_NODE_UNKNOWN', message: /no ready, active node that can hold/ });
  assert.throws(() => parseManifest('settings:\n  swarm:\n    sharedState: true\n'), { message: /settings\.swarm: only applies with settings\.engine: swarm/ });
});
