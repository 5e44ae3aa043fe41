export { OcmError, isOcmError, quote, type OcmErrorOptions } from './errors.js';
export { ERROR_CODES, type ErrorCode } from './error-codes.js';
export * from './plan-types.js';
