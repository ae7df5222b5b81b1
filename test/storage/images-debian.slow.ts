/**
 * The debian-12 image, built for real (debootstrap from deb.debian.org: a few
 * minutes; run by `npm run test:slow`). OVERCAST_TEST_IMAGE_DIR names a cache to
 * build in and keep (e.g. /var/tmp/overcast-images: a built image is reused);
 * otherwise a temporary one, removed after.
 * Skipped, with the reason, where the host cannot build it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCommand, run } from '../../src/host/exec.js';
import { ImageCache } from '../../src/storage/images/cache.js';
import { MASKED_UNITS } from '../../src/storage/images/debian-guest.js';
import { DEBIAN_MANIFEST, debian12Builder } from '../../src/storage/images/debian.js';
import { parseManifest } from '../../src/storage/images/manifest.js';

const cannotBuild: string | undefined = await (async () => {
  const missing = await debian12Builder.missing();
  if (missing) return missing;
  if (!(await hasCommand('debugfs'))) return 'debugfs (e2fsprogs) is missing';
  return undefined;
})();

const debugfs = async (file: string, request: string): Promise<string> => (await run('debugfs', ['-R', request, file])).stdout;

describe('the debian-12 image', { skip: cannotBuild, timeout: 30 * 60_000 }, () => {
  const keep = process.env.OVERCAST_TEST_IMAGE_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'overcast-debian-'));
  let file: string;
  const steps = new Set<string>();
  before(async () => {
    const cache = new ImageCache({ dir });
    file = await cache.ensure('debian-12', (p) => steps.add(p.step.replace(/\s*\(\d+\)$/, '')));
  });
  after(() => {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  });

  it("reports debootstrap's phases while it builds", (t) => {
    if (steps.size === 0) return t.skip('already built in the cache: nothing was reported');
    for (const s of ['retrieving package lists', 'configuring packages', 'configuring the image', 'making the ext4 file', 'done']) assert.ok(steps.has(s), `no '${s}' in ${[...steps].join(', ')}`);
  });

  it('configures cloud-init for the Ec2 datasource with IMDSv2, no network config, admin with sudo', async () => {
    const cfg = await debugfs(file, 'cat /etc/cloud/cloud.cfg.d/90-overcast.cfg');
    assert.match(cfg, /^#cloud-config$/m);
    assert.match(cfg, /^datasource_list: \[ Ec2, None \]$/m);
    assert.match(cfg, /^datasource_pkg_list: \[ overcast_cloudinit \]$/m);
    assert.match(cfg, /^\s+strict_id: false$/m);
    assert.match(cfg, /^network:\n\s+config: disabled$/m);
    assert.match(cfg, /^locale: C\.UTF-8$/m);
    assert.match(cfg, /^manage_etc_hosts: true$/m);
    assert.match(cfg, /^\s+name: admin$/m);
    assert.match(cfg, /NOPASSWD:ALL/);
    const ds = await debugfs(file, 'cat /usr/lib/python3/dist-packages/overcast_cloudinit/DataSourceEc2.py');
    assert.match(ds, /return ec2\.CloudNames\.AWS/);
    assert.match(await debugfs(file, 'ls /usr/bin'), /\scloud-init\s/);
  });

  it('has sshd, no host keys, and makes them at start', async () => {
    assert.match(await debugfs(file, 'ls /usr/sbin'), /\ssshd\s/);
    const ssh = await debugfs(file, 'ls /etc/ssh');
    assert.doesNotMatch(ssh, /ssh_host_/);
    assert.match(await debugfs(file, 'cat /etc/systemd/system/ssh.service.d/overcast-host-keys.conf'), /^ExecStartPre=.*ssh-keygen -q -t ed25519 .*ssh_host_ed25519_key'$/m);
    assert.match(await debugfs(file, 'cat /etc/systemd/system/overcast-rsa-host-key.service'), /^After=ssh\.service$/m);
    assert.equal(await debugfs(file, 'cat /etc/ssh/sshd_config.d/50-cloud-init.conf'), 'PasswordAuthentication no\n', 'passwords off where cloud-init looks');
    assert.match(await debugfs(file, 'stat /etc/systemd/system/multi-user.target.wants/overcast-rsa-host-key.service'), /Fast link dest: "\/etc\/systemd\/system\/overcast-rsa-host-key.service"/);
    assert.match(await debugfs(file, 'stat /etc/systemd/system/multi-user.target.wants/ssh.service'), /Fast link dest: "\/lib\/systemd\/system\/ssh.service"/);
  });

  it('has the manifest, the VPC resolver, an empty machine-id, masked container-hostile units, clean caches', async () => {
    assert.deepEqual(parseManifest(await debugfs(file, 'cat /etc/overcast/image.json')), DEBIAN_MANIFEST);
    assert.equal(await debugfs(file, 'cat /etc/resolv.conf'), 'nameserver 169.254.169.253\n');
    assert.equal(await debugfs(file, 'cat /etc/machine-id'), '');
    assert.doesNotMatch(await debugfs(file, 'ls /etc'), /\shostname\s/);
    for (const unit of MASKED_UNITS) {
      assert.match(await debugfs(file, `stat /etc/systemd/system/${unit}`), /Fast link dest: "\/dev\/null"/, unit);
    }
    assert.doesNotMatch(await debugfs(file, 'ls /var/cache/apt/archives'), /\.deb/);
    assert.doesNotMatch(await debugfs(file, 'ls /var/lib/apt/lists'), /Packages/);
    assert.match(await debugfs(file, 'cat /etc/passwd'), /^root:/m);
    assert.match(await debugfs(file, 'ls /usr/lib/systemd'), /\ssystemd\s/);
  });
});
