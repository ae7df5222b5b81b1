/**
 * The guest contract: what an image tells the runtime about itself, in a JSON
 * file inside the image at /etc/overcast/image.json (see ARCHITECTURE.md, "The
 * guest contract"). Builders write it; the container driver reads it from the
 * mounted root volume before it starts PID 1.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the manifest lives inside an image's root filesystem. */
export const MANIFEST_PATH = '/etc/overcast/image.json';

export interface ImageManifest {
  /** the builder's name ('tiny', 'debian-12') */
  name: string;
  /** PID 1 and its arguments */
  init: string[];
  /** the signal that makes init power off cleanly (busybox: SIGUSR2; systemd: SIGRTMIN+3) */
  stopSignal: string;
  /** the signal that makes init reboot (busybox: SIGTERM; systemd: SIGINT, its ctrl-alt-del.target) */
  rebootSignal: string;
  /** environment of PID 1 (besides what the runtime sets, such as container=crun) */
  env: Record<string, string>;
  /** whether init is systemd (it needs a cgroup namespace, a writable /sys/fs/cgroup, tmpfs /run…) */
  systemd: boolean;
  /** the account the key pair's public key is installed for */
  defaultUser: string;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const SIGNAL = /^SIG(?:[A-Z0-9]+|RTMIN(?:\+\d+)?|RTMAX(?:-\d+)?)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a manifest's JSON text; a ManifestError says which field is wrong. */
export function parseManifest(text: string): ImageManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${MANIFEST_PATH} is not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(raw)) throw new ManifestError(`${MANIFEST_PATH} must hold an object`);
  const str = (field: string): string => {
    const v = raw[field];
    if (typeof v !== 'string' || v === '') throw new ManifestError(`${MANIFEST_PATH}: '${field}' must be a non-empty string`);
    return v;
  };
  const signal = (field: string): string => {
    const v = str(field);
    if (!SIGNAL.test(v)) throw new ManifestError(`${MANIFEST_PATH}: '${field}' must be a signal name like SIGTERM, got '${v}'`);
    return v;
  };
  const init = raw.init;
  if (!Array.isArray(init) || init.length === 0 || !init.every((a): a is string => typeof a === 'string') || !init[0]!.startsWith('/')) {
    throw new ManifestError(`${MANIFEST_PATH}: 'init' must be a non-empty array of strings, the first an absolute path`);
  }
  const env = raw.env ?? {};
  if (!isRecord(env) || !Object.values(env).every((v) => typeof v === 'string')) {
    throw new ManifestError(`${MANIFEST_PATH}: 'env' must map names to strings`);
  }
  if (typeof raw.systemd !== 'boolean') throw new ManifestError(`${MANIFEST_PATH}: 'systemd' must be true or false`);
  return {
    name: str('name'),
    init: [...init],
    stopSignal: signal('stopSignal'),
    rebootSignal: signal('rebootSignal'),
    env: { ...(env as Record<string, string>) },
    systemd: raw.systemd,
    defaultUser: str('defaultUser'),
  };
}

/** Reads and checks the manifest of an image's root filesystem mounted (or unpacked) at `rootDir`. */
export async function readManifest(rootDir: string): Promise<ImageManifest> {
  let text: string;
  try {
    text = await readFile(join(rootDir, MANIFEST_PATH), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ManifestError(code === 'ENOENT' ? `the image has no ${MANIFEST_PATH}` : `cannot read ${MANIFEST_PATH}: ${(e as Error).message}`);
  }
  return parseManifest(text);
}

/** The manifest as builders write it. */
export function manifestText(m: ImageManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
