import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNginxError } from '@ocm/proxy';

describe('parseNginxError', () => {
  it('reads the early "nginx: [emerg]" form', () => {
    const stderr = [
      'nginx: [emerg] unexpected "}" in /etc/nginx/ocm/alice.conf:12',
      'nginx: configuration file /etc/nginx/nginx.conf test failed',
    ].join('\n');
    assert.deepEqual(parseNginxError(stderr), { reason: 'unexpected "}"', file: '/etc/nginx/ocm/alice.conf', line: 12 });
  });

  it('reads the logged form with time and pid', () => {
    const stderr = '2026/01/02 03:04:05 [emerg] 8836#8836: unknown directive "proxy_pass_typo" in /tmp/x/conf.d/bob.conf:13\n';
    assert.deepEqual(parseNginxError(stderr), {
      reason: 'unknown directive "proxy_pass_typo"',
      file: '/tmp/x/conf.d/bob.conf',
      line: 13,
    });
  });

  it('prefers the located cause over an earlier warning about the default log', () => {
    const stderr = [
      'nginx: [alert] could not open error log file: open() "/var/log/nginx/error.log" failed (13: Permission denied)',
      '2026/01/02 03:04:05 [emerg] 7#7: unexpected end of file, expecting "}" in /srv/ocm/nginx/alice.conf:9',
    ].join('\n');
    assert.deepEqual(parseNginxError(stderr), {
      reason: 'unexpected end of file, expecting "}"',
      file: '/srv/ocm/nginx/alice.conf',
      line: 9,
    });
  });

  it('keeps a message without a location', () => {
    assert.deepEqual(parseNginxError('nginx: [alert] kill(123, 1) failed (3: No such process)\n'), {
      reason: 'kill(123, 1) failed (3: No such process)',
    });
    assert.deepEqual(parseNginxError(''), { reason: 'nginx failed without a message' });
  });
});
