// Runs lib/ws-load.ts in a child process and returns its messages/s.
import { fileURLToPath } from 'node:url';
import { run } from './proc.js';

const SCRIPT = fileURLToPath(new URL('./ws-load.ts', import.meta.url));

export interface WsLoad { connections: number; messages: number; bytes: number }
export interface WsResult { messages: number; ms: number; rate: number; errors: number }

export async function wsEcho(port: number, host: string, load: WsLoad): Promise<WsResult> {
  const out = await run(process.execPath, [...process.execArgv, SCRIPT, String(port), host, String(load.connections), String(load.messages), String(load.bytes)], { timeoutMs: 150_000 });
  const result = JSON.parse(out.stdout.trim().split('\n').pop() as string) as WsResult;
  if (result.errors > 0) throw new Error(`WebSocket echo through :${port}: ${result.errors} lost or wrong messages`);
  return result;
}
