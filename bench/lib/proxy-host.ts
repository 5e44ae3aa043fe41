// Stand-in for `ocm daemon` while that command does not exist yet: the same
// embedded proxy, with every user of a root routed 'up', in its own process so
// its memory can be read. Usage: proxy-host.ts <root> <port> [<cert.pem> <key.pem>]
// (with a certificate, HTTPS as settings.tls gives the daemon's proxy).
import { StaticRouteTable, createEmbeddedProxy } from '@ocm/proxy';
import { userPorts } from './bench-root.js';

const [root, port, certPath, keyPath] = process.argv.slice(2);
const table = new StaticRouteTable(
  [...userPorts(root as string)].map(([user, p]) => [`${user}.localhost`, { user, port: p, upstreamHost: '127.0.0.1', state: 'up' }] as const),
);
const proxy = await createEmbeddedProxy({ routes: table, localClientAddress: '192.0.2.10', drainGraceMs: 1000, ...(certPath !== undefined && keyPath !== undefined ? { tls: { certPath, keyPath } } : {}) });
await proxy.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write(`proxy-host: ${table.size} routes on 127.0.0.1:${port}\n`);
process.once('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
