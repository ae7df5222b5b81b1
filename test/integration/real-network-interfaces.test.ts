/**
 * Network interfaces on a real instance (container runtime), through
 * @aws-sdk/client-ec2 and ssh2: a second interface attached to the running
 * tiny instance appears inside it as eth1 with its address and goes at the
 * detach; a secondary address assigned to eth0 appears on eth0 in place (the
 * SSH session's device stays); nothing is left on the host afterwards.
 *
 * Runs as root on a host with crun, iproute2, nftables, xfsprogs,
 * busybox-static and dropbear-bin; skipped with the reason elsewhere.
 */
import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { endRealServer, realRuntimeSkip, sshExec, startRealServer, until, type SshResult } from '../helpers/real-instances.js';
import type { TestServer } from '../helpers/server.js';

const PREFIX = 'ovti';
const POOL = '203.0.113.240/28';

const probeWhy = await realRuntimeSkip(PREFIX);

describe('network interfaces on a real instance (container runtime)', { skip: probeWhy, timeout: 300_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let key: string;
  let imageId: string;
  const launched: string[] = [];

  const describeOne = async (id: string): Promise<Instance> =>
    (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  const login = (ip: string, command: string): Promise<SshResult> => until(`ssh to ${ip}`, () => sshExec(ip, key, command), 100, 100);
  const eniStatus = async (id: string) => (await c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces![0]!;

  before(async () => {
    ({ t, c, imageId, key } = await startRealServer(PREFIX, POOL, 'eni'));
  });

  after(async () => {
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host');
  });

  it('a second interface appears inside the running instance as eth1 and goes at the detach; a secondary address lands on eth0 in place', async () => {
    const out = await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.small', MinCount: 1, MaxCount: 1, KeyName: 'eni' }));
    const id = out.Instances![0]!.InstanceId!;
    launched.push(id);
    const inst = await until(`${id} running`, async () => {
      const i = await describeOne(id);
      return i.State?.Name === 'running' ? i : undefined;
    }, 300);
    const ip = inst.PublicIpAddress!;
    assert.ok(ip.startsWith('203.0.113.'), ip);
    const before = await login(ip, 'ip -4 -o addr show');
    assert.doesNotMatch(before.stdout, /eth1/);

    const eni = (await c.send(new CreateNetworkInterfaceCommand({ SubnetId: inst.SubnetId }))).NetworkInterface!;
    const { AttachmentId } = await c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: id, DeviceIndex: 1 }));
    await until('attached', async () => ((await eniStatus(eni.NetworkInterfaceId!)).Attachment?.Status === 'attached' ? true : undefined), 300);
    const eth1 = await until('eth1 inside', async () => {
      const r = await login(ip, 'ip -4 -o addr show dev eth1');
      return r.code === 0 && r.stdout.includes(`inet ${eni.PrivateIpAddress}/`) ? r : undefined;
    });
    assert.match(eth1.stdout, /eth1/);

    const primary = inst.NetworkInterfaces![0]!.NetworkInterfaceId!;
    const got = await c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: primary, SecondaryPrivateIpAddressCount: 1 }));
    const secondary = got.AssignedPrivateIpAddresses![0]!.PrivateIpAddress!;
    const eth0 = await until('the secondary address on eth0', async () => {
      const r = await login(ip, 'ip -4 -o addr show dev eth0');
      return r.stdout.includes(`inet ${secondary}/`) ? r : undefined;
    });
    assert.ok(eth0.stdout.includes(`inet ${inst.PrivateIpAddress}/`), 'the primary address stays');

    await c.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    await until('available', async () => ((await eniStatus(eni.NetworkInterfaceId!)).Status === 'available' ? true : undefined), 300);
    const gone = await until('eth1 gone', async () => {
      const r = await login(ip, 'ip -4 -o addr show');
      return r.stdout.includes('eth1') ? undefined : r;
    });
    assert.ok(gone.stdout.includes(`inet ${secondary}/`), 'eth0 keeps its addresses');
  });
});
