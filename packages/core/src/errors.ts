// Every failure ocm reports is an OcmError with a stable code, so the CLI,
// the daemon (HTTP status) and tests can all rely on the same list.
import { ERROR_CODES, type ErrorCode } from './error-codes.js';

export interface OcmErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable detail (field path, line, user...). Never secrets. */
  details?: Record<string, unknown>;
}

export class OcmError extends Error {
  override readonly name = 'OcmError';
  readonly code: ErrorCode;
  readonly hint: string;
  readonly statusCode: number;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: OcmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    const spec = ERROR_CODES[code];
    this.hint = options.hint ?? spec.hint;
    this.statusCode = spec.status;
    this.details = options.details ?? {};
  }

  /** True for refusals caused by input or environment, false for bugs. */
  get isUserError(): boolean {
    return this.code !== 'OCM_E_INTERNAL';
  }

  toJSON(): { code: ErrorCode; message: string; hint: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

export function isOcmError(value: unknown): value is OcmError {
  return value instanceof OcmError;
}

/** Quote a user-supplied value for an error message, bounded and single-line. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const clipped = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return JSON.stringify(clipped);
}
