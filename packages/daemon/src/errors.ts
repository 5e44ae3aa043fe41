// Every error the admin listener sends is an OcmError as JSON:
// {code, message, hint}, with the status its code is listed with. Schema
// failures name the field that was wrong.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { OcmError, isOcmError } from '@ocm/core';

export interface ErrorBody {
  code: string;
  message: string;
  hint: string;
  details?: Record<string, unknown>;
}

export function errorBody(error: OcmError): ErrorBody {
  const { code, message, hint, details } = error.toJSON();
  return { code, message, hint, ...(Object.keys(details).length > 0 ? { details } : {}) };
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const SCHEMA_HINT = 'check the request against the route list in packages/daemon/README.md';

/** "body.cpus", "querystring.tail", "body" for the whole body. */
function fieldOf(context: string, issue: AjvIssue): string {
  const path = issue.instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [context, ...path].join('.');
}

export function validationError(context: string, issues: AjvIssue[]): OcmError {
  const issue = issues[0];
  if (issue === undefined) return new OcmError('OCM_E_USAGE', `${context} is not valid`, { hint: SCHEMA_HINT });
  const base = fieldOf(context, issue);
  let field = base;
  let problem: string;
  switch (issue.keyword) {
    case 'required':
      field = `${base}.${String(issue.params.missingProperty)}`;
      problem = 'is required';
      break;
    case 'additionalProperties':
      field = `${base}.${String(issue.params.additionalProperty)}`;
      problem = 'is not a known field';
      break;
    case 'type':
      problem = `must be ${String(issue.params.type).split(',').join(' or ')}`;
      break;
    case 'minProperties':
      problem = 'needs at least one field';
      break;
    case 'enum':
      problem = `must be one of ${(issue.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    default:
      problem = issue.message ?? 'is not valid';
  }
  return new OcmError('OCM_E_USAGE', `${field} ${problem}`, { hint: SCHEMA_HINT, details: { field } });
}

/** Any thrown value as the OcmError the client gets. */
export function toOcmError(error: unknown): OcmError {
  if (isOcmError(error)) return error;
  const e = error as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (Array.isArray(e.validation)) return validationError(e.validationContext ?? 'request', e.validation);
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 429) return new OcmError('OCM_E_RATE_LIMITED', 'too many requests from this address');
  if (status >= 400 && status < 500) {
    return new OcmError('OCM_E_USAGE', `request refused: ${e.message}`, { hint: SCHEMA_HINT, cause: error });
  }
  return new OcmError('OCM_E_INTERNAL', `internal error: ${e instanceof Error ? e.message : String(error)}`, { cause: error });
}

export function sendError(reply: FastifyReply, error: OcmError): FastifyReply {
  return reply.code(error.statusCode).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(errorBody(error));
}

/**
 * Fastify answers a few requests before any route or error handler sees them
 * (a URL it cannot decode, a path parameter over maxParamLength, a failed
 * async constraint). Passed as the `frameworkErrors` option so those answers
 * are the same {code, message, hint} as every other error, keeping fastify's
 * status (400, 414).
 */
export function frameworkErrors(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const reason = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is too long' : error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent-encoding' : 'the request could not be routed';
  const ocm = new OcmError('OCM_E_USAGE', `request refused: ${reason}`, { hint: SCHEMA_HINT });
  // Fastify ignores the return value; the reply is sent, not awaited.
  void reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(errorBody(ocm));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const ocm = toOcmError(error);
    if (ocm.code === 'OCM_E_INTERNAL') request.log.error({ err: error }, 'request failed');
    else request.log.debug({ code: ocm.code }, ocm.message);
    return sendError(reply, ocm);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new OcmError('OCM_E_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );
}
