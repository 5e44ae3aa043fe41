// A missing image is pulled with progress; offline, the error names the image.
import type { ImageStore, PullProgress } from '@ocm/engine';

export async function ensureImages(engine: ImageStore, images: Iterable<string>, onPull?: (image: string, p: PullProgress) => void): Promise<string[]> {
  const pulled: string[] = [];
  for (const image of new Set(images)) {
    if (await engine.imageExists(image)) continue;
    await engine.pullImage(image, (p) => onPull?.(image, p));
    pulled.push(image);
  }
  return pulled;
}
