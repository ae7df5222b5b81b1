/**
 * Instance-store-backed AMIs: the bundle an ImageLocation names, read from the
 * image store (domain/bundle-manifest.ts has the forms), and the image record
 * registered from it. Launching one boots a copy of the bundle's root disk on
 * the instance store: the instance has no EBS root, cannot be stopped, keeps its
 * root over reboots and loses it at termination.
 */
import { readFileSync, statSync } from 'node:fs';
import type { BlockDeviceMapping } from '@aws-sdk/client-ec2';
import { bundleFile, bundleOfLocation, ManifestError, parseManifest, type BundleManifest } from '../../domain/bundle-manifest.js';
import { Ec2Error } from '../../domain/errors.js';
import type { ResourceContext } from '../context.js';

/** The root disk of an instance store root volume, as EC2's instance-store root partition: 10 GiB (or the disk's size). */
export const INSTANCE_STORE_ROOT_GIB = 10;

const invalidManifest = (location: string, why: string): Ec2Error => new Ec2Error('InvalidManifest', `The manifest ${location} could not be read: ${why}`);

export interface ReadBundle {
  manifest: BundleManifest;
  /** the root disk on this host */
  partFile: string;
}

/** The bundle at an ImageLocation, checked: its manifest parses and its part is there with the manifest's size. */
export function readBundle(ctx: Pick<ResourceContext, 'config'>, location: string): ReadBundle {
  const bundle = bundleOfLocation(location);
  if (bundle === undefined) {
    throw invalidManifest(location, `Overcast registers bundles of its image store only: overcast-images/<name>/image.manifest.xml (made by \`overcast image import FILE --name <name> --instance-store\`)`);
  }
  let text: string;
  try {
    text = readFileSync(bundleFile(ctx.config.imageDir, bundle), 'utf8');
  } catch {
    throw invalidManifest(location, 'no such bundle in the image store');
  }
  let manifest: BundleManifest;
  try {
    manifest = parseManifest(text);
  } catch (e) {
    if (e instanceof ManifestError) throw invalidManifest(location, e.message);
    throw e;
  }
  const partFile = bundleFile(ctx.config.imageDir, bundle, manifest.part);
  let size: number;
  try {
    size = statSync(partFile).size;
  } catch {
    throw invalidManifest(location, `its part ${manifest.part} is missing`);
  }
  if (size !== manifest.size) throw invalidManifest(location, `its part ${manifest.part} holds ${size} bytes, the manifest says ${manifest.size}`);
  return { manifest, partFile };
}

/** The instance store mappings of a bundle's manifest, as RegisterImage lists them (ephemeral0 → /dev/sdb). */
export function manifestMappings(m: BundleManifest): BlockDeviceMapping[] {
  return m.ephemeral.map((e) => ({ DeviceName: e.device.startsWith('/dev/') ? e.device : `/dev/${e.device}`, VirtualName: e.virtualName }));
}

/** The size of an instance store root volume made from a disk of `bytes`. */
export function instanceStoreRootGiB(bytes: number | undefined): number {
  return Math.max(INSTANCE_STORE_ROOT_GIB, Math.ceil((bytes ?? 0) / 1024 ** 3));
}
