/**
 * Instance-store-backed AMIs are registered from a bundle manifest
 * (`image.manifest.xml`), as EC2's bundle tools write one: the machine
 * configuration (architecture, the block device mapping of the virtual names
 * ami/root/ephemeralN) and the image's parts. Overcast's bundles keep the root
 * disk unencrypted in one part beside the manifest, in the image store of the
 * data directory, and are addressed like S3 objects:
 * `overcast-images/<bundle>/image.manifest.xml` (the bucket `overcast-images`
 * is the image store's `bundles/` folder).
 *
 * Pure: the location's form, where a bundle's files are, and the manifest's text both ways.
 */
import { join } from 'node:path';

/** The "bucket" Overcast's bundles are found in. */
export const BUNDLE_BUCKET = 'overcast-images';

/** The manifest's file name inside a bundle. */
export const MANIFEST_FILE = 'image.manifest.xml';

const BUNDLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const LOCATION = new RegExp(`^${BUNDLE_BUCKET}/([^/]+)/${MANIFEST_FILE.replace(/\./g, '\\.')}$`);

export function isBundleName(name: string): boolean {
  return BUNDLE_NAME.test(name) && name !== '.' && name !== '..';
}

/** The ImageLocation of a bundle. */
export function bundleLocation(bundle: string): string {
  return `${BUNDLE_BUCKET}/${bundle}/${MANIFEST_FILE}`;
}

/** The bundle an ImageLocation names, or undefined when it is not one of Overcast's. */
export function bundleOfLocation(location: string): string | undefined {
  const m = LOCATION.exec(location);
  return m && isBundleName(m[1]!) ? m[1] : undefined;
}

/** A file of a bundle in the image store (`--image-dir`): `<imageDir>/bundles/<bundle>/<file>`. */
export function bundleFile(imageDir: string, bundle: string, file: string = MANIFEST_FILE): string {
  return join(imageDir, 'bundles', bundle, file);
}

export interface BundleManifest {
  name: string;
  architecture: 'x86_64' | 'arm64';
  /** the root disk's size in bytes */
  size: number;
  /** the root disk's file, beside the manifest */
  part: string;
  /** sha256 of the root disk, hex */
  digest: string;
  /** the root device (`/dev/sda1`) */
  rootDevice: string;
  /** virtual name → device (`ephemeral0` → `sdb`), as the bundle's mapping lists them */
  ephemeral: { virtualName: string; device: string }[];
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const unxml = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

export function renderManifest(m: BundleManifest): string {
  const mappings = [
    `      <mapping><virtual>ami</virtual><device>${xml(m.rootDevice.replace(/^\/dev\//, ''))}</device></mapping>`,
    `      <mapping><virtual>root</virtual><device>${xml(m.rootDevice)}</device></mapping>`,
    ...m.ephemeral.map((e) => `      <mapping><virtual>${xml(e.virtualName)}</virtual><device>${xml(e.device)}</device></mapping>`),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<manifest>',
    '  <version>2007-10-10</version>',
    '  <bundler><name>overcast</name><version>1</version><release>1</release></bundler>',
    '  <machine_configuration>',
    `    <architecture>${m.architecture}</architecture>`,
    '    <block_device_mapping>',
    ...mappings,
    '    </block_device_mapping>',
    '  </machine_configuration>',
    '  <image>',
    `    <name>${xml(m.name)}</name>`,
    '    <type>machine</type>',
    `    <size>${m.size}</size>`,
    '    <parts count="1">',
    `      <part index="0"><filename>${xml(m.part)}</filename><digest algorithm="SHA256">${m.digest}</digest></part>`,
    '    </parts>',
    '  </image>',
    '</manifest>',
    '',
  ].join('\n');
}

export class ManifestError extends Error {}

function one(text: string, tag: string): string {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(text);
  if (!m) throw new ManifestError(`the manifest has no <${tag}>`);
  return unxml(m[1]!.trim());
}

/** Reads a manifest's text; ManifestError when a part Overcast needs is missing or malformed. */
export function parseManifest(text: string): BundleManifest {
  if (!/<manifest>/.test(text)) throw new ManifestError('not a bundle manifest (no <manifest>)');
  const architecture = one(text, 'architecture');
  if (architecture !== 'x86_64' && architecture !== 'arm64') throw new ManifestError(`unsupported architecture '${architecture}'`);
  const size = Number(one(text, 'size'));
  if (!Number.isSafeInteger(size) || size <= 0) throw new ManifestError('the image size is not a positive number of bytes');
  const parts = [...text.matchAll(/<part\s[^>]*>([\s\S]*?)<\/part>/g)];
  if (parts.length !== 1) throw new ManifestError(`the image has ${parts.length} parts; Overcast's bundles have one`);
  const part = one(parts[0]![1]!, 'filename');
  if (!/^[A-Za-z0-9._-]+$/.test(part) || part === '.' || part === '..') throw new ManifestError(`the part's file name '${part}' is not a plain file name`);
  const digest = one(parts[0]![1]!, 'digest');
  const mappings = [...text.matchAll(/<mapping>\s*<virtual>([^<]*)<\/virtual>\s*<device>([^<]*)<\/device>\s*<\/mapping>/g)].map((m) => ({ virtualName: unxml(m[1]!.trim()), device: unxml(m[2]!.trim()) }));
  const root = mappings.find((m) => m.virtualName === 'root')?.device ?? `/dev/${mappings.find((m) => m.virtualName === 'ami')?.device ?? 'sda1'}`;
  return {
    name: one(text, 'name'),
    architecture,
    size,
    part,
    digest,
    rootDevice: root.startsWith('/dev/') ? root : `/dev/${root}`,
    ephemeral: mappings.filter((m) => /^ephemeral\d+$/.test(m.virtualName)),
  };
}
