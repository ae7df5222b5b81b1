/**
 * The debian-12 image as a real instance: systemd as PID 1, cloud-init with
 * EC2's datasource through the metadata service. #cloud-config user data (a
 * user, write_files, runcmd) and multipart MIME user data (a shell script part
 * and a cloud-config part) are applied at first boot, checked over SSH as
 * `admin` with the key pair's key, as on Debian's EC2 AMIs.
 *
 * Builds the image on first use (a few minutes; cached in the image
 * directory). Root and the container runtime's tools needed; skipped with the
 * reason elsewhere.
 */
import { CreateKeyPairCommand, DescribeImagesCommand, DescribeInstancesCommand, RunInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { endRealServer, openSshInDefaultGroup, realRuntimeSkip, sleep, sshExec } from '../helpers/real-instances.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const IMAGE_DIR = process.env.OVERCAST_TEST_IMAGE_DIR ?? '/var/tmp/overcast-images';
const PREFIX = 'ovtd';
const POOL = '203.0.113.192/27';

const skip = await realRuntimeSkip(PREFIX);

const CLOUD_CONFIG = `#cloud-config
users:
  - default
  - name: alice
    shell: /bin/bash
    gecos: Alice from cloud-config
write_files:
  - path: /etc/overcast/written-by-cloud-init
    content: |
      written by write_files
runcmd:
  - [sh, -c, "echo runcmd ran as $(id -un) > /var/tmp/runcmd-ran"]
`;

const BOUNDARY = '==OVERCAST-TEST-BOUNDARY==';
const MULTIPART = [
  'Content-Type: multipart/mixed; boundary="' + BOUNDARY + '"',
  'MIME-Version: 1.0',
  '',
  '--' + BOUNDARY,
  'Content-Type: text/x-shellscript; charset="us-ascii"',
  'MIME-Version: 1.0',
  'Content-Disposition: attachment; filename="part-1.sh"',
  '',
  '#!/bin/sh',
  'echo "from the shell part" > /var/tmp/shell-part',
  '',
  '--' + BOUNDARY,
  'Content-Type: text/cloud-config; charset="us-ascii"',
  'MIME-Version: 1.0',
  'Content-Disposition: attachment; filename="part-2.yaml"',
  '',
  '#cloud-config',
  'write_files:',
  '  - path: /var/tmp/cloud-config-part',
  '    content: from the cloud-config part',
  '',
  '--' + BOUNDARY + '--',
  '',
].join('\n');

describe('the debian-12 image with cloud-init', { skip, timeout: 900_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let imageId: string;
  let key: string;
  const launched: string[] = [];

  async function runningInstance(userData: string): Promise<Instance> {
    const out = await c.send(
      new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.small', MinCount: 1, MaxCount: 1, KeyName: 'deb', UserData: Buffer.from(userData).toString('base64') }),
    );
    const id = out.Instances![0]!.InstanceId!;
    launched.push(id);
    // the first launch builds the image: allow minutes, polling every second
    for (let i = 0; i < 900; i++) {
      const d = (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
      if (d.State?.Name === 'running') return d;
      assert.notEqual(d.State?.Name, 'terminated', `the launch failed: ${d.StateReason?.Message}`);
      await sleep(1000);
    }
    throw new Error(`${id} did not run`);
  }

  /** Runs `command` over SSH once cloud-init has finished (bounded: 60 tries, 0.5 s apart). */
  async function afterCloudInit(ip: string, command: string): Promise<string> {
    let last: unknown;
    for (let i = 0; i < 60; i++) {
      try {
        const r = await sshExec(ip, key, `cloud-init status --wait >/dev/null 2>&1; ${command}`, { timeoutMs: 8000 });
        if (r.code === 0) return r.stdout;
        last = new Error(`exit ${r.code}: ${r.stdout}`);
      } catch (e) {
        last = e;
      }
      await sleep(500);
    }
    throw new Error(`ssh ${ip}: ${(last as Error).message}`);
  }

  before(async () => {
    t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: POOL, imageDir: IMAGE_DIR });
    c = t.client();
    await openSshInDefaultGroup(c);
    const images = await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/debian-12-amd64-*'] }] }));
    imageId = images.Images![0]!.ImageId!;
    key = (await c.send(new CreateKeyPairCommand({ KeyName: 'deb' }))).KeyMaterial!;
  });

  after(async () => {
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host');
  });

  it('#cloud-config: the default user admin has the key, alice exists, write_files and runcmd ran; systemd runs', async () => {
    const i = await runningInstance(CLOUD_CONFIG);
    const out = await afterCloudInit(
      i.PublicIpAddress!,
      'cat /etc/overcast/written-by-cloud-init /var/tmp/runcmd-ran; getent passwd alice | cut -d: -f5; sudo -n true && echo sudo-ok; systemctl is-system-running; cloud-init status',
    );
    const lines = out.trim().split('\n');
    assert.equal(lines[0], 'written by write_files');
    assert.equal(lines[1], 'runcmd ran as root');
    assert.equal(lines[2], 'Alice from cloud-config');
    assert.equal(lines[3], 'sudo-ok', 'admin has passwordless sudo, as on Debian AMIs');
    assert.match(lines[4]!, /^(running|degraded)$/);
    assert.equal(lines[5], 'status: done');
    const hostname = await afterCloudInit(i.PublicIpAddress!, 'hostname -f');
    assert.equal(hostname.trim(), i.PrivateDnsName, 'the private DNS name as hostname');
    // its own host keys: Ed25519 and ECDSA before the first login, RSA made once sshd ran, then offered too
    const keys = await afterCloudInit(
      i.PublicIpAddress!,
      'for n in $(seq 50); do systemctl is-active -q overcast-rsa-host-key.service && break; sleep 0.2; done; ssh-keyscan -t rsa,ecdsa,ed25519 127.0.0.1 2>/dev/null | cut -d" " -f2 | sort; sudo sshd -T | grep -i "^passwordauthentication"; sudo journalctl -b -u ssh.service --no-pager | grep -c \"Received signal 15\" || true',
    );
    const [ecdsa, ed25519, rsa, passwords, restarts] = keys.trim().split('\n');
    assert.deepEqual([ecdsa, ed25519, rsa], ['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ssh-rsa']);
    assert.equal(passwords, 'passwordauthentication no', 'keys only');
    assert.equal(restarts, '0', 'cloud-init found passwords off already: sshd was not restarted under the first login');
  });

  it('multipart MIME user data: the shell script part and the cloud-config part both ran', async () => {
    const i = await runningInstance(MULTIPART);
    const out = await afterCloudInit(i.PublicIpAddress!, 'cat /var/tmp/shell-part /var/tmp/cloud-config-part');
    assert.equal(out, 'from the shell part\nfrom the cloud-config part');
  });
});
