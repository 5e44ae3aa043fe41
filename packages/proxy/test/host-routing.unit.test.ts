import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOcmError } from '@ocm/core';
import { lookupRoute, parseHostHeader, StaticRouteTable, type Route } from '@ocm/proxy';

const route = (user: string, port: number, state: Route['state'] = 'up'): Route => ({ user, port, upstreamHost: '127.0.0.1', state });

describe('parseHostHeader', () => {
  const cases: Array<[string | undefined, string | undefined]> = [
    ['alice.localhost', 'alice.localhost'],
    ['Alice.LocalHost:8080', 'alice.localhost'],
    ['alice.localhost.', 'alice.localhost'],
    ['alice.localhost.:443', 'alice.localhost'],
    ['127.0.0.1:80', '127.0.0.1'],
    [undefined, undefined],
    ['', undefined],
    ['alice.localhost:', undefined],
    ['alice.localhost:123456', undefined],
    ['alice.localhost:80:80', undefined],
    ['alice..localhost', undefined],
    ['.alice.localhost', undefined],
    ['alice.localhost..', undefined],
    ['-alice.localhost', undefined],
    ['alice_1.localhost', undefined],
    ['alice.localhost@bob.localhost', undefined],
    ['alice.localhost\\bob', undefined],
    ['ålice.localhost', undefined],
    ['[::1]:8080', undefined],
    [`${'a'.repeat(64)}.localhost`, undefined],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => assert.equal(parseHostHeader(input), expected));
  }
});

describe('StaticRouteTable and lookupRoute', () => {
  it('resolves hosts and reports their state', () => {
    const table = new StaticRouteTable([
      ['alice.localhost', route('alice', 20001)],
      ['Bob.Localhost', route('bob', 20002, 'down')],
    ]);
    assert.deepEqual(lookupRoute(table, 'ALICE.localhost:80'), { kind: 'up', host: 'alice.localhost', route: route('alice', 20001) });
    assert.equal(lookupRoute(table, 'bob.localhost').kind, 'down');
    assert.deepEqual(lookupRoute(table, 'carol.localhost'), { kind: 'unknown', host: 'carol.localhost' });
    assert.deepEqual(lookupRoute(table, 'alice localhost'), { kind: 'bad-host' });
  });

  it('replaces the whole table at once and copies the routes it is given', () => {
    const alice = route('alice', 20001);
    const table = new StaticRouteTable([['alice.localhost', alice]]);
    alice.port = 20002;
    assert.equal(table.resolve('alice.localhost')?.port, 20001);
    table.set([['bob.localhost', route('bob', 20002)]]);
    assert.equal(table.resolve('alice.localhost'), undefined);
    assert.equal(table.size, 1);
  });

  it('refuses tables that could send one user to another user\'s port', () => {
    const attempts: Array<Array<[string, Route]>> = [
      [['alice.localhost', route('alice', 20001)], ['bob.localhost', route('bob', 20001)]],
      [['alice.localhost', route('alice', 20001)], ['ALICE.localhost', route('alice', 20001)]],
      [['alice.localhost', { ...route('alice', 20001), upstreamHost: '10.0.0.1' as '127.0.0.1' }]],
      [['alice.localhost', route('alice', 0)]],
      [['alice.localhost:80', route('alice', 20001)]],
    ];
    const table = new StaticRouteTable([['alice.localhost', route('alice', 20001)]]);
    for (const attempt of attempts) {
      assert.throws(() => table.set(attempt), (err: unknown) => isOcmError(err), JSON.stringify(attempt));
    }
    assert.equal(table.resolve('alice.localhost')?.port, 20001, 'a refused table leaves the old one in place');
  });

  it('never forwards to a non-loopback route from a custom source', () => {
    const rogue = { resolve: () => ({ ...route('alice', 80), upstreamHost: '192.0.2.1' as '127.0.0.1' }) };
    assert.equal(lookupRoute(rogue, 'alice.localhost').kind, 'unknown');
  });
});
