/**
 * The one suite every Hypervisor driver must pass (run by test/compute/<driver>.test.ts).
 * It checks the interface contract only: states, idempotent repeats, errors
 * for unknown ids, list(). Driver-specific behaviour (real processes, limits,
 * networking) belongs in the driver's own tests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { HypervisorError, type Hypervisor, type InstanceSpec } from '../../src/compute/hypervisor.js';

export interface ConformanceOptions {
  /** extra time a driver needs per operation (for timeouts) */
  timeoutMs?: number;
  /** a spec a driver can really boot (image, sizes); defaults to a small generic one */
  spec?: (id: string) => InstanceSpec;
}

export function testSpec(id: string): InstanceSpec {
  return {
    instanceId: id,
    region: 'us-east-1',
    availabilityZone: 'us-east-1a',
    imageId: 'ami-0123456789abcdef0',
    instanceType: 't2.micro',
    vcpus: 1,
    memoryMiB: 1024,
    architecture: 'x86_64',
    network: [
      {
        networkInterfaceId: 'eni-0123456789abcdef0',
        deviceIndex: 0,
        privateIp: '172.31.0.10',
        mac: '02:00:00:00:00:0a',
        subnetCidr: '172.31.0.0/20',
        gateway: '172.31.0.1',
        securityGroupIds: ['sg-0123456789abcdef0'],
      },
    ],
    userData: Buffer.from('#!/bin/sh\necho hello\n'),
    publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvercastTestKeyOvercastTestKeyOvercastTe test',
    hostname: 'ip-172-31-0-10.ec2.internal',
    blockDevices: [{ deviceName: '/dev/xvda', kind: 'ebs', volumeId: 'vol-0123456789abcdef0', sizeGiB: 8, root: true }],
  };
}

const newInstanceId = (): string => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

async function rejectsWith(p: Promise<unknown>, code: HypervisorError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof HypervisorError, `expected a HypervisorError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

export function hypervisorConformance(name: string, factory: () => Hypervisor | Promise<Hypervisor>, opts: ConformanceOptions = {}): void {
  const specFor = opts.spec ?? testSpec;
  const timeout = opts.timeoutMs ?? 10_000;

  describe(`Hypervisor conformance: ${name}`, { timeout }, () => {
    let hv: Hypervisor;
    const made: string[] = [];
    const fresh = (): InstanceSpec => {
      const s = specFor(newInstanceId());
      made.push(s.instanceId);
      return s;
    };

    before(async () => {
      hv = await factory();
    });
    afterEach(async () => {
      for (const id of made.splice(0)) await hv.terminate(id);
    });
    after(async () => {
      await hv.close();
    });

    it('has a name', () => {
      assert.equal(typeof hv.name, 'string');
      assert.ok(hv.name.length > 0);
    });

    it('launch → running, listed, with console output', async () => {
      const spec = fresh();
      assert.equal(await hv.describe(spec.instanceId), undefined);
      await hv.launch(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
      assert.ok((await hv.list()).includes(spec.instanceId));
      assert.equal(typeof (await hv.consoleOutput(spec.instanceId)), 'string');
    });

    it('launch is idempotent', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.launch(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
      assert.equal((await hv.list()).filter((id) => id === spec.instanceId).length, 1);
    });

    it('stop → stopped; start → running; repeats are no-ops', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.stop(spec.instanceId);
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      await hv.stop(spec.instanceId);
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      assert.ok((await hv.list()).includes(spec.instanceId), 'a stopped machine is still listed');
      await hv.start(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
      await hv.start(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
    });

    it('forced and hibernating stops, then start again', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.stop(spec.instanceId, { force: true });
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      await hv.start(spec);
      await hv.stop(spec.instanceId, { hibernate: true });
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      await hv.start(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
    });

    it('launch of a stopped machine starts it', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.stop(spec.instanceId);
      await hv.launch(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
    });

    it('start applies a changed spec (e.g. a new instance type)', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.stop(spec.instanceId);
      await hv.start({ ...spec, instanceType: 't2.small', memoryMiB: 2048 });
      assert.equal(await hv.describe(spec.instanceId), 'running');
    });

    it('reboot keeps it running; refused while stopped', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.reboot(spec.instanceId);
      assert.equal(await hv.describe(spec.instanceId), 'running');
      await hv.stop(spec.instanceId);
      await rejectsWith(hv.reboot(spec.instanceId), 'invalid-state');
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
    });

    it('terminate → absent, from running and from stopped; repeat is a no-op', async () => {
      const a = fresh();
      const b = fresh();
      await hv.launch(a);
      await hv.launch(b);
      await hv.stop(b.instanceId);
      await hv.terminate(a.instanceId);
      await hv.terminate(b.instanceId);
      assert.equal(await hv.describe(a.instanceId), undefined);
      assert.equal(await hv.describe(b.instanceId), undefined);
      const listed = await hv.list();
      assert.ok(!listed.includes(a.instanceId) && !listed.includes(b.instanceId));
      await hv.terminate(a.instanceId);
      assert.equal(await hv.describe(a.instanceId), undefined);
    });

    it('unknown ids: stop, start, reboot and consoleOutput fail with not-found; describe is undefined', async () => {
      const spec = specFor(newInstanceId());
      await rejectsWith(hv.stop(spec.instanceId), 'not-found');
      await rejectsWith(hv.start(spec), 'not-found');
      await rejectsWith(hv.reboot(spec.instanceId), 'not-found');
      await rejectsWith(hv.consoleOutput(spec.instanceId), 'not-found');
      assert.equal(await hv.describe(spec.instanceId), undefined);
      await hv.terminate(spec.instanceId); // no-op
      assert.ok(!(await hv.list()).includes(spec.instanceId));
    });

    it('list holds every machine once, and several machines are independent', async () => {
      const specs = [fresh(), fresh(), fresh()];
      await Promise.all(specs.map((s) => hv.launch(s)));
      await hv.stop(specs[1]!.instanceId);
      const listed = await hv.list();
      for (const s of specs) assert.equal(listed.filter((id) => id === s.instanceId).length, 1);
      assert.equal(await hv.describe(specs[0]!.instanceId), 'running');
      assert.equal(await hv.describe(specs[1]!.instanceId), 'stopped');
      assert.equal(await hv.describe(specs[2]!.instanceId), 'running');
    });
  });
}
