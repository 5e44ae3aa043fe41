// The deployment root's tree, built in one place, and the one marker of the files ocm owns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MANAGED_MARKER, MANIFEST_FILE, isManagedContent, planDeployment, rootLayout, validateManifest } from '@ocm/core';

test('rootLayout names every path of the tree, and the plan mounts the same ones', () => {
  const layout = rootLayout('/opt/ocm');
  assert.deepEqual({ ...layout, user: undefined, acmeHost: undefined }, {
    acme: '/opt/ocm/tls/acme', acmeHost: undefined,
    acmePlaceholder: { cert: '/opt/ocm/tls/acme/placeholder/fullchain.pem', key: '/opt/ocm/tls/acme/placeholder/key.pem' },
    root: '/opt/ocm', manifest: '/opt/ocm/ocm.yaml', manifestBackup: '/opt/ocm/ocm.yaml.bak', knownUsers: '/opt/ocm/ocm.yaml.users',
    adminToken: '/opt/ocm/admin.token', meterSecret: '/opt/ocm/meter.secret', meterKeys: '/opt/ocm/meter.keys', trash: '/opt/ocm/.trash', compose: '/opt/ocm/docker-compose.yml', audit: '/opt/ocm/audit.log',
    users: '/opt/ocm/users', backups: '/opt/ocm/backups', nginx: '/opt/ocm/nginx', user: undefined,
  });
  assert.deepEqual(layout.acmeHost('alice.your-ai.com'), { cert: '/opt/ocm/tls/acme/certs/alice.your-ai.com/fullchain.pem', key: '/opt/ocm/tls/acme/certs/alice.your-ai.com/key.pem' });
  const alice = layout.user('alice');
  assert.deepEqual(alice, { dir: '/opt/ocm/users/alice', env: '/opt/ocm/users/alice/env', state: '/opt/ocm/users/alice/state', config: '/opt/ocm/users/alice/config', backups: '/opt/ocm/backups/alice' });
  assert.equal(layout.manifestBackup, `${layout.manifest}.bak`, 'spelled out, but the manifest\'s neighbour');
  assert.equal(MANIFEST_FILE, 'ocm.yaml');
  assert.equal(rootLayout('/opt/ocm', { nginxConfDir: '/etc/nginx/ocm' }).nginx, '/etc/nginx/ocm');

  const manifest = validateManifest({ users: [{ name: 'alice', port: 18800 }] });
  const [user] = planDeployment(manifest, { root: '/opt/ocm', envFiles: new Map() }).users;
  assert.equal(user?.container.envFile, alice.env);
  assert.deepEqual(user?.container.mounts.map((m) => m.source), [alice.state, alice.config]);
});

test('one managed-file marker: the marker line alone or with a description, nothing that only looks like it', () => {
  assert.equal(isManagedContent(`${MANAGED_MARKER}\nserver {}\n`), true);
  assert.equal(isManagedContent(`${MANAGED_MARKER}: alice's gateway\n`), true);
  assert.equal(isManagedContent(MANAGED_MARKER), true);
  assert.equal(isManagedContent(Buffer.from(`${MANAGED_MARKER} by hand\n`)), true);
  assert.equal(isManagedContent(`${MANAGED_MARKER}-not\n`), false);
  assert.equal(isManagedContent(`${MANAGED_MARKER}x: mine\n`), false);
  assert.equal(isManagedContent(` ${MANAGED_MARKER}\n`), false);
  assert.equal(isManagedContent('server { listen 80; }\n'), false);
  assert.equal(isManagedContent(''), false);
});
