// Parallel downloads of one URL with curl (bounded by --max-time), as MB/s:
// curl times each transfer itself, so its start-up is not in the figure.
import { run } from './proc.js';

export const MB = 1024 * 1024;

export interface DownloadResult {
  /** Bytes of all transfers over the slowest transfer's time (they start together), in MB/s. */
  mbps: number;
  /** Each transfer's own MB/s. */
  each: number[];
}

export async function download(port: number, host: string, path: string, parallel: number, expectBytes: number): Promise<DownloadResult> {
  const url = `http://127.0.0.1:${port}${path}`;
  const args = ['--silent', '--show-error', '--parallel', '--parallel-immediate', '--parallel-max', String(parallel), '--max-time', '60', '-H', `Host: ${host}`, '-w', '%{http_code} %{size_download} %{time_total}\\n'];
  for (let i = 0; i < parallel; i++) args.push('-o', '/dev/null', url);
  const out = await run('curl', args, { timeoutMs: 90_000 });
  const transfers = out.stdout.trim().split('\n').map((line) => line.split(' ').map(Number) as [number, number, number]);
  const bad = transfers.filter(([code, bytes]) => code !== 200 || bytes !== expectBytes);
  if (transfers.length !== parallel || bad.length > 0) {
    throw new Error(`curl through :${port}: expected ${parallel} answers 200 of ${expectBytes} bytes, got (code bytes seconds):\n${out.stdout}`);
  }
  const slowest = Math.max(...transfers.map(([, , s]) => s));
  return { mbps: (parallel * expectBytes) / MB / slowest, each: transfers.map(([, bytes, s]) => bytes / MB / s) };
}
