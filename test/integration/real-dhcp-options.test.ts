/**
 * A VPC's DHCP options reach its running instances in place, as a DHCP lease
 * renewal hands a new set out on EC2: after AssociateDhcpOptions (a new set,
 * then `default`) the guest's /etc/resolv.conf — the host file the container
 * driver binds over it, rewritten on the same inode — shows the new search
 * domain, with the instance running all along (the same PID 1). Through
 * @aws-sdk/client-ec2 and SSH into a real tiny instance; nothing is left on the
 * host.
 *
 * Runs as root where the container runtime runs; skipped with the reason elsewhere.
 */
import {
  AssociateDhcpOptionsCommand,
  CreateDhcpOptionsCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { endRealServer, realRuntimeSkip, rootShell, runningInstance, sleep, startRealServer } from '../helpers/real-instances.js';
import type { TestServer } from '../helpers/server.js';

const PREFIX = 'ovhe';
const POOL = '198.51.100.64/28';

const probeWhy = await realRuntimeSkip(PREFIX);

describe("a running instance follows its VPC's DHCP options", { skip: probeWhy, timeout: 300_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let imageId: string;
  let key: string;
  const launched: string[] = [];

  before(async () => {
    ({ t, c, imageId, key } = await startRealServer(PREFIX, POOL, 'he'));
  });

  after(async () => {
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host');
  });

  /** The guest's resolv.conf once it shows `want` (bounded: 100 looks, 100 ms apart). */
  async function resolvConfShowing(i: Instance, want: RegExp): Promise<string> {
    let text = '';
    for (let n = 0; n < 100; n++) {
      text = await rootShell(i, key, 'cat /etc/resolv.conf');
      if (want.test(text)) return text;
      await sleep(100);
    }
    assert.fail(`/etc/resolv.conf never showed ${want}: ${text}`);
  }

  it('AssociateDhcpOptions rewrites /etc/resolv.conf inside the running guest, without a restart', async () => {
    const id = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.nano', MinCount: 1, MaxCount: 1, KeyName: 'he' }))).Instances![0]!.InstanceId!;
    launched.push(id);
    const i = await runningInstance(c, id);
    const first = await rootShell(i, key, "cat /etc/resolv.conf; echo; cut -d' ' -f22 /proc/1/stat; stat -c %i /etc/resolv.conf");
    assert.match(first, /^search ec2\.internal$/m, "the default set's domain name at launch");
    const [init, inode] = first.trim().split('\n').slice(-2);

    const set = await c.send(
      new CreateDhcpOptionsCommand({ DhcpConfigurations: [{ Key: 'domain-name', Values: ['corp.example lab.example'] }, { Key: 'domain-name-servers', Values: ['AmazonProvidedDNS'] }] }),
    );
    await c.send(new AssociateDhcpOptionsCommand({ VpcId: i.VpcId, DhcpOptionsId: set.DhcpOptions!.DhcpOptionsId }));
    const next = await resolvConfShowing(i, /^search corp\.example lab\.example$/m);
    assert.match(next, /^nameserver 169\.254\.169\.253$/m);
    assert.doesNotMatch(next, /ec2\.internal/);
    const after = (await rootShell(i, key, "cut -d' ' -f22 /proc/1/stat; stat -c %i /etc/resolv.conf")).trim().split('\n');
    assert.deepEqual(after, [init, inode], 'the same PID 1 (its start time) and the same file: rewritten in place');
    const now = (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
    assert.equal(now.State!.Name, 'running');
    assert.equal(now.LaunchTime!.getTime(), i.LaunchTime!.getTime(), 'not restarted');

    // `default`: no options, no name server and no search domain
    await c.send(new AssociateDhcpOptionsCommand({ VpcId: i.VpcId, DhcpOptionsId: 'default' }));
    const none = await resolvConfShowing(i, /\(default\)/);
    assert.doesNotMatch(none, /^(search|nameserver) /m);
  });
});
