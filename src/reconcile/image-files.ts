/**
 * The disk files of images on this host: a built-in image names the builder
 * that makes its root disk (ImageRecord.build); the image cache builds it on
 * first use (its progress logged a line per step) and keeps it. An image that
 * no builder makes here cannot launch: the error says so, and the instance
 * ends as a failed launch (Server.InternalError "… could not be launched").
 */
import type { Config } from '../config.js';
import { KINDS } from '../resources/ec2/kinds.js';
import { ImageCache } from '../storage/images/cache.js';
import type { Store } from '../store/store.js';

export function imageFiles(store: Store, config: Config, log: (line: string) => void): (region: string, imageId: string, deviceName: string) => Promise<string | undefined> {
  const cache = new ImageCache({ dir: config.imageDir });
  return async (region, imageId) => {
    const image = store.collection(KINDS.image).get(region, imageId);
    if (!image) throw new Error(`image ${imageId} is gone`);
    if (image.importedFile !== undefined) return image.importedFile;
    if (!image.build) throw new Error(`image ${imageId} (${image.Name ?? 'unnamed'}) cannot be built on this host: no builder makes its disk`);
    const name = image.build;
    if (cache.record(name)) return cache.path(name);
    let lastPct = -1;
    log(`image ${name}: building (first use; cached in ${config.imageDir})`);
    const file = await cache.ensure(name, (p) => {
      const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 0;
      if (pct >= lastPct + 10) {
        lastPct = pct;
        log(`image ${name}: ${pct}% ${p.step}`);
      }
    });
    log(`image ${name}: ready`);
    return file;
  };
}
