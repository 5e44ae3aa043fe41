// JSON schemas of the admin API: unknown fields are refused, and fastify's
// validator is told not to coerce or strip anything (see admin-app.ts).
const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;
const ENV = { type: 'object', maxProperties: 200, additionalProperties: { type: 'string', maxLength: 8192 } } as const;
const LIMITS = {
  cpus: { type: ['number', 'string'], description: 'CPU limit, e.g. 0.5 or "2"' },
  memory: { type: 'string', maxLength: 32, description: 'memory limit, e.g. "512m" or "2g"' },
  pids: { type: ['integer', 'string'], description: 'process limit, e.g. 256' },
} as const;

export const userParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: NAME },
} as const;

export const addUserBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: NAME,
    ...LIMITS,
    env: ENV,
    start: { type: 'boolean', description: 'start the gateway and wait for health (default true)' },
    node: { type: 'string', maxLength: 253, description: 'swarm root: the node to pin the user to (default: the one with the most room that can hold her state)' },
  },
} as const;

export const setUserBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    ...LIMITS,
    env: ENV,
    unsetEnv: { type: 'array', maxItems: 200, items: { type: 'string', maxLength: 256 } },
    enabled: { type: 'boolean' },
    allow: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 64 }, description: 'network policy openings: address or CIDR, optional port' },
    disallow: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 64 } },
    dailyBudget: { type: ['number', 'string'], maxLength: 16, description: 'model spend a day in US dollars' },
    monthlyBudget: { type: ['number', 'string'], maxLength: 16, description: 'model spend a month in US dollars' },
    budget: { type: 'boolean', enum: [false], description: 'false removes the user\'s own model budget' },
  },
} as const;

export const usageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    user: { type: 'string', maxLength: 64 },
    since: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
  },
} as const;

/** GET /api/usage/daily: a query string is text, so `days` is a pattern that also bounds it (1 to 366). */
export const usageDailyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    user: { type: 'string', maxLength: 64 },
    days: { type: 'string', pattern: '^(?:[1-9]\\d?|[12]\\d\\d|3[0-5]\\d|36[0-6])$', default: '30' },
  },
} as const;

const BOOL_TEXT = { type: 'string', enum: ['true', 'false'] } as const;

export const removeUserQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { purge: BOOL_TEXT, yes: BOOL_TEXT },
} as const;

export const logsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { tail: { type: 'string', pattern: '^[0-9]{1,5}$', description: 'last N lines (default 200, at most 99999)' } },
} as const;

export const backupBody = {
  type: 'object',
  additionalProperties: false,
  properties: { names: { type: 'array', maxItems: 1000, items: NAME } },
} as const;

export const tlsRenewBody = {
  type: 'object',
  additionalProperties: false,
  properties: { names: { type: 'array', maxItems: 1000, items: NAME }, force: { type: 'boolean' } },
} as const;

export const backupsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { name: NAME },
} as const;

export const jobParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z0-9-]{1,64}$' } },
} as const;

export const loginBody = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: { token: { type: 'string', maxLength: 1024 } },
} as const;

const DEVICE_ID = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' } as const;

export const approveDeviceBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { requestId: DEVICE_ID, latest: { type: 'boolean', const: true, description: 'the newest pending request' } },
} as const;

export const rejectDeviceBody = {
  type: 'object',
  additionalProperties: false,
  required: ['requestId'],
  properties: { requestId: DEVICE_ID },
} as const;

export const revokeDeviceBody = {
  type: 'object',
  additionalProperties: false,
  required: ['deviceId'],
  properties: { deviceId: DEVICE_ID },
} as const;
