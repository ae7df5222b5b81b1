/**
 * The store's read cache never shows anything but what SQLite holds: a seeded random
 * run of API calls (creates, deletes, tags, rules, DryRun, calls that fail half way)
 * with Describe calls in between, checking after every step that each kind's cached
 * list equals its rows read straight from SQLite.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { loadConfig } from '../../src/config.js';
import { KINDS, kindNamed } from '../../src/resources/ec2/kinds.js';
import { Ec2Error } from '../../src/domain/errors.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { random } from '../helpers/random.js';

describe('store read cache under a random run of API calls', () => {
  it('every kind lists exactly what SQLite holds, after every step', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-cache-'));
    const store = new SqliteStore(dir);
    try {
      const config = { ...loadConfig([], {}), dataDir: dir };
      const d = new Dispatcher(store, config, ec2Modules);
      const region = 'eu-central-1';
      const rnd = random(20261123);
      const pick = <T>(xs: readonly T[]): T | undefined => (xs.length === 0 ? undefined : xs[Math.floor(rnd() * xs.length)]);
      const call = (action: string, input: Record<string, unknown>): Record<string, unknown> | Ec2Error => {
        try {
          return d.invoke(action, region, 'test', input) as Record<string, unknown>;
        } catch (e) {
          if (e instanceof Ec2Error) return e;
          throw e;
        }
      };
      const raw = store.db.prepare('SELECT data FROM resources WHERE region = ? AND kind = ? ORDER BY rowid').pluck();
      const kinds = store.db.prepare('SELECT DISTINCT kind FROM resources WHERE region = ?').pluck();
      const ids = (action: string, list: string, id: string): string[] =>
        ((call(action, {}) as Record<string, Record<string, string>[]>)[list] ?? []).map((r) => r[id]!);

      let errors = 0;
      for (let step = 0; step < 300; step++) {
        const vpcRecords = ((call('DescribeVpcs', {}) as Record<string, Record<string, string>[]>).Vpcs ?? []);
        const vpcs = vpcRecords.map((v) => v.VpcId!);
        const subnets = ids('DescribeSubnets', 'Subnets', 'SubnetId');
        const groups = ids('DescribeSecurityGroups', 'SecurityGroups', 'GroupId');
        const chosen = pick(vpcRecords);
        const vpc = chosen?.VpcId;
        const octet = Math.floor(rnd() * 250);
        // a /24 inside the chosen VPC's /16 (sometimes taken already: a DependencyViolation or conflict)
        const subnetCidr = chosen ? `${chosen.CidrBlock!.split('.').slice(0, 2).join('.')}.${octet % 32}.0/24` : '10.0.0.0/24';
        const r = rnd();
        let out: Record<string, unknown> | Ec2Error;
        if (r < 0.15) out = call('CreateVpc', { CidrBlock: `10.${octet}.0.0/16` });
        else if (r < 0.2) out = call('CreateVpc', { CidrBlock: `10.${octet}.0.0/16`, DryRun: true });
        else if (r < 0.25) out = call('CreateVpc', { CidrBlock: `10.${octet}.0.0/33` });
        else if (r < 0.35) out = call('DeleteVpc', { VpcId: vpc ?? 'vpc-00000000' });
        else if (r < 0.5) out = call('CreateSubnet', { VpcId: vpc ?? 'vpc-00000000', CidrBlock: subnetCidr });
        else if (r < 0.57) out = call('DeleteSubnet', { SubnetId: pick(subnets) ?? 'subnet-00000000' });
        else if (r < 0.67) out = call('CreateTags', { Resources: [pick([...vpcs, ...subnets, ...groups]) ?? 'vpc-00000000'], Tags: [{ Key: 'k', Value: String(step) }] });
        else if (r < 0.77) out = call('CreateSecurityGroup', { GroupName: `g${step}`, Description: 'd', VpcId: vpc });
        else if (r < 0.9) {
          out = call('AuthorizeSecurityGroupIngress', {
            GroupId: pick(groups) ?? 'sg-00000000',
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: `10.${octet % 4}.0.0/16` }] }],
          });
        } else out = call('DeleteSecurityGroup', { GroupId: pick(groups) ?? 'sg-00000000' });
        if (out instanceof Ec2Error) errors++;

        for (const kind of kinds.all(region) as string[]) {
          const cached = store.collection<unknown>(kindNamed(kind)!).list(region);
          const stored = (raw.all(region, kind) as string[]).map((s) => JSON.parse(s) as unknown);
          assert.deepEqual(cached, stored, `step ${step}: ${kind} differs from SQLite`);
        }
      }
      // the run exercised failures and rollbacks as well as successes
      assert.ok(errors > 30, `only ${errors} calls failed`);
      assert.ok(store.collection(KINDS.subnet).list(region).length > 6, 'subnets were created');
      assert.ok(store.collection(KINDS.securityGroupRule).list(region).length > 10, 'rules were added');
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
