// The few pages the proxy answers itself, small and self-contained (no
// external assets), as data so both fastify replies and raw sockets can send them.

export interface ProxyPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function notConfiguredPage(host: string): ProxyPage {
  return page(404, 'Not configured', `<p>The host <code>${escapeHtml(host)}</code> is not configured on this server.</p>
<p>Check the address, or ask the administrator to add this user.</p>`);
}

/** 503 for a stopped or unhealthy gateway; the browser retries on its own. */
export function notRunningPage(host: string, retryAfterSeconds = 5): ProxyPage {
  const result = page(
    503,
    'Assistant not running',
    `<p>The assistant for <code>${escapeHtml(host)}</code> is not running right now.</p>
<p>It may be starting or restarting. This page retries every ${retryAfterSeconds} seconds.</p>`,
    `<meta http-equiv="refresh" content="${retryAfterSeconds}">`,
  );
  result.headers['retry-after'] = String(retryAfterSeconds);
  return result;
}

export function badHostPage(): ProxyPage {
  return page(400, 'Bad request', '<p>The request did not name a valid host.</p>');
}

export function errorPage(status: number, detail: string): ProxyPage {
  return page(status, STATUS_TEXT[status] ?? 'Error', `<p>${escapeHtml(detail)}</p>`);
}

/** The page as a complete HTTP/1.1 response, for sockets that never reached fastify (upgrades). */
export function rawHttpResponse(result: ProxyPage): string {
  const headers = { ...result.headers, 'content-length': String(Buffer.byteLength(result.body)), connection: 'close' };
  const lines = [`HTTP/1.1 ${result.status} ${STATUS_TEXT[result.status] ?? 'Error'}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${result.body}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(status: number, title: string, content: string, extraHead = ''): ProxyPage {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${extraHead}<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:15vh auto;padding:0 1em;color:#222}h1{font-size:1.4em}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${content}
</body></html>
`;
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    body,
  };
}
