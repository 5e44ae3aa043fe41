// Everything specific to the OpenClaw gateway image lives here (and in the
// templates), so another single-tenant app could be run by swapping this file.

export const GATEWAY_PORT = 18789;
export const GATEWAY_HOME = '/home/node';
export const STATE_TARGET = '/home/node/.openclaw';
export const CONFIG_TARGET = '/home/node/.config/openclaw';
export const TOKEN_ENV = 'OPENCLAW_GATEWAY_TOKEN';
export const CONFIG_FILE = 'openclaw.json';
export const HEALTH_PATH = '/healthz';

/** `--bind lan` because inside a container the gateway must listen on all interfaces. */
export const GATEWAY_COMMAND: readonly string[] = [
  'node', 'openclaw.mjs', 'gateway', '--allow-unconfigured', '--bind', 'lan', '--port', String(GATEWAY_PORT),
];

/** The image has no curl; node's fetch checks the JSON body, since unknown paths answer 200. */
export const HEALTHCHECK_TEST: readonly string[] = [
  'CMD', 'node', '-e',
  `fetch('http://127.0.0.1:${GATEWAY_PORT}${HEALTH_PATH}').then(r=>r.json()).then(j=>process.exit(j.ok?0:1)).catch(()=>process.exit(1))`,
];

export function pinnedEnv(timezone: string): Record<string, string> {
  return {
    HOME: GATEWAY_HOME,
    OPENCLAW_CONFIG_PATH: `${STATE_TARGET}/${CONFIG_FILE}`,
    OPENCLAW_STATE_DIR: STATE_TARGET,
    OPENCLAW_WORKSPACE_DIR: `${STATE_TARGET}/workspace`,
    TZ: timezone,
  };
}

/** The gateway's own device-pairing CLI, run inside the user's container from /app. */
export const GATEWAY_WORKDIR = '/app';
export function devicesCommand(args: readonly string[]): string[] {
  return ['node', 'openclaw.mjs', 'devices', ...args, '--json'];
}

/** Placeholder values the gateway itself refuses as a token. */
export const PLACEHOLDER_TOKENS: ReadonlySet<string> = new Set(['change-me', 'changeme', 'your-token-here', '']);

/** Is a JSON body from the health endpoint a healthy answer? */
export function isHealthyBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { ok?: unknown }).ok === true;
}
