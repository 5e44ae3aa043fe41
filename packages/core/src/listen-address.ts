// settings.*.listen values ("127.0.0.1:7070", ":8080", "*:80", "[::1]:7070")
// as the host and port node's listen() wants.
import { OcmError, quote } from './errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(value: string, field: string): ListenAddress {
  const colon = value.lastIndexOf(':');
  const port = Number(value.slice(colon + 1));
  const rawHost = colon < 0 ? '' : value.slice(0, colon);
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OcmError('OCM_E_MANIFEST_INVALID', `${field}: ${quote(value)} is not a listen address`, { hint: 'use 127.0.0.1:7070, 0.0.0.0:7070 or :7070' });
  }
  const host = rawHost === '' || rawHost === '*' ? '0.0.0.0' : rawHost.replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}
