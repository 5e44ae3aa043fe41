// The plain-HTTP listener next to an HTTPS proxy: configured hosts are sent
// to https, anything else gets the same pages as the proxy itself; ACME
// HTTP-01 challenges are answered here, for any host.
import { createServer, type Server } from 'node:http';
import { notConfiguredPage, badHostPage, rawHttpResponse, type ProxyPage } from '@ocm/core';
import { lookupRoute } from './route-lookup.js';
import type { RouteSource } from './route-source.js';

/** The key authorization for an ACME HTTP-01 request path, when an order waits for it. */
export type ChallengeAnswers = (path: string) => string | undefined;

export function createHttpsRedirectServer(routes: RouteSource, httpsPort: () => number, challenges?: ChallengeAnswers): Server {
  const server = createServer((request, response) => {
    const answer = request.method === 'GET' ? challenges?.(request.url ?? '') : undefined;
    if (answer !== undefined) return void response.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(answer);
    const found = lookupRoute(routes, request.headers.host);
    const send = (page: ProxyPage): void => void response.writeHead(page.status, page.headers).end(page.body);
    if (found.kind === 'bad-host' || !(request.url ?? '').startsWith('/')) return send(badHostPage());
    if (found.kind === 'unknown') return send(notConfiguredPage(found.host));
    const port = httpsPort();
    const authority = port === 443 ? found.host : `${found.host}:${port}`;
    response.writeHead(308, { location: `https://${authority}${request.url ?? '/'}`, 'cache-control': 'no-store' }).end();
  });
  // Upgrades on plain HTTP are refused outright rather than redirected.
  server.on('upgrade', (_request, socket) => socket.end(rawHttpResponse(badHostPage())));
  return server;
}
