/**
 * `overcast image import --instance-store`: a root disk made into an
 * instance-store bundle in the image store (`<image-dir>/bundles/<name>/`):
 * the disk cloned beside its manifest (`image.manifest.xml`), which
 * RegisterImage takes as `ImageLocation=overcast-images/<name>/image.manifest.xml`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { run } from '../../host/exec.js';
import { bundleFile, bundleLocation, isBundleName, renderManifest, type BundleManifest } from '../../domain/bundle-manifest.js';
import { ImportError } from './import.js';

/** The root disk's file name in a bundle. */
export const BUNDLE_PART = 'root.img';

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface Bundle {
  location: string;
  manifest: BundleManifest;
  dir: string;
}

/** Writes the bundle (refused when one of that name exists: bundles are immutable, as uploaded ones are). */
export async function writeBundle(imageDir: string, name: string, disk: string, architecture: 'x86_64' | 'arm64'): Promise<Bundle> {
  if (!isBundleName(name)) throw new ImportError(`bundle name '${name}' must be 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  const manifestFile = bundleFile(imageDir, name);
  const dir = dirname(manifestFile);
  if (await stat(manifestFile).catch(() => undefined)) throw new ImportError(`a bundle '${name}' exists already (${dir})`);
  await mkdir(dir, { recursive: true });
  const part = bundleFile(imageDir, name, BUNDLE_PART);
  await run('cp', ['--reflink=auto', '--sparse=always', disk, `${part}.partial`]);
  await rename(`${part}.partial`, part);
  const manifest: BundleManifest = {
    name,
    architecture,
    size: (await stat(part)).size,
    part: BUNDLE_PART,
    digest: await sha256(part),
    rootDevice: '/dev/sda1',
    ephemeral: [{ virtualName: 'ephemeral0', device: 'sdb' }],
  };
  try {
    await writeFile(`${manifestFile}.partial`, renderManifest(manifest));
    await rename(`${manifestFile}.partial`, manifestFile);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { location: bundleLocation(name), manifest, dir };
}
