/**
 * A real Ansible playbook (Debian `ansible`, with its amazon.aws collection and boto3)
 * against Overcast: a VPC with a subnet, an internet gateway, a route table, a
 * security group, a key pair, two tagged instances with user data found by an AMI
 * lookup, an Elastic IP, a volume, its snapshot and an image of an instance; then
 * a stop/start cycle and everything taken down in reverse. Creating twice changes nothing the second time, and so does
 * deleting twice.
 */
import {
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { clientEnv, run } from './cli.js';

const PLAYBOOK = fileURLToPath(new URL('./ansible/playbook.yml', import.meta.url));
const ANSIBLE_PLAYBOOK = '/usr/bin/ansible-playbook';
const COLLECTION = '/usr/lib/python3/dist-packages/ansible_collections/amazon/aws';
const haveAnsible = existsSync(ANSIBLE_PLAYBOOK) && existsSync(COLLECTION);
const REGION = 'eu-west-1';

/** What the json callback prints: per task, per host, the module's result; per host, the totals. */
interface TaskResult {
  changed?: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: unknown;
  results?: TaskResult[];
}
interface PlaybookReport {
  plays: { tasks: { task: { name: string }; hosts: Record<string, TaskResult> }[] }[];
  stats: Record<string, { ok: number; changed: number; failures: number; skipped: number; unreachable: number }>;
}

interface PhaseResult {
  report: PlaybookReport;
  /** names of the tasks that reported a change */
  changed: string[];
}

describe('Ansible playbook (amazon.aws)', { skip: haveAnsible ? false : 'Debian ansible is not installed (.ci/run installs it)' }, () => {
  let t: TestServer;
  let home: string;
  before(async () => {
    t = await startTestServer();
    home = mkdtempSync(join(tmpdir(), 'overcast-ansible-'));
  });
  after(async () => {
    await t.close();
    rmSync(home, { recursive: true, force: true });
  });

  async function phase(name: 'create' | 'cycle' | 'delete'): Promise<PhaseResult> {
    const env = clientEnv(REGION, {
      HOME: home,
      ANSIBLE_LOCAL_TEMP: join(home, 'tmp'),
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
      ANSIBLE_STDOUT_CALLBACK: 'json',
      ANSIBLE_LOCALHOST_WARNING: 'false',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'false',
    });
    const args = ['-i', 'localhost,', PLAYBOOK, '-e', `endpoint=${t.url}`, '-e', `region=${REGION}`, '-e', `phase=${name}`];
    const r = await run(ANSIBLE_PLAYBOOK, args, env, 90_000);
    let report: PlaybookReport;
    try {
      report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as PlaybookReport;
    } catch {
      assert.fail(`ansible-playbook (${name}) printed no report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
    const tasks = report.plays.flatMap((p) => p.tasks);
    const failed = tasks.filter((task) => task.hosts.localhost?.failed === true || task.hosts.localhost?.results?.some((x) => x.failed));
    assert.deepEqual(
      failed.map((task) => `${task.task.name}: ${JSON.stringify(task.hosts.localhost?.msg ?? task.hosts.localhost?.results?.find((x) => x.failed)?.msg)}`),
      [],
      `phase ${name} failed (exit ${r.code}); stderr:\n${r.stderr}`,
    );
    assert.equal(r.code, 0, `phase ${name} exited ${r.code}:\n${r.stderr}`);
    return { report, changed: tasks.filter((task) => task.hosts.localhost?.changed === true).map((task) => task.task.name) };
  }

  it('creates, finds, cycles and deletes, changing nothing when run again', { timeout: 240_000 }, async () => {
    const c = t.client(REGION);

    const first = await phase('create');
    assert.deepEqual(first.changed, [
      'VPC',
      'subnet',
      'internet gateway',
      'route table',
      'security group',
      'key pair',
      'instances',
      'Elastic IP',
      'volume',
      'snapshot of the volume',
      'image of the first instance',
    ]);
    const vpcs = (await c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['ansible-web'] }] }))).Vpcs ?? [];
    assert.equal(vpcs.length, 1);
    const running = (
      await c.send(new DescribeInstancesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcs[0]!.VpcId!] }] }))
    ).Reservations!.flatMap((r) => r.Instances ?? []);
    assert.deepEqual(running.map((i) => i.State?.Name), ['running', 'running']);
    assert.deepEqual(running.map((i) => i.KeyName), ['ansible-web-key', 'ansible-web-key']);

    const again = await phase('create');
    assert.deepEqual(again.changed, [], 'the second run changes nothing');
    assert.equal(again.report.stats.localhost?.changed, 0);

    const cycled = await phase('cycle');
    assert.deepEqual(cycled.changed, ['stop', 'start']);

    const deleted = await phase('delete');
    assert.ok(deleted.changed.includes('instances terminated'), deleted.changed.join(', '));
    assert.ok(deleted.changed.includes('volume gone'), deleted.changed.join(', '));
    assert.ok(deleted.changed.includes('Elastic IP released'), deleted.changed.join(', '));
    assert.ok(deleted.changed.includes('image deregistered, with its snapshots'), deleted.changed.join(', '));
    assert.ok(deleted.changed.includes('snapshot gone'), deleted.changed.join(', '));
    assert.deepEqual((await c.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images, []);
    assert.deepEqual((await c.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots, []);
    assert.deepEqual(
      (await c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['ansible-web'] }] }))).Vpcs,
      [],
    );
    assert.deepEqual((await c.send(new DescribeAddressesCommand({}))).Addresses, []);
    const volumes = (await c.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:Name', Values: ['ansible-web-data'] }] }))).Volumes ?? [];
    assert.deepEqual(volumes, []);
    assert.deepEqual((await c.send(new DescribeKeyPairsCommand({}))).KeyPairs, []);

    const deletedAgain = await phase('delete');
    assert.deepEqual(deletedAgain.changed, [], 'deleting again changes nothing');
  });
});
