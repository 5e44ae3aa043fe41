// The daemon's one pino logger; components log through children
// (admin, proxy, backup, watch). Credentials never reach the log: the paths
// below are censored wherever a request, reply or object carries them.
import { destination, pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'authorization',
  'cookie',
  'token',
  'adminToken',
  'csrf',
  'body.token',
  '*.token',
];

export interface DaemonLoggerOptions {
  level?: string;
  /** Default: stderr, like every other ocm log line. */
  destination?: DestinationStream;
}

export function createDaemonLogger(options: DaemonLoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: stdTimeFunctions.isoTime,
    },
    options.destination ?? destination(2),
  );
}

export type { Logger };
