// The admin API's front door, through inject(): every route from fastify's
// own route table refuses a missing or wrong token, bodies that do not match
// the schema name the field, wrong tokens are rate limited per address, and
// the status page's session works only with its CSRF token and origin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminRoutes } from '@ocm/daemon';
import { adminApp } from './support/app.js';
import { makeRoot } from './support/root.js';

let address = 0;
/** A fresh client address per request, so the failure limit does not mask a 401. */
const nextIp = (): string => `10.77.${Math.floor(++address / 250)}.${(address % 250) + 1}`;

const concrete = (url: string): string => url.replace(':name', 'alice').replace(':id', 'b-1-abc');

test('the admin listener\'s front door', async (t) => {
  const { root } = await makeRoot(t);

  await t.test('every route but the login page refuses a missing or wrong admin token', async (t) => {
    const { app, token, logs } = await adminApp(root);
    const routes = adminRoutes(app);
    const guarded = routes.filter((r) => r.access !== 'public');
    assert.deepEqual(routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`).sort(), ['GET /', 'HEAD /', 'POST /login']);
    assert.ok(guarded.length >= 20, `only ${guarded.length} guarded routes`);
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: `Bearer ${token}x` },
      { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` },
      { cookie: 'ocm_session=forged' },
    ];
    for (const route of [...guarded, { method: 'GET', url: '/api/no-such-route' }, { method: 'DELETE', url: '/nothing' }]) {
      for (const headers of attempts) {
        const r = await app.inject({ method: route.method as 'GET', url: concrete(route.url), headers, remoteAddress: nextIp() });
        assert.equal(r.statusCode, 401, `${route.method} ${route.url} with ${JSON.stringify(Object.keys(headers))}: ${r.body}`);
        if (route.method !== 'HEAD') {
          const body = r.json<{ code: string; message: string; hint: string }>();
          assert.equal(body.code, 'OCM_E_AUTH_REQUIRED');
          assert.ok(body.message.length > 0 && body.hint.length > 0);
        }
      }
    }
    t.diagnostic(`${guarded.length} guarded routes x ${attempts.length} attempts refused`);
    assert.ok(!logs.join('').includes(token), 'the admin token reached the log');
    await app.close();
  });

  await t.test('a body that does not match the schema is refused with the field named', async () => {
    const { app, token } = await adminApp(root);
    const call = async (method: string, url: string, payload?: unknown, contentType = 'application/json') => {
      const r = await app.inject({
        method: method as 'POST', url, remoteAddress: nextIp(),
        headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': contentType }) },
        ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
      return { status: r.statusCode, body: r.json<{ code: string; message: string; hint: string; details?: { field?: string } }>() };
    };
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/api/users', undefined, 'body.name is required'],
      ['POST', '/api/users', {}, 'body.name is required'],
      ['POST', '/api/users', { name: 'x', colour: 'red' }, 'body.colour is not a known field'],
      ['POST', '/api/users', { name: 'x', cpus: true }, 'body.cpus must be number or string'],
      ['POST', '/api/users', { name: 'x', env: { KEY: 1 } }, 'body.env.KEY must be string'],
      ['POST', '/api/users', { name: 'x', start: 'yes' }, 'body.start must be boolean'],
      ['POST', '/api/users', { name: 42 }, 'body.name must be string'],
      ['PATCH', '/api/users/alice', {}, 'body needs at least one field'],
      ['PATCH', '/api/users/alice', { enabled: 'false' }, 'body.enabled must be boolean'],
      ['PATCH', '/api/users/alice', { unsetEnv: 'KEY' }, 'body.unsetEnv must be array'],
      ['POST', '/api/backups', { names: 'alice' }, 'body.names must be array'],
      ['GET', '/api/users/alice/logs?tail=lots', undefined, 'querystring.tail must match pattern "^[0-9]{1,5}$"'],
      ['DELETE', '/api/users/alice?purge=yes', undefined, 'querystring.purge must be one of "true", "false"'],
    ];
    for (const [method, url, payload, message] of cases) {
      const r = await call(method, url, payload);
      assert.equal(r.status, 400, `${method} ${url} ${JSON.stringify(payload)}`);
      assert.equal(r.body.code, 'OCM_E_USAGE');
      assert.equal(r.body.message, message);
      assert.ok(r.body.hint.length > 0);
    }
    const json = await call('POST', '/api/users', '{"name": ', 'application/json');
    assert.equal(json.status, 400);
    assert.match(json.body.message, /not valid JSON/);
    // Values the schema lets through are judged by ops, with the bad value quoted.
    const size = await call('POST', '/api/users', { name: 'erin', memory: '2 gigs', start: false });
    assert.equal(size.status, 400);
    assert.equal(size.body.code, 'OCM_E_SIZE_INVALID');
    assert.match(size.body.message, /2 gigs/);
    const name = await call('POST', '/api/users', { name: 'Bad_Name', start: false });
    assert.equal(name.body.code, 'OCM_E_NAME_INVALID');
    const unknown = await call('GET', '/api/users/nobody');
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'OCM_E_USER_UNKNOWN']);
    // Requests fastify refuses before routing get the same shape, with fastify's status.
    const badUrl = await call('GET', '/api/users/%');
    assert.deepEqual([badUrl.status, badUrl.body.code, badUrl.body.message], [400, 'OCM_E_USAGE', 'request refused: the URL is not valid percent-encoding']);
    const long = await call('GET', `/api/users/${'a'.repeat(5000)}`);
    assert.deepEqual([long.status, long.body.code, long.body.message], [414, 'OCM_E_USAGE', 'request refused: a path segment is too long']);
    assert.ok(badUrl.body.hint.length > 0 && long.body.hint.length > 0);
    await app.close();
  });

  await t.test('wrong tokens are rate limited per client address', async () => {
    let now = Date.now();
    const { app, token } = await adminApp(root, { now: () => now });
    const get = (ip: string, auth: string) => app.inject({ method: 'GET', url: '/api/users', remoteAddress: ip, headers: { authorization: `Bearer ${auth}` } });
    for (let i = 0; i < 10; i++) assert.equal((await get('10.1.1.1', `guess-${i}`)).statusCode, 401);
    const limited = await get('10.1.1.1', 'guess-10');
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json<{ code: string }>().code, 'OCM_E_RATE_LIMITED');
    assert.equal(limited.headers['retry-after'], '60');
    // Blocked means blocked: even the right token waits, so guesses cannot continue.
    assert.equal((await get('10.1.1.1', token)).statusCode, 429);
    assert.equal((await get('10.1.1.2', token)).statusCode, 200);
    // The login form counts and is limited the same way.
    const login = await app.inject({ method: 'POST', url: '/login', remoteAddress: '10.1.1.1', payload: `token=${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(login.statusCode, 429);
    now += 61_000;
    assert.equal((await get('10.1.1.1', token)).statusCode, 200);
    await app.close();
  });

  await t.test('the status page session: login, CSRF token, origin check, logout', async () => {
    const { app, token } = await adminApp(root);
    const form = (body: string, headers: Record<string, string> = {}) => ({ 'content-type': 'application/x-www-form-urlencoded', ...headers, body });
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post" action="\/login">/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    assert.ok(!page.body.includes(token));

    const wrong = await app.inject({ method: 'POST', url: '/login', remoteAddress: nextIp(), payload: 'token=nope', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /That is not the admin token/);
    assert.equal(wrong.headers['set-cookie'], undefined);

    const { body: loginBody, ...loginHeaders } = form(`token=${encodeURIComponent(token)}`, { origin: 'http://127.0.0.1:7070', host: '127.0.0.1:7070' });
    const login = await app.inject({ method: 'POST', url: '/login', payload: loginBody, headers: loginHeaders });
    assert.equal(login.statusCode, 303);
    assert.equal(login.headers.location, '/');
    const cookie = String(login.headers['set-cookie']);
    assert.match(cookie, /^ocm_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    const session = cookie.split(';')[0] as string;

    const status = await app.inject({ method: 'GET', url: '/', headers: { cookie: session } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(status.body)?.[1];
    assert.ok(csrf !== undefined, 'the status page carries its CSRF token');
    assert.match(status.body, /<table>/);

    // A session may read status, never use token-only routes.
    assert.equal((await app.inject({ method: 'GET', url: '/api/users', headers: { cookie: session } })).statusCode, 401);
    const own = { cookie: session, host: '127.0.0.1:7070' };
    const noCsrf = await app.inject({ method: 'POST', url: '/api/users/alice/restart', headers: { ...own, origin: 'http://127.0.0.1:7070' } });
    assert.equal(noCsrf.statusCode, 403);
    assert.match(noCsrf.json<{ message: string }>().message, /CSRF token/);
    const crossSite = await app.inject({ method: 'POST', url: '/api/users/alice/restart', headers: { ...own, origin: 'http://evil.example', 'x-csrf-token': csrf } });
    assert.match(crossSite.json<{ message: string }>().message, /"http:\/\/evil\.example" are refused/);
    const fetchSite = await app.inject({ method: 'POST', url: '/api/users/alice/restart', headers: { ...own, 'sec-fetch-site': 'cross-site', 'x-csrf-token': csrf } });
    assert.equal(fetchSite.statusCode, 403);
    // With both, the request reaches ops (alice does not exist in this root).
    const good = await app.inject({ method: 'POST', url: '/api/users/alice/restart', headers: { ...own, origin: 'http://127.0.0.1:7070', 'x-csrf-token': csrf } });
    assert.equal(good.json<{ code: string }>().code, 'OCM_E_USER_UNKNOWN');

    const logout = await app.inject({ method: 'POST', url: '/logout', payload: `_csrf=${encodeURIComponent(csrf)}`, headers: { ...own, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(logout.statusCode, 303);
    assert.match(String(logout.headers['set-cookie']), /Max-Age=0/);
    assert.equal((await app.inject({ method: 'GET', url: '/api/status', headers: { cookie: session } })).statusCode, 401);
    await app.close();
  });
});
