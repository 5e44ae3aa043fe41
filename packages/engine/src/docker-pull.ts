// Pulling is the one call that needs a registry; offline hosts must get a
// clear "image missing" naming the image, not a DNS error.
import type Docker from 'dockerode';
import { OcmError, quote } from '@ocm/core';
import { dockerMessage, isUnreachable, toOcmError } from './docker-errors.js';
import type { PullProgress } from './engine-types.js';

export async function pullImage(client: Docker, image: string, onProgress?: (event: PullProgress) => void): Promise<void> {
  try {
    const stream = await client.pull(image);
    await new Promise<void>((resolve, reject) => {
      client.modem.followProgress(
        stream,
        (error: Error | null, output: Array<{ error?: string }> | undefined) => {
          const failed = output?.find((event) => event.error)?.error;
          if (error) reject(error);
          else if (failed) reject(new Error(failed));
          else resolve();
        },
        (event: PullProgress) => onProgress?.(event),
      );
    });
  } catch (error) {
    if (isUnreachable(error)) throw toOcmError(error, `pull ${image}`);
    throw new OcmError('OCM_E_IMAGE_MISSING', `cannot pull image ${quote(image)}: ${dockerMessage(error)}`, {
      cause: error,
      details: { image },
    });
  }
}
