/**
 * The `debian-12` image: Debian bookworm from deb.debian.org by debootstrap
 * (minbase plus systemd, OpenSSH, cloud-init, sudo…), configured for a system
 * container on Overcast (debian-guest.ts), in a 2 GiB sparse ext4 file.
 */
import { readFile, readdir, rm, mkdir, symlink, writeFile, chmod, lstat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hasCommand, isRoot, run } from '../../host/exec.js';
import type { BuildContext, ImageBuilder } from './builder.js';
import { countDebootstrapLog, debootstrapProgress } from './debootstrap-progress.js';
import {
  CLOUD_CFG,
  FSTAB,
  HOSTS,
  JOURNALD_CONF,
  MASKED_UNITS,
  OVERCAST_DATASOURCE,
  RESOLV_CONF,
  SOURCES_LIST,
  SSHD_CONFIG,
  SSH_HOST_KEYS_DROPIN,
  RSA_HOST_KEY_UNIT,
} from './debian-guest.js';
import { makeExt4, MIB } from './ext4.js';
import { MANIFEST_PATH, manifestText, type ImageManifest } from './manifest.js';

export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/** Besides minbase. python3-cffi-backend: without it debootstrap cannot satisfy python3-cryptography's virtual dependency. */
export const DEBIAN_PACKAGES: readonly string[] = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'cloud-init',
  'python3-cffi-backend',
  // update-locale, for cloud-init's locale module (cloud-init pulls it in today; say so)
  'locales',
  'sudo',
  'iproute2',
  'iputils-ping',
  'procps',
  'netbase',
  'less',
];

/** About how many packages debootstrap installs (for the progress total; more raise it). */
const EXPECTED_PACKAGES = 210;

const DEBIAN_BYTES = 2048 * MIB;

export const DEBIAN_MANIFEST: ImageManifest = {
  name: 'debian-12',
  init: ['/lib/systemd/systemd'],
  stopSignal: 'SIGRTMIN+3',
  rebootSignal: 'SIGINT', // systemd starts ctrl-alt-del.target (a reboot); SIGTERM would only re-execute it
  env: { container: 'crun' },
  systemd: true,
  defaultUser: 'admin',
};

/**
 * Where cloud-init's ssh_pwauth writes PasswordAuthentication (sshd_config includes sshd_config.d):
 * made with passwords off, so the default ssh_pwauth: false finds nothing to change and does not
 * restart sshd under the first login; ssh_pwauth: true in user data turns them on.
 */
const PASSWORDS_OFF = 'PasswordAuthentication no\n';

const PYTHON_PACKAGE = '/usr/lib/python3/dist-packages/overcast_cloudinit';

async function write(root: string, path: string, text: string, mode = 0o644): Promise<void> {
  const dest = join(root, path);
  await mkdir(dirname(dest), { recursive: true });
  // Replace, never write through: debootstrap may have left a symlink (resolv.conf) here.
  await unlink(dest).catch(() => {});
  await writeFile(dest, text, { mode });
  await chmod(dest, mode);
}

async function emptyDir(dir: string, keep: (name: string) => boolean = () => false): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const e of entries) if (!keep(e)) await rm(join(dir, e), { recursive: true, force: true });
}

/** Makes the debootstrapped tree at `root` an Overcast image. */
export async function configureDebianRoot(root: string): Promise<void> {
  await write(root, '/etc/cloud/cloud.cfg.d/90-overcast.cfg', CLOUD_CFG);
  await write(root, `${PYTHON_PACKAGE}/__init__.py`, '');
  await write(root, `${PYTHON_PACKAGE}/DataSourceEc2.py`, OVERCAST_DATASOURCE);
  await write(root, '/etc/resolv.conf', RESOLV_CONF);
  await write(root, '/etc/hosts', HOSTS);
  await write(root, '/etc/fstab', FSTAB);
  await write(root, '/etc/apt/sources.list', SOURCES_LIST);
  await write(root, '/etc/ssh/sshd_config.d/overcast.conf', SSHD_CONFIG);
  await write(root, '/etc/ssh/sshd_config.d/50-cloud-init.conf', PASSWORDS_OFF, 0o600);
  await write(root, '/etc/systemd/system/ssh.service.d/overcast-host-keys.conf', SSH_HOST_KEYS_DROPIN);
  await write(root, '/etc/systemd/system/overcast-rsa-host-key.service', RSA_HOST_KEY_UNIT);
  await mkdir(join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
  await rm(join(root, 'etc/systemd/system/multi-user.target.wants/overcast-rsa-host-key.service'), { force: true });
  await symlink('/etc/systemd/system/overcast-rsa-host-key.service', join(root, 'etc/systemd/system/multi-user.target.wants/overcast-rsa-host-key.service'));
  await write(root, '/etc/systemd/journald.conf.d/overcast.conf', JOURNALD_CONF);
  await write(root, MANIFEST_PATH, manifestText(DEBIAN_MANIFEST));

  const units = join(root, 'etc/systemd/system');
  for (const unit of MASKED_UNITS) {
    const link = join(units, unit);
    await rm(link, { force: true, recursive: true });
    await symlink('/dev/null', link);
  }
  for (const wants of await readdir(units)) {
    if (!wants.endsWith('.wants')) continue;
    for (const unit of MASKED_UNITS) await rm(join(units, wants, unit), { force: true });
  }
  await rm(join(units, 'default.target'), { force: true });
  await symlink('/lib/systemd/system/multi-user.target', join(units, 'default.target'));

  // The runtime names the machine; an /etc/hostname (debootstrap copies the host's) would override it.
  await rm(join(root, 'etc/hostname'), { force: true });
  // Empty: systemd makes one at boot, each instance its own.
  await write(root, '/etc/machine-id', '', 0o444);
  await rm(join(root, 'var/lib/dbus/machine-id'), { force: true });
  // Each instance makes its own host keys (ssh.service's ExecStartPre).
  for (const f of await readdir(join(root, 'etc/ssh'))) if (f.startsWith('ssh_host_')) await rm(join(root, 'etc/ssh', f));
  // Caches and logs of the build.
  await emptyDir(join(root, 'var/cache/apt/archives'), (n) => n === 'partial' || n === 'lock');
  await emptyDir(join(root, 'var/cache/apt/archives/partial'));
  for (const f of await readdir(join(root, 'var/cache/apt')).catch(() => [] as string[])) if (f.endsWith('.bin')) await rm(join(root, 'var/cache/apt', f));
  await emptyDir(join(root, 'var/lib/apt/lists'), (n) => n === 'partial' || n === 'lock');
  await emptyDir(join(root, 'var/lib/cloud'));
  await emptyDir(join(root, 'tmp'));
  await emptyDir(join(root, 'var/tmp'));
  for (const log of ['bootstrap.log', 'dpkg.log', 'alternatives.log', 'apt/history.log', 'apt/term.log']) await rm(join(root, 'var/log', log), { force: true });
  const policy = join(root, 'usr/sbin/policy-rc.d');
  if (await lstat(policy).then(() => true, () => false)) await rm(policy);
}

/** How often debootstrap is tried before the build fails. */
const DEBOOTSTRAP_ATTEMPTS = 3;

export const debian12Builder: ImageBuilder = {
  name: 'debian-12',
  version: 8,
  description: `Debian 12 (bookworm) amd64: systemd, OpenSSH, cloud-init (Ec2 datasource, IMDSv2), sudo; debootstrap from ${DEBIAN_MIRROR}, about 2 minutes`,
  async missing() {
    if (!isRoot()) return 'building needs root (debootstrap)';
    if (process.arch !== 'x64') return `the image is amd64 and this host is ${process.arch}`;
    const lacking: string[] = [];
    for (const cmd of ['debootstrap', 'mkfs.ext4']) if (!(await hasCommand(cmd))) lacking.push(cmd);
    return lacking.length ? `missing ${lacking.join(', ')}` : undefined;
  },
  async build(ctx: BuildContext) {
    const root = join(ctx.work, 'root');
    const extra = 2;
    const log = join(root, 'debootstrap/debootstrap.log');
    let last = '';
    let total = 3 * EXPECTED_PACKAGES + extra;
    const poll = setInterval(() => {
      readFile(log, 'utf8').then(
        (text) => {
          const p = debootstrapProgress(countDebootstrapLog(text), EXPECTED_PACKAGES, extra);
          total = Math.max(total, p.total);
          const key = `${p.step} ${p.done}/${p.total}`;
          if (key !== last) {
            last = key;
            ctx.progress(p);
          }
        },
        () => {},
      );
    }, 500);
    const first = debootstrapProgress({ retrieved: 0, unpacked: 0, configured: 0 }, EXPECTED_PACKAGES, extra);
    last = `${first.step} ${first.done}/${first.total}`;
    ctx.progress(first);
    try {
      // A mirror's hiccup (a truncated download, a sync in progress) fails debootstrap with
      // nothing on stderr; the packages fetched so far stay in the cache, so trying again is cheap.
      for (let attempt = 1; ; attempt++) {
        try {
          await run('debootstrap', [
            '--variant=minbase',
            `--include=${DEBIAN_PACKAGES.join(',')}`,
            '--components=main',
            `--cache-dir=${ctx.cache}`,
            'bookworm',
            root,
            DEBIAN_MIRROR,
          ], { timeoutMs: 30 * 60_000 });
          break;
        } catch (err) {
          const tail = await readFile(log, 'utf8').then((t) => t.trim().split('\n').slice(-8).join('\n'), () => '');
          if (attempt >= DEBOOTSTRAP_ATTEMPTS) {
            throw new Error(`${err instanceof Error ? err.message : String(err)}${tail ? `; debootstrap.log ends:\n${tail}` : ''}`, { cause: err });
          }
          console.warn(`images: debootstrap attempt ${attempt} of ${DEBOOTSTRAP_ATTEMPTS} failed; trying again${tail ? `; its log ends:\n${tail}` : ''}`);
          await rm(root, { recursive: true, force: true });
        }
      }
    } finally {
      clearInterval(poll);
    }
    ctx.progress({ step: 'configuring the image', done: total - extra, total });
    await configureDebianRoot(root);
    ctx.progress({ step: 'making the ext4 file', done: total - 1, total });
    await makeExt4(root, ctx.output, DEBIAN_BYTES, 'overcast-debian');
    ctx.progress({ step: 'done', done: total, total });
  },
};
