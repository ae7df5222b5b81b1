/**
 * The `tiny` image: a root filesystem made in seconds from Debian packages already
 * on the host — busybox-static (init, a shell, the usual tools) and dropbear-bin
 * (an SSH server, with the shared libraries it links and the dynamic loader) —
 * plus fixed files: users, inittab, overcast-init (tiny-guest.ts).
 */
import { chmod, chown, copyFile, lstat, mkdir, realpath, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CommandError, hasCommand, isRoot, run } from '../../host/exec.js';
import type { BuildContext, ImageBuilder } from './builder.js';
import { ImageBuildError } from './builder.js';
import { makeExt4, MIB } from './ext4.js';
import { MANIFEST_PATH, manifestText, type ImageManifest } from './manifest.js';
import { INITTAB, OVERCAST_INIT, PROFILE, RC_K, RC_S } from './tiny-guest.js';

export const TINY_MANIFEST: ImageManifest = {
  name: 'tiny',
  init: ['/sbin/init'],
  stopSignal: 'SIGUSR2',
  rebootSignal: 'SIGTERM',
  env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', TERM: 'linux' },
  systemd: false,
  defaultUser: 'admin',
};

/** The ext4 file's size (sparse: the files take about 5 MiB of it). */
const TINY_BYTES = 256 * MIB;

export const ADMIN_UID = 1000;

/** Host packages whose programs go into the image. */
const PACKAGES = ['busybox-static', 'dropbear-bin'];

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
admin:x:${ADMIN_UID}:${ADMIN_UID}:Overcast default user:/home/admin:/bin/sh
`;

const GROUP = `root:x:0:
daemon:x:1:
adm:x:4:admin
tty:x:5:
wheel:x:10:admin
utmp:x:43:
nogroup:x:65534:
admin:x:${ADMIN_UID}:
`;

// '*': no password matches (logins by key only); dropbear refuses accounts with an empty password field.
const SHADOW = `root:*:20000:0:99999:7:::
daemon:*:20000:0:99999:7:::
nobody:*:20000:0:99999:7:::
admin:*:20000:0:99999:7:::
`;

const FILES: readonly { path: string; text: string; mode: number }[] = [
  { path: '/etc/passwd', text: PASSWD, mode: 0o644 },
  { path: '/etc/group', text: GROUP, mode: 0o644 },
  { path: '/etc/shadow', text: SHADOW, mode: 0o600 },
  { path: '/etc/shells', text: '/bin/sh\n/bin/ash\n/usr/bin/sh\n', mode: 0o644 },
  { path: '/etc/resolv.conf', text: 'nameserver 169.254.169.253\n', mode: 0o644 },
  { path: '/etc/hosts', text: '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n', mode: 0o644 },
  { path: '/etc/nsswitch.conf', text: 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n', mode: 0o644 },
  { path: '/etc/os-release', text: 'NAME="Overcast tiny"\nID=overcast-tiny\nPRETTY_NAME="Overcast tiny (busybox, dropbear)"\nHOME_URL="https://github.com/overcast"\n', mode: 0o644 },
  { path: '/etc/profile', text: PROFILE, mode: 0o644 },
  { path: '/etc/inittab', text: INITTAB, mode: 0o644 },
  { path: '/etc/init.d/rcS', text: RC_S, mode: 0o755 },
  { path: '/etc/init.d/rcK', text: RC_K, mode: 0o755 },
  { path: '/usr/lib/overcast/overcast-init', text: OVERCAST_INIT, mode: 0o755 },
  { path: MANIFEST_PATH, text: manifestText(TINY_MANIFEST), mode: 0o644 },
];

/** Where a host path goes in the image: the image is merged-/usr like Debian 12 (/bin is usr/bin…). */
function imagePath(root: string, hostPath: string): string {
  const merged = hostPath.replace(/^\/(bin|sbin|lib|lib64)(\/|$)/, '/usr/$1$2');
  return join(root, merged);
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

async function copyInto(root: string, hostPath: string): Promise<void> {
  const dest = imagePath(root, hostPath);
  if (await exists(dest)) return;
  await mkdir(dirname(dest), { recursive: true });
  const real = await realpath(hostPath);
  await copyFile(real, dest);
  await chmod(dest, (await stat(real)).mode & 0o7777);
}

/** The regular files a host package installed, outside /usr/share (documentation, manuals). */
async function packageFiles(pkg: string): Promise<string[]> {
  const { stdout } = await run('dpkg-query', ['-L', pkg]);
  const files: string[] = [];
  for (const line of stdout.split('\n')) {
    const p = line.trim();
    if (!p.startsWith('/') || p.startsWith('/usr/share/')) continue;
    const s = await lstat(p).catch(() => undefined);
    if (s && (s.isFile() || s.isSymbolicLink()) && !(await stat(p).catch(() => undefined))?.isDirectory()) files.push(p);
  }
  return files;
}

/** The shared libraries and the loader a dynamic executable needs, as `ldd` names them. */
export async function sharedLibraries(file: string): Promise<string[]> {
  let out: string;
  try {
    out = (await run('ldd', [file])).stdout;
  } catch (e) {
    // "not a dynamic executable" (busybox-static): nothing to copy
    if (e instanceof CommandError && e.code === 1) return [];
    throw e;
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const loader = /^\s*(\/\S+)\s+\(0x/.exec(line);
    const p = arrow?.[1] ?? loader?.[1];
    if (p) libs.push(p);
  }
  return libs;
}

async function writeTree(root: string, path: string, text: string, mode: number): Promise<void> {
  const dest = join(root, path);
  await mkdir(dirname(dest), { recursive: true });
  await writeFile(dest, text, { mode });
  await chmod(dest, mode);
}

/**
 * Writes the tiny image's root tree at `root` (an empty or missing directory).
 * Needs root (files owned by admin) and the host packages busybox-static and dropbear-bin.
 */
export async function buildTinyRoot(root: string, progress: (step: string, done: number, total: number) => void = () => {}): Promise<void> {
  const total = 5;
  progress('making the directory tree', 0, total);
  await mkdir(root, { recursive: true });
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'etc/init.d', 'etc/dropbear', 'etc/overcast', 'dev', 'proc', 'sys', 'run', 'tmp', 'mnt', 'root', 'home/admin', 'var/lib/overcast', 'var/log', 'var/tmp', 'usr/lib/overcast']) {
    await mkdir(join(root, d), { recursive: true });
  }
  for (const d of ['bin', 'sbin', 'lib', 'lib64']) await symlink(`usr/${d}`, join(root, d));
  await symlink('/run', join(root, 'var/run'));
  await chmod(join(root, 'tmp'), 0o1777);
  await chmod(join(root, 'var/tmp'), 0o1777);
  await chmod(join(root, 'root'), 0o700);

  progress('copying busybox and dropbear', 1, total);
  const programs: string[] = [];
  for (const pkg of PACKAGES) programs.push(...(await packageFiles(pkg)));
  for (const p of programs) await copyInto(root, p);

  progress('copying shared libraries', 2, total);
  const libs = new Set<string>();
  for (const p of programs) for (const l of await sharedLibraries(p)) libs.add(l);
  for (const l of libs) await copyInto(root, l);

  progress('linking busybox applets', 3, total);
  const busybox = programs.find((p) => p.endsWith('/busybox'));
  if (!busybox) throw new ImageBuildError('tiny', 'busybox-static installed no busybox');
  const { stdout } = await run(busybox, ['--list-full']);
  // (linuxrc is for initramfs images)
  for (const applet of stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== 'linuxrc')) {
    const dest = imagePath(root, `/${applet}`);
    if (await exists(dest)) continue;
    await mkdir(dirname(dest), { recursive: true });
    await symlink('/usr/bin/busybox', dest);
  }

  progress('writing configuration', 4, total);
  for (const f of FILES) await writeTree(root, f.path, f.text, f.mode);
  await chmod(join(root, 'home/admin'), 0o755);
  await chown(join(root, 'home/admin'), ADMIN_UID, ADMIN_UID);
  progress('root tree complete', total, total);
}


export const tinyBuilder: ImageBuilder = {
  name: 'tiny',
  version: 4,
  description: 'busybox init and shell, dropbear SSH, overcast-init (key pair, user data, instance store); from the host\'s packages, in seconds',
  async missing() {
    if (!isRoot()) return 'building needs root (files owned by the admin user)';
    const lacking: string[] = [];
    for (const cmd of ['mkfs.ext4', 'ldd', 'dpkg-query']) if (!(await hasCommand(cmd))) lacking.push(cmd);
    for (const pkg of PACKAGES) {
      const ok = await run('dpkg-query', ['-W', '-f=${Status}', pkg], { okCodes: [1] }).then(
        (r) => r.stdout.includes('install ok installed'),
        () => false,
      );
      if (!ok) lacking.push(`the package ${pkg}`);
    }
    return lacking.length ? `missing ${lacking.join(', ')}` : undefined;
  },
  async build(ctx: BuildContext) {
    const root = join(ctx.work, 'root');
    const total = 6;
    await buildTinyRoot(root, (step, done) => ctx.progress({ step, done, total }));
    ctx.progress({ step: 'making the ext4 file', done: 5, total });
    await makeExt4(root, ctx.output, TINY_BYTES, 'overcast-tiny');
    ctx.progress({ step: 'done', done: total, total });
  },
};
