/**
 * Real instances driven by the clients users have: the AWS CLI v2 launches the
 * tiny image with user data from a file and `aws ec2 wait`s for it; boto3
 * launches another with its waiter; OpenSSH's `ssh` logs into both at their
 * public IPs with the key pairs the CLI and boto3 created, and finds what the
 * user data wrote. Root and the container runtime needed, plus Debian's
 * awscli, python3-boto3 and openssh-client (what .ci/run installs).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resetHost } from '../../src/host-reset.js';
import { realRuntimeSkip } from '../helpers/real-instances.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { awsCli, clientEnv, haveAwsCli, PYTHON, run } from './cli.js';

const PREFIX = 'ovtk';
const POOL = '203.0.113.128/27';
const skip =
  (await realRuntimeSkip(PREFIX)) ??
  (!haveAwsCli() || !existsSync('/usr/lib/python3/dist-packages/boto3') || !existsSync('/usr/bin/ssh')
    ? 'Debian awscli, python3-boto3 and openssh-client are needed (.ci/run installs them)'
    : undefined);

const work = mkdtempSync(join(tmpdir(), 'overcast-clients-'));

/** OpenSSH, retried (bounded) while the guest comes up. */
async function ssh(ip: string, keyFile: string, command: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 60; i++) {
    const r = await run(
      '/usr/bin/ssh',
      ['-i', keyFile, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=3', '-o', 'BatchMode=yes', `admin@${ip}`, command],
      { PATH: '/usr/bin:/bin', HOME: work },
      10_000,
    );
    if (r.code === 0) return r.stdout;
    last = r.stderr;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`ssh admin@${ip}: ${last}`);
}

const BOTO3 = String.raw`
import base64, sys, boto3
endpoint, image, key_file = sys.argv[1], sys.argv[2], sys.argv[3]
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1")
key = ec2.create_key_pair(KeyName="from-boto3", KeyType="ed25519")
with open(key_file, "w") as f:
    f.write(key["KeyMaterial"])
sg = ec2.create_security_group(GroupName="ssh-from-boto3", Description="ssh")["GroupId"]
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
out = ec2.run_instances(ImageId=image, InstanceType="t3.nano", MinCount=1, MaxCount=1, KeyName="from-boto3", SecurityGroupIds=[sg],
                        UserData="#!/bin/sh\necho written by boto3 user data > /var/tmp/boto3\n")
iid = out["Instances"][0]["InstanceId"]
ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
ip = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["PublicIpAddress"]
print(iid, ip)
`;

describe('real instances through the AWS CLI, boto3 and OpenSSH', { skip, timeout: 300_000 }, () => {
  let t: TestServer;
  let image: string;
  const ids: string[] = [];

  before(async () => {
    t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: POOL, imageDir: '/var/tmp/overcast-images' });
    image = await awsCli(t.url).text('describe-images', '--owners', 'amazon', '--filters', 'Name=name,Values=overcast/tiny-*', '--query', 'Images[0].ImageId');
  });

  after(async () => {
    const config = t.server.config;
    try {
      if (ids.length > 0) await awsCli(t.url).raw(['terminate-instances', '--instance-ids', ...ids]);
      await t.server.close();
    } finally {
      const left = await resetHost(config, { cgroups: false });
      await t.close();
      rmSync(work, { recursive: true, force: true });
      assert.deepEqual(left, [], 'nothing of this server is left on the host');
    }
  });

  it('aws ec2 run-instances --user-data file://… ; aws ec2 wait instance-running; ssh admin@<public ip>', async () => {
    const cli = awsCli(t.url);
    const pem = join(work, 'cli.pem');
    writeFileSync(pem, await cli.text('create-key-pair', '--key-name', 'from-cli', '--query', 'KeyMaterial'));
    chmodSync(pem, 0o600);
    const script = join(work, 'user-data.sh');
    writeFileSync(script, '#!/bin/sh\necho written by cli user data > /var/tmp/cli\n');
    // as on EC2, the default group admits only its own members: SSH from anywhere is opened by hand
    const open = await cli.raw(['authorize-security-group-ingress', '--group-name', 'default', '--protocol', 'tcp', '--port', '22', '--cidr', '0.0.0.0/0']);
    assert.equal(open.code, 0, open.stderr);
    const id = await cli.text('run-instances', '--image-id', image, '--instance-type', 't3.nano', '--key-name', 'from-cli', '--user-data', `file://${script}`, '--query', 'Instances[0].InstanceId');
    ids.push(id);
    const wait = await cli.raw(['wait', 'instance-running', '--instance-ids', id]);
    assert.equal(wait.code, 0, wait.stderr);
    const ip = await cli.text('describe-instances', '--instance-ids', id, '--query', 'Reservations[0].Instances[0].PublicIpAddress');
    assert.equal(await ssh(ip, pem, 'for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /var/tmp/cli ] && break; sleep 0.2; done; cat /var/tmp/cli'), 'written by cli user data\n');
  });

  it('boto3 run_instances with its waiter; ssh admin@<public ip>', async () => {
    const keyFile = join(work, 'boto3.pem');
    const r = await run(PYTHON, ['-c', BOTO3, t.url, image, keyFile], clientEnv('us-east-1'), 180_000);
    assert.equal(r.code, 0, r.stderr);
    const [id, ip] = r.stdout.trim().split(' ');
    ids.push(id!);
    chmodSync(keyFile, 0o600);
    assert.equal(await ssh(ip!, keyFile, 'for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /var/tmp/boto3 ] && break; sleep 0.2; done; cat /var/tmp/boto3'), 'written by boto3 user data\n');
  });
});
