// A failed order is told to the admin as what to fix, with the CA's own line after it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeAcmeFailure } from '@ocm/acme';

test('DNS and port-80 failures say what to fix; anything else is the CA\'s first line', () => {
  const host = 'ghost.your-ai.com';
  for (const said of [
    'Get "http://ghost.your-ai.com:80/.well-known/acme-challenge/x": could not resolve URL "http://ghost.your-ai.com:80/.well-known/acme-challenge/x"',
    'DNS problem: NXDOMAIN looking up A for ghost.your-ai.com - check that a DNS record exists for this domain',
    'DNS problem: SERVFAIL looking up CAA for your-ai.com - the domain\'s nameservers may be malfunctioning',
    'No valid IP addresses found for ghost.your-ai.com; no valid A records',
  ]) {
    assert.equal(describeAcmeFailure(host, said), `certificate for ${host}: the CA cannot resolve ${host}; give it an A (or AAAA) record pointing at this server (the CA said: ${said})`);
  }
  for (const said of [
    '203.0.113.7: Fetching http://ghost.your-ai.com/.well-known/acme-challenge/x: Timeout during connect (likely firewall problem)',
    '203.0.113.7: Fetching http://ghost.your-ai.com/.well-known/acme-challenge/x: Connection refused',
  ]) {
    assert.match(describeAcmeFailure(host, said), /^certificate for ghost\.your-ai\.com: the CA cannot reach ghost\.your-ai\.com on port 80; open port 80 to the proxy's HTTP listener \(the CA said: /);
  }
  assert.equal(describeAcmeFailure(host, 'the ACME directory "https://127.0.0.1:9/dir" cannot be reached (ECONNREFUSED)\nmore'), `certificate for ${host}: the ACME directory "https://127.0.0.1:9/dir" cannot be reached (ECONNREFUSED)`);
  assert.equal(describeAcmeFailure(host, 'Rate limit exceeded'), `certificate for ${host}: Rate limit exceeded`);
});
