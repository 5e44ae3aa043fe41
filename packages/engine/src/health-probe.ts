// The gateway's UI answers 200 to any path, so "healthy" means /healthz
// returned JSON with ok === true, nothing less.
export interface ProbeResult {
  ok: boolean;
  /** Why not, for progress lines and the final error. */
  detail: string;
}

export type HealthProbe = (hostPort: number) => Promise<ProbeResult>;

/** Pure: judge a /healthz answer. */
export function judgeHealthz(status: number, body: string): ProbeResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, detail: `HTTP ${status} with a non-JSON body` };
  }
  if ((json as { ok?: unknown } | null)?.ok === true) return { ok: true, detail: `HTTP ${status} ok` };
  return { ok: false, detail: `HTTP ${status} without "ok": true` };
}

/** GET http://127.0.0.1:<port>/healthz with a short timeout. */
export function httpHealthProbe(timeoutMs = 2000): HealthProbe {
  return async (hostPort) => {
    try {
      const response = await fetch(`http://127.0.0.1:${hostPort}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
      return judgeHealthz(response.status, await response.text());
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      return { ok: false, detail: cause?.code ?? (error as Error).message };
    }
  };
}
