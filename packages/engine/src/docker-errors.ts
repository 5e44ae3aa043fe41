// Docker answers with HTTP status codes and socket errors; callers should only
// ever see OcmErrors with stable codes, so translate at the boundary.
import { OcmError, quote, type ErrorCode } from '@ocm/core';

const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

interface DockerishError {
  statusCode?: number;
  code?: string;
  message?: string;
  json?: { message?: string } | null;
}

export function dockerStatus(error: unknown): number | undefined {
  return (error as DockerishError | null)?.statusCode;
}

/** The daemon's own message (e.g. "Conflict. The container name ... is already in use"). */
export function dockerMessage(error: unknown): string {
  const e = error as DockerishError | null;
  const text = e?.json?.message ?? e?.message ?? String(error);
  return text.replace(/^\(HTTP code \d+\)\s*[\w ]*-\s*/, '').trim();
}

export function isUnreachable(error: unknown): boolean {
  const e = error as DockerishError | null;
  return e?.statusCode === undefined && e?.code !== undefined && SOCKET_ERRORS.has(e.code);
}

/** Map any dockerode failure to an OcmError; `notFound` names what a 404 means here. */
export function toOcmError(
  error: unknown,
  doing: string,
  notFound?: { code: ErrorCode; message: string },
): OcmError {
  if (error instanceof OcmError) return error;
  if (isUnreachable(error)) {
    const e = error as DockerishError & { address?: string };
    if (e.code === 'EACCES') {
      // Docker runs; this user may not use its socket. "Start Docker" would mislead.
      const socket = e.address ?? 'its socket';
      return new OcmError('OCM_E_DOCKER_UNREACHABLE', `cannot reach Docker while trying to ${doing}: permission denied on ${socket}`, {
        cause: error,
        hint: 'run ocm as root, or add this user to the docker group (`sudo usermod -aG docker $USER`, then log in again)',
      });
    }
    return new OcmError('OCM_E_DOCKER_UNREACHABLE', `cannot reach Docker while trying to ${doing}`, { cause: error });
  }
  if (dockerStatus(error) === 404 && notFound) {
    return new OcmError(notFound.code, notFound.message, { cause: error });
  }
  // Daemon refusals (port taken, bad mount...) keep Docker's own words.
  return new OcmError('OCM_E_DOCKER_FAILED', `Docker failed to ${doing}: ${dockerMessage(error)}`, {
    cause: error,
    details: { dockerStatus: dockerStatus(error) },
  });
}

/** Run one Docker call, translating its failure. */
export async function docker<T>(
  doing: string,
  call: () => Promise<T>,
  notFound?: { code: ErrorCode; message: string },
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toOcmError(error, doing, notFound);
  }
}

export function containerMissing(name: string): { code: ErrorCode; message: string } {
  return { code: 'OCM_E_CONTAINER_MISSING', message: `container ${quote(name)} does not exist` };
}

/** The error for a container that was expected and is not there. */
export function noSuchContainer(name: string): OcmError {
  const { code, message } = containerMissing(name);
  return new OcmError(code, message);
}
