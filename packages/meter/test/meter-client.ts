// Calls the meter from a chosen source address, as a user's gateway would from its network.
import { request } from 'node:http';

export interface Answer { status: number; headers: Record<string, string | string[] | undefined>; text: string }

export function callMeter(port: number, options: { from: string; key?: string; path: string; body: unknown; anthropic?: boolean; onFirstChunk?: () => void }): Promise<Answer> {
  const payload = Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(payload.length) };
  if (options.key !== undefined) {
    if (options.anthropic === true) headers['x-api-key'] = options.key;
    else headers.authorization = `Bearer ${options.key}`;
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: options.path, method: 'POST', localAddress: options.from, headers }, (res) => {
      const parts: Buffer[] = [];
      let first = true;
      res.on('data', (c: Buffer) => {
        if (first) options.onFirstChunk?.();
        first = false;
        parts.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
