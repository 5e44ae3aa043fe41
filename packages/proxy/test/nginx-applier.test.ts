import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isOcmError } from '@ocm/core';
import { createNginxControl, MANAGED_MARKER, NginxApplier, type NginxControl } from '@ocm/proxy';
import { httpGet, openWs } from './clients.js';
import { startFakeGateway, type FakeGateway } from './fake-gateway.js';
import { freePort, startNginx, type RunningNginx } from './start-nginx.js';

/** A server block like the ones the core renders (marker first, 11 lines). */
function serverBlock(name: string, listenPort: number, upstreamPort: number, extra = ''): string {
  return `${MANAGED_MARKER}
server {
  listen 127.0.0.1:${listenPort};
  server_name ${name}.example.test;
  location / {
    proxy_pass http://127.0.0.1:${upstreamPort};
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_http_version 1.1;
    proxy_read_timeout 3600s;${extra}
  }
}
`;
}

/** Counts calls while passing them to the real nginx control. */
function counting(control: NginxControl): NginxControl & { tests: number; reloads: number } {
  const counted = {
    tests: 0,
    reloads: 0,
    test: async () => {
      counted.tests++;
      await control.test();
    },
    reload: async () => {
      counted.reloads++;
      await control.reload();
    },
  };
  return counted;
}

async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) files.set(name, await readFile(join(dir, name)));
  return files;
}

describe('NginxApplier against a real nginx', () => {
  let dir: string;
  let nginx: RunningNginx;
  let alice: FakeGateway;
  let bob: FakeGateway;
  let control: ReturnType<typeof counting>;
  let applier: NginxApplier;
  let good: Map<string, string>;

  /**
   * nginx reloads asynchronously, and for a moment an old worker may still
   * accept: poll until a host gives the expected answer three times running.
   */
  async function whoAnswers(host: string, want: string | number): Promise<string | number> {
    const deadline = Date.now() + 5_000;
    let last: string | number = '';
    let streak = 0;
    while (Date.now() < deadline) {
      const answer = await httpGet(nginx.port, host);
      last = answer.status === 200 ? (JSON.parse(answer.body) as { who: string }).who : answer.status;
      streak = last === want ? streak + 1 : 0;
      if (streak === 3) return last;
      await sleep(50);
    }
    return last;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocm-nginx-'));
    alice = await startFakeGateway('alice');
    bob = await startFakeGateway('bob');
    nginx = await startNginx(dir, { port: await freePort() });
    control = counting(createNginxControl({ configPath: nginx.configPath }));
    applier = new NginxApplier({ confDir: nginx.confDir, control });
    good = new Map([
      ['alice.conf', serverBlock('alice', nginx.port, alice.port)],
      ['bob.conf', serverBlock('bob', nginx.port, bob.port)],
    ]);
  });

  beforeEach(() => {
    control.tests = 0;
    control.reloads = 0;
  });

  after(async () => {
    await nginx?.stop();
    await alice?.close();
    await bob?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes good files, reloads, and nginx forwards with the right headers', async () => {
    const result = await applier.apply(good);
    assert.deepEqual(result, { written: ['alice.conf', 'bob.conf'], removed: [], reloaded: true });
    assert.equal(control.reloads, 1);
    assert.equal(await whoAnswers('alice.example.test', 'alice'), 'alice');
    assert.equal(await whoAnswers('bob.example.test', 'bob'), 'bob');
    const seen = JSON.parse(
      (await httpGet(nginx.port, 'alice.example.test', '/', { 'x-forwarded-for': '1.2.3.4' })).body,
    ) as { headers: Record<string, string> };
    assert.equal(seen.headers.host, 'alice.example.test');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    const socket = await openWs(`ws://127.0.0.1:${nginx.port}/`, 'alice.example.test');
    assert.equal(socket.hello.who, 'alice');
    assert.equal(await socket.echo('via nginx'), 'alice:via nginx');
    socket.ws.close();
    await socket.closed;
  });

  it('leaves everything alone when nothing changed', async () => {
    assert.deepEqual(await applier.apply(good), { written: [], removed: [], reloaded: false });
    assert.equal(control.tests + control.reloads, 0);
  });

  it('refuses a broken file: names file and line, restores every byte, nginx keeps serving', async () => {
    await applier.apply(good);
    const before = await snapshot(nginx.confDir);
    const broken = new Map([
      // Line 13 of bob.conf: a typo in a directive name.
      ['bob.conf', serverBlock('bob', nginx.port, bob.port, '\n    proxy_pass_typo on;')],
      ['carol.conf', serverBlock('carol', nginx.port, bob.port)],
    ]);
    await assert.rejects(applier.apply(broken), (err: unknown) => {
      assert.ok(isOcmError(err));
      assert.equal(err.code, 'OCM_E_NGINX_INVALID');
      assert.match(err.message, /^nginx rejected bob\.conf:13: unknown directive "proxy_pass_typo"/);
      assert.equal(err.details.line, 13);
      return true;
    });
    assert.deepEqual(await snapshot(nginx.confDir), before, 'conf dir is byte-identical, carol.conf gone, alice.conf back');
    assert.equal(control.reloads, 0);
    assert.equal(await whoAnswers('alice.example.test', 'alice'), 'alice');
    assert.equal(await whoAnswers('bob.example.test', 'bob'), 'bob');
  });

  it('coalesces concurrent apply() calls into one test and reload, latest state wins', async () => {
    const onlyAlice = new Map([['alice.conf', good.get('alice.conf') ?? '']]);
    const [first, second] = await Promise.all([applier.apply(good), applier.apply(onlyAlice)]);
    assert.deepEqual(first, second);
    assert.deepEqual(second, { written: [], removed: ['bob.conf'], reloaded: true });
    assert.equal(control.tests, 1);
    assert.equal(control.reloads, 1);
    assert.equal(await whoAnswers('bob.example.test', 404), 404);
    assert.equal(await whoAnswers('alice.example.test', 'alice'), 'alice');
  });

  it('adds the marker when a renderer left it out', async () => {
    const plain = (good.get('bob.conf') ?? '').replace(`${MANAGED_MARKER}\n`, '');
    await applier.apply(new Map([...good, ['bob.conf', plain]]));
    const onDisk = await readFile(join(nginx.confDir, 'bob.conf'), 'utf8');
    assert.equal(onDisk, `${MANAGED_MARKER}\n${plain}`);
    assert.equal(await whoAnswers('bob.example.test', 'bob'), 'bob');
  });

  it('never deletes or overwrites a file it did not write', async () => {
    const foreign = '# the admin\'s own file\n';
    await writeFile(join(nginx.confDir, 'admin.conf'), foreign);
    await applier.apply(new Map());
    assert.equal(await readFile(join(nginx.confDir, 'admin.conf'), 'utf8'), foreign);
    assert.deepEqual((await readdir(nginx.confDir)).sort(), ['admin.conf']);
    await assert.rejects(applier.apply(new Map([['admin.conf', serverBlock('admin', nginx.port, alice.port)]])), (err: unknown) => {
      assert.ok(isOcmError(err));
      assert.equal(err.code, 'OCM_E_NOT_OURS');
      return true;
    });
    assert.equal(await readFile(join(nginx.confDir, 'admin.conf'), 'utf8'), foreign);
  });

  it('refuses file names that are not <name>.conf', async () => {
    for (const name of ['../escape.conf', 'alice', 'sub/alice.conf', '.hidden.conf']) {
      await assert.rejects(applier.apply(new Map([[name, '']])), (err: unknown) => isOcmError(err), name);
    }
  });

  it('restores the files when nginx is not running to reload them', async () => {
    const otherDir = join(dir, 'not-running');
    const stopped = await startNginx(otherDir, { port: await freePort() });
    await stopped.stop();
    const lonely = new NginxApplier({ confDir: stopped.confDir, control: createNginxControl({ configPath: stopped.configPath }) });
    await assert.rejects(lonely.apply(good), (err: unknown) => {
      assert.ok(isOcmError(err));
      assert.equal(err.code, 'OCM_E_NGINX_INVALID');
      assert.match(err.message, /reload failed/);
      assert.match(err.hint, /running/);
      return true;
    });
    assert.deepEqual(await readdir(stopped.confDir), []);
  });

  it('reports a missing nginx binary as OCM_E_NGINX_MISSING', async () => {
    const missing = createNginxControl({ binary: join(dir, 'no-such-nginx'), configPath: nginx.configPath });
    await assert.rejects(missing.test(), (err: unknown) => isOcmError(err) && err.code === 'OCM_E_NGINX_MISSING');
  });
});
