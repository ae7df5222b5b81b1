/**
 * `overcast host reset`: a server with real instances runs, the command takes
 * everything it put on the host away (machines, namespaces, the volume pool),
 * and says the host is clean; the cgroup layout, shared by every Overcast
 * process on the host, stays while another one still uses it. Root and the
 * container runtime needed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CreateKeyPairCommand, DescribeImagesCommand, DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { hostLeftovers } from '../../src/host-reset.js';
import { cgroupLayout, holdCgroupLayout, releaseCgroupLayout } from '../../src/host/cgroups.js';
import { realRuntimeSkip } from '../helpers/real-instances.js';
import { startTestServer } from '../helpers/server.js';
import { overcast } from './run.js';

const PREFIX = 'ovcr';
const skip = await realRuntimeSkip(PREFIX);

describe('overcast host reset', { skip, timeout: 120_000 }, () => {
  it('removes a running instance, its namespaces and the volume pool, and reports a clean host', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'overcast-reset-'));
    try {
      const t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: '203.0.113.224/28', imageDir: '/var/tmp/overcast-images' }, dataDir);
      const c = t.client();
      const image = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }))).Images![0]!.ImageId!;
      await c.send(new CreateKeyPairCommand({ KeyName: 'r' }));
      const id = (await c.send(new RunInstancesCommand({ ImageId: image, InstanceType: 't3.nano', MinCount: 1, MaxCount: 1, KeyName: 'r' }))).Instances![0]!.InstanceId!;
      for (let i = 0; i < 300; i++) {
        const s = (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State?.Name;
        if (s === 'running') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await t.server.close(); // instances outlive the server
      const config = t.server.config;
      assert.ok((await hostLeftovers(config)).length > 0, 'the running instance has things on the host');
      assert.ok(readdirSync(join(dataDir, 'machines')).includes(id));

      const r = await overcast(['host', 'reset', '--data-dir', dataDir, '--host-prefix', PREFIX, '--keep-cgroups']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /machines removed: 1/);
      assert.match(r.stdout, /the host is clean/);
      assert.deepEqual(await hostLeftovers(config), []);
      assert.equal(existsSync(join(dataDir, 'machines', id)), false);
      assert.equal(existsSync(`/run/netns/${PREFIX}-${id}`), false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('leaves the cgroup layout while another Overcast process uses it, and says which', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'overcast-reset-'));
    // this test process stands for another server on the host: it registered as the drivers do before a launch
    await holdCgroupLayout('host-reset test, standing for another server');
    const hugetlbMounted = () => readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === '/sys/fs/cgroup/hugetlb');
    const mountedBefore = hugetlbMounted();
    try {
      const r = await overcast(['host', 'reset', '--data-dir', dataDir, '--host-prefix', PREFIX]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`cgroup layout kept: still used by .*process ${process.pid} \\(host-reset test, standing for another server\\)`));
      assert.doesNotMatch(r.stdout, /cgroup layout restored/);
      assert.match(r.stdout, /the host is clean/);
      assert.notEqual(cgroupLayout().kind, 'hybrid', 'crun still runs here');
      assert.equal(hugetlbMounted(), mountedBefore, 'the hugetlb hierarchy is as it was');
    } finally {
      await releaseCgroupLayout();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an unknown subcommand is a usage error', async () => {
    const r = await overcast(['host', 'explode']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown subcommand 'explode'/);
  });
});
