import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteManagedPrefixListCommand,
  DescribeManagedPrefixListsCommand,
  DescribePrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  GetManagedPrefixListAssociationsCommand,
  GetManagedPrefixListEntriesCommand,
  ModifyManagedPrefixListCommand,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
  type ManagedPrefixList,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { prefixListCidrs } from '../../src/resources/ec2/prefix-lists.js';
import { internalContext, type ChangeEvent } from '../../src/resources/context.js';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { loadConfig, type Config } from '../../src/config.js';

describe('managed prefix lists', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let seq = 0;
  const uniq = (p: string) => `${p}-${++seq}`;

  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
  });
  after(() => t.close());

  async function create(
    entries: { Cidr: string; Description?: string }[] = [],
    opts: { MaxEntries?: number; AddressFamily?: string; PrefixListName?: string } = {},
  ): Promise<ManagedPrefixList> {
    const out = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: opts.PrefixListName ?? uniq('list'),
        MaxEntries: opts.MaxEntries ?? 10,
        AddressFamily: opts.AddressFamily ?? 'IPv4',
        Entries: entries,
      }),
    );
    return out.PrefixList!;
  }
  async function describe1(id: string): Promise<ManagedPrefixList> {
    const out = await ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] }));
    assert.equal(out.PrefixLists?.length, 1);
    return out.PrefixLists![0]!;
  }
  async function entries(id: string, TargetVersion?: number) {
    const out = await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, TargetVersion }));
    return (out.Entries ?? []).map((e) => (e.Description === undefined ? e.Cidr : `${e.Cidr} ${e.Description}`));
  }
  async function group(): Promise<string> {
    const name = uniq('grp');
    return (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }))).GroupId!;
  }
  async function allowFrom(groupId: string, prefixListId: string, port = 443): Promise<void> {
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, PrefixListIds: [{ PrefixListId: prefixListId, Description: 'from the list' }] }],
      }),
    );
  }

  describe('CreateManagedPrefixList', () => {
    it('creates a list at version 1 with its entries and tags', async () => {
      const name = uniq('office');
      const out = await ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: name,
          MaxEntries: 5,
          AddressFamily: 'IPv4',
          Entries: [{ Cidr: '10.1.0.0/16', Description: 'hq' }, { Cidr: '192.0.2.77/24' }],
          TagSpecifications: [{ ResourceType: 'prefix-list', Tags: [{ Key: 'team', Value: 'net' }] }],
        }),
      );
      const pl = out.PrefixList!;
      assert.match(pl.PrefixListId!, /^pl-[0-9a-f]{17}$/);
      assert.equal(pl.PrefixListName, name);
      assert.equal(pl.AddressFamily, 'IPv4');
      assert.equal(pl.State, 'create-complete');
      assert.equal(pl.Version, 1);
      assert.equal(pl.MaxEntries, 5);
      assert.equal(pl.OwnerId, '123456789012');
      assert.equal(pl.PrefixListArn, `arn:aws:ec2:us-east-1:123456789012:prefix-list/${pl.PrefixListId}`);
      assert.deepEqual(pl.Tags, [{ Key: 'team', Value: 'net' }]);
      assert.deepEqual(await entries(pl.PrefixListId!), ['10.1.0.0/16 hq', '192.0.2.0/24']);
      const d = await describe1(pl.PrefixListId!);
      assert.deepEqual(d, pl);
    });

    it('takes IPv6 lists with IPv6 entries', async () => {
      const pl = await create([{ Cidr: '2001:DB8:1::/48' }], { AddressFamily: 'IPv6' });
      assert.equal(pl.AddressFamily, 'IPv6');
      assert.deepEqual(await entries(pl.PrefixListId!), ['2001:db8:1::/48']);
    });

    it('refuses bad input, and a refused call creates nothing', async () => {
      const before = (await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!.length;
      const cases: [Record<string, unknown>, string][] = [
        [{ MaxEntries: 0, AddressFamily: 'IPv4' }, 'InvalidParameterValue'],
        [{ MaxEntries: 1001, AddressFamily: 'IPv4' }, 'InvalidParameterValue'],
        [{ MaxEntries: 5, AddressFamily: 'IPv5' }, 'InvalidParameterValue'],
        [{ MaxEntries: 5, AddressFamily: 'IPv4', Entries: [{ Cidr: '2001:db8::/32' }] }, 'InvalidParameterValue'],
        [{ MaxEntries: 5, AddressFamily: 'IPv6', Entries: [{ Cidr: '10.0.0.0/8' }] }, 'InvalidParameterValue'],
        [{ MaxEntries: 5, AddressFamily: 'IPv4', Entries: [{ Cidr: '10.0.0.0/33' }] }, 'InvalidParameterValue'],
        [{ MaxEntries: 5, AddressFamily: 'IPv4', Entries: [{ Cidr: 'nonsense' }] }, 'InvalidParameterValue'],
        [{ MaxEntries: 5, AddressFamily: 'IPv4', Entries: [{ Cidr: '10.0.0.0/8' }, { Cidr: '10.1.2.3/8' }] }, 'InvalidParameterValue'],
        [{ MaxEntries: 1, AddressFamily: 'IPv4', Entries: [{ Cidr: '10.0.0.0/8' }, { Cidr: '11.0.0.0/8' }] }, 'InvalidParameterValue'],
        [{ MaxEntries: 5, AddressFamily: 'IPv4', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }] }, 'InvalidParameterValue'],
        [{ MaxEntries: 5, AddressFamily: 'IPv4', PrefixListName: 'com.amazonaws.mine' }, 'InvalidParameterValue'],
      ];
      for (const [input, code] of cases) {
        const err = await ec2Error(ec2.send(new CreateManagedPrefixListCommand({ PrefixListName: uniq('bad'), ...input } as never)));
        assert.equal(err.code, code, JSON.stringify(input));
      }
      const missing = await ec2Error(ec2.send(new CreateManagedPrefixListCommand({ PrefixListName: 'x', AddressFamily: 'IPv4' } as never)));
      assert.equal(missing.code, 'MissingParameter');
      const after = (await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!.length;
      assert.equal(after, before);
    });

    it('is idempotent with a ClientToken', async () => {
      const input = { PrefixListName: uniq('tok'), MaxEntries: 3, AddressFamily: 'IPv4', ClientToken: uniq('token') };
      const a = await ec2.send(new CreateManagedPrefixListCommand(input));
      const b = await ec2.send(new CreateManagedPrefixListCommand(input));
      assert.equal(a.PrefixList!.PrefixListId, b.PrefixList!.PrefixListId);
      const clash = await ec2Error(ec2.send(new CreateManagedPrefixListCommand({ ...input, MaxEntries: 4 })));
      assert.equal(clash.code, 'IdempotentParameterMismatch');
    });
  });

  describe('the AWS-managed lists', () => {
    it('DescribePrefixLists lists S3 and DynamoDB of the region, with filters', async () => {
      const out = await ec2.send(new DescribePrefixListsCommand({}));
      const names = out.PrefixLists!.map((p) => p.PrefixListName).sort();
      assert.deepEqual(names, ['com.amazonaws.us-east-1.dynamodb', 'com.amazonaws.us-east-1.s3']);
      for (const p of out.PrefixLists!) {
        assert.match(p.PrefixListId!, /^pl-[0-9a-f]{8}$/);
        assert.ok(p.Cidrs!.length > 0);
      }
      const s3 = out.PrefixLists!.find((p) => p.PrefixListName!.endsWith('.s3'))!;
      const byName = await ec2.send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['*.s3'] }] }));
      assert.deepEqual(byName.PrefixLists, [s3]);
      const byId = await ec2.send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-id', Values: [s3.PrefixListId!] }] }));
      assert.deepEqual(byId.PrefixLists, [s3]);
      const ids = await ec2.send(new DescribePrefixListsCommand({ PrefixListIds: [s3.PrefixListId!] }));
      assert.deepEqual(ids.PrefixLists, [s3]);
      const other = (await t.client('eu-west-1').send(new DescribePrefixListsCommand({}))).PrefixLists!;
      assert.deepEqual(other.map((p) => p.PrefixListName).sort(), ['com.amazonaws.eu-west-1.dynamodb', 'com.amazonaws.eu-west-1.s3']);
      assert.notEqual(other.find((p) => p.PrefixListName!.endsWith('.s3'))!.PrefixListId, s3.PrefixListId);
      // only AWS's lists: a customer-managed id is unknown here
      const mine = await create();
      const err = await ec2Error(ec2.send(new DescribePrefixListsCommand({ PrefixListIds: [mine.PrefixListId!] })));
      assert.equal(err.code, 'InvalidPrefixListId.NotFound');
      assert.equal((await ec2Error(ec2.send(new DescribePrefixListsCommand({ PrefixListIds: ['nope'] })))).code, 'InvalidPrefixListId.Malformed');
    });

    it('DescribeManagedPrefixLists shows them owned by AWS; they cannot be changed', async () => {
      const out = await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'owner-id', Values: ['AWS'] }] }));
      assert.equal(out.PrefixLists!.length, 2);
      const s3 = out.PrefixLists!.find((p) => p.PrefixListName === 'com.amazonaws.us-east-1.s3')!;
      assert.equal(s3.State, 'create-complete');
      assert.equal(s3.Version, 1);
      const cidrs = (await ec2.send(new DescribePrefixListsCommand({ PrefixListIds: [s3.PrefixListId!] }))).PrefixLists![0]!.Cidrs;
      assert.deepEqual(await entries(s3.PrefixListId!), cidrs);
      const del = await ec2Error(ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: s3.PrefixListId })));
      assert.equal(del.code, 'UnsupportedOperation');
      const mod = await ec2Error(
        ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: s3.PrefixListId, CurrentVersion: 1, AddEntries: [{ Cidr: '10.0.0.0/8' }] })),
      );
      assert.equal(mod.code, 'UnsupportedOperation');
      assert.equal((await describe1(s3.PrefixListId!)).Version, 1);
    });

    it('prefixListCidrs gives the current CIDRs of either kind, undefined for an unknown id', async () => {
      const mine = await create([{ Cidr: '10.7.0.0/16' }]);
      const s3 = (await ec2.send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['*.s3'] }] }))).PrefixLists![0]!;
      const ctx = internalContext(t.server.store, t.server.config, 'us-east-1');
      assert.deepEqual(prefixListCidrs(ctx, mine.PrefixListId!), ['10.7.0.0/16']);
      assert.deepEqual(prefixListCidrs(ctx, s3.PrefixListId!), s3.Cidrs);
      assert.equal(prefixListCidrs(ctx, 'pl-00000000'), undefined);
      await ec2.send(
        new ModifyManagedPrefixListCommand({ PrefixListId: mine.PrefixListId, CurrentVersion: 1, AddEntries: [{ Cidr: '10.8.0.0/16' }] }),
      );
      assert.deepEqual(prefixListCidrs(ctx, mine.PrefixListId!), ['10.7.0.0/16', '10.8.0.0/16']);
    });
  });

  describe('DescribeManagedPrefixLists', () => {
    let a: ManagedPrefixList;
    let b: ManagedPrefixList;
    const prefix = `flt${Date.now() % 100000}`;
    before(async () => {
      a = await create([], { PrefixListName: `${prefix}-a` });
      b = await create([], { PrefixListName: `${prefix}-b` });
      await ec2.send(new CreateTagsCommand({ Resources: [b.PrefixListId!], Tags: [{ Key: 'env', Value: 'prod' }] }));
    });
    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      (await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [`${prefix}-*`] }, ...Filters] }))).PrefixLists!.map(
        (p) => p.PrefixListId,
      );

    it('filters by id, name, owner and tags', async () => {
      assert.deepEqual(await ids([]), [a.PrefixListId, b.PrefixListId]);
      assert.deepEqual(await ids([{ Name: 'prefix-list-id', Values: [b.PrefixListId!] }]), [b.PrefixListId]);
      assert.deepEqual(await ids([{ Name: 'prefix-list-name', Values: [`${prefix}-a`] }]), [a.PrefixListId]);
      assert.deepEqual(await ids([{ Name: 'owner-id', Values: ['123456789012'] }]), [a.PrefixListId, b.PrefixListId]);
      assert.deepEqual(await ids([{ Name: 'owner-id', Values: ['AWS'] }]), []);
      assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['prod'] }]), [b.PrefixListId]);
      assert.deepEqual(await ids([{ Name: 'tag-key', Values: ['env'] }]), [b.PrefixListId]);
      const bad = await ec2Error(ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'nope', Values: ['x'] }] })));
      assert.equal(bad.code, 'InvalidParameterValue');
    });

    it('PrefixListIds must exist and be well formed', async () => {
      const out = await ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [b.PrefixListId!, a.PrefixListId!] }));
      assert.deepEqual(out.PrefixLists!.map((p) => p.PrefixListId).sort(), [a.PrefixListId, b.PrefixListId].sort());
      const nf = await ec2Error(ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: ['pl-0123456789abcdef0'] })));
      assert.equal(nf.code, 'InvalidPrefixListID.NotFound');
      assert.match(nf.message, /pl-0123456789abcdef0/);
      const mal = await ec2Error(ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: ['sg-12345678'] })));
      assert.equal(mal.code, 'InvalidPrefixListId.Malformed');
    });

    it('paginates', async () => {
      const all = (await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!.map((p) => p.PrefixListId);
      const seen: (string | undefined)[] = [];
      let NextToken: string | undefined;
      do {
        const page = await ec2.send(new DescribeManagedPrefixListsCommand({ MaxResults: 2, NextToken }));
        assert.ok(page.PrefixLists!.length <= 2);
        seen.push(...page.PrefixLists!.map((p) => p.PrefixListId));
        NextToken = page.NextToken;
      } while (NextToken);
      assert.deepEqual(seen, all);
      const bad = await ec2Error(ec2.send(new DescribeManagedPrefixListsCommand({ MaxResults: 101 })));
      assert.equal(bad.code, 'InvalidParameterValue');
    });
  });

  describe('ModifyManagedPrefixList and versions', () => {
    it('adds and removes entries, one version per change, and keeps every version', async () => {
      const pl = await create([{ Cidr: '10.0.0.0/16' }, { Cidr: '10.1.0.0/16' }], { MaxEntries: 4 });
      const id = pl.PrefixListId!;
      const v2 = await ec2.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: id,
          CurrentVersion: 1,
          AddEntries: [{ Cidr: '10.2.0.0/16', Description: 'new' }],
          RemoveEntries: [{ Cidr: '10.0.0.0/16' }],
        }),
      );
      assert.equal(v2.PrefixList!.Version, 2);
      assert.equal(v2.PrefixList!.State, 'modify-complete');
      const v3 = await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, CurrentVersion: 2, RemoveEntries: [{ Cidr: '10.1.0.0/16' }] }));
      assert.equal(v3.PrefixList!.Version, 3);
      assert.deepEqual(await entries(id), ['10.2.0.0/16 new']);
      assert.deepEqual(await entries(id, 3), ['10.2.0.0/16 new']);
      assert.deepEqual(await entries(id, 2), ['10.1.0.0/16', '10.2.0.0/16 new']);
      assert.deepEqual(await entries(id, 1), ['10.0.0.0/16', '10.1.0.0/16']);
      for (const v of [0, 4]) {
        const err = await ec2Error(ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, TargetVersion: v })));
        assert.equal(err.code, 'InvalidParameterValue', `version ${v}`);
      }
      const d = await describe1(id);
      assert.equal(d.Version, 3);
      assert.equal(d.State, 'modify-complete');
    });

    it('renames and resizes without a new version', async () => {
      const pl = await create([{ Cidr: '10.0.0.0/16' }, { Cidr: '10.1.0.0/16' }], { MaxEntries: 4 });
      const id = pl.PrefixListId!;
      const name = uniq('renamed');
      const out = await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, PrefixListName: name }));
      assert.equal(out.PrefixList!.PrefixListName, name);
      assert.equal(out.PrefixList!.Version, 1);
      const resized = await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, CurrentVersion: 1, MaxEntries: 2 }));
      assert.equal(resized.PrefixList!.MaxEntries, 2);
      assert.equal(resized.PrefixList!.Version, 1);
      const small = await ec2Error(ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 1 })));
      assert.equal(small.code, 'InvalidParameterValue');
    });

    it('refuses a stale version and bad changes, and a refused call changes nothing', async () => {
      const pl = await create([{ Cidr: '10.0.0.0/16' }], { MaxEntries: 2 });
      const id = pl.PrefixListId!;
      const mod = (input: Record<string, unknown>) => ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, ...input } as never));
      const cases: [Record<string, unknown>, string][] = [
        [{ CurrentVersion: 7, AddEntries: [{ Cidr: '10.9.0.0/16' }] }, 'PrefixListVersionMismatch'],
        [{ CurrentVersion: 1, RemoveEntries: [{ Cidr: '10.5.0.0/16' }] }, 'InvalidPrefixListModification'],
        [{ CurrentVersion: 1, AddEntries: [{ Cidr: '10.0.0.0/16' }] }, 'InvalidPrefixListModification'],
        [{ CurrentVersion: 1, AddEntries: [{ Cidr: '10.1.0.0/16' }, { Cidr: '10.2.0.0/16' }] }, 'PrefixListMaxEntriesExceeded'],
        [{ CurrentVersion: 1, AddEntries: [{ Cidr: '2001:db8::/32' }] }, 'InvalidParameterValue'],
        [{ CurrentVersion: 1, AddEntries: [{ Cidr: '10.3.0.0/16' }], MaxEntries: 5 }, 'InvalidParameterCombination'],
        [{ CurrentVersion: 1, AddEntries: [{ Cidr: '10.0.0.0/16' }], RemoveEntries: [{ Cidr: '10.0.0.0/16' }] }, 'InvalidParameterValue'],
        [{ PrefixListName: 'com.amazonaws.x', AddEntries: [{ Cidr: '10.4.0.0/16' }] }, 'InvalidParameterValue'],
        [{ MaxEntries: 1001 }, 'InvalidParameterValue'],
      ];
      for (const [input, code] of cases) {
        const err = await ec2Error(mod(input));
        assert.equal(err.code, code, JSON.stringify(input));
      }
      const d = await describe1(id);
      assert.equal(d.Version, 1);
      assert.equal(d.State, 'create-complete');
      assert.equal(d.PrefixListName, pl.PrefixListName);
      assert.equal(d.MaxEntries, 2);
      assert.deepEqual(await entries(id), ['10.0.0.0/16']);
      const unknown = await ec2Error(ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: 'pl-0123456789abcdef0', PrefixListName: 'x' })));
      assert.equal(unknown.code, 'InvalidPrefixListID.NotFound');
    });

    it('paginates entries', async () => {
      const cidrs = Array.from({ length: 7 }, (_, i) => ({ Cidr: `10.${i}.0.0/16` }));
      const pl = await create(cidrs, { MaxEntries: 7 });
      const seen: string[] = [];
      let NextToken: string | undefined;
      do {
        const page = await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: pl.PrefixListId, MaxResults: 3, NextToken }));
        assert.ok(page.Entries!.length <= 3);
        seen.push(...page.Entries!.map((e) => e.Cidr!));
        NextToken = page.NextToken;
      } while (NextToken);
      assert.deepEqual(seen, cidrs.map((c) => c.Cidr));
      const nf = await ec2Error(ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: 'pl-0123456789abcdef0' })));
      assert.equal(nf.code, 'InvalidPrefixListID.NotFound');
    });
  });

  describe('security group rules naming a prefix list', () => {
    it('Authorize accepts an existing list and DescribeSecurityGroups shows it', async () => {
      const pl = await create([{ Cidr: '10.0.0.0/16' }]);
      const gid = await group();
      await allowFrom(gid, pl.PrefixListId!);
      const g = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [gid] }))).SecurityGroups![0]!;
      const https = g.IpPermissions!.find((p) => p.FromPort === 443)!;
      assert.deepEqual(https.PrefixListIds, [{ PrefixListId: pl.PrefixListId, Description: 'from the list' }]);
      const rules = (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [gid] }] }))).SecurityGroupRules!;
      assert.ok(rules.some((r) => r.PrefixListId === pl.PrefixListId && r.FromPort === 443));
      const byFilter = await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'ip-permission.prefix-list-id', Values: [pl.PrefixListId!] }] }),
      );
      assert.deepEqual(byFilter.SecurityGroups!.map((x) => x.GroupId), [gid]);
    });

    it('Authorize accepts an AWS-managed list (egress to S3)', async () => {
      const s3 = (await ec2.send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['*.s3'] }] }))).PrefixLists![0]!;
      const gid = await group();
      await ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: gid,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: s3.PrefixListId }] }],
        }),
      );
      const assoc = await ec2.send(new GetManagedPrefixListAssociationsCommand({ PrefixListId: s3.PrefixListId }));
      assert.ok(assoc.PrefixListAssociations!.some((a) => a.ResourceId === gid));
    });

    it('Authorize and ModifySecurityGroupRules refuse an unknown list, adding nothing', async () => {
      const gid = await group();
      const rulesBefore = (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [gid] }] }))).SecurityGroupRules!;
      const err = await ec2Error(
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: gid,
            IpPermissions: [
              { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }], PrefixListIds: [{ PrefixListId: 'pl-0123456789abcdef0' }] },
            ],
          }),
        ),
      );
      assert.equal(err.code, 'InvalidPrefixListID.NotFound');
      assert.equal(err.message, "The prefix list ID 'pl-0123456789abcdef0' does not exist");
      const rulesAfter = (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [gid] }] }))).SecurityGroupRules!;
      assert.equal(rulesAfter.length, rulesBefore.length);
      const mal = await ec2Error(
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: gid,
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, PrefixListIds: [{ PrefixListId: 'pl-xyz' }] }],
          }),
        ),
      );
      assert.equal(mal.code, 'InvalidPrefixListId.Malformed');
      const egress = rulesBefore.find((r) => r.IsEgress)!;
      const modify = await ec2Error(
        ec2.send(
          new ModifySecurityGroupRulesCommand({
            GroupId: gid,
            SecurityGroupRules: [
              { SecurityGroupRuleId: egress.SecurityGroupRuleId, SecurityGroupRule: { IpProtocol: '-1', PrefixListId: 'pl-0123456789abcdef0' } },
            ],
          }),
        ),
      );
      assert.equal(modify.code, 'InvalidPrefixListID.NotFound');
    });

    it('GetManagedPrefixListAssociations lists the groups that name the list', async () => {
      const pl = await create([{ Cidr: '10.0.0.0/16' }]);
      const none = await ec2.send(new GetManagedPrefixListAssociationsCommand({ PrefixListId: pl.PrefixListId }));
      assert.deepEqual(none.PrefixListAssociations ?? [], []);
      const g1 = await group();
      const g2 = await group();
      await allowFrom(g1, pl.PrefixListId!, 443);
      await allowFrom(g1, pl.PrefixListId!, 80);
      await allowFrom(g2, pl.PrefixListId!);
      const out = await ec2.send(new GetManagedPrefixListAssociationsCommand({ PrefixListId: pl.PrefixListId }));
      assert.deepEqual(out.PrefixListAssociations, [
        { ResourceId: g1, ResourceOwner: '123456789012' },
        { ResourceId: g2, ResourceOwner: '123456789012' },
      ]);
      const nf = await ec2Error(ec2.send(new GetManagedPrefixListAssociationsCommand({ PrefixListId: 'pl-0123456789abcdef0' })));
      assert.equal(nf.code, 'InvalidPrefixListID.NotFound');
    });

    it('DeleteManagedPrefixList is refused while a rule names the list, then deletes it', async () => {
      const pl = await create([{ Cidr: '10.0.0.0/16' }]);
      const id = pl.PrefixListId!;
      await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'k', Value: 'v' }] }));
      const gid = await group();
      await allowFrom(gid, id);
      const refused = await ec2Error(ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: id })));
      assert.equal(refused.code, 'DependencyViolation');
      assert.equal((await describe1(id)).State, 'create-complete');
      await ec2.send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: gid,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: id }] }],
        }),
      );
      const out = await ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: id }));
      assert.equal(out.PrefixList!.PrefixListId, id);
      assert.equal(out.PrefixList!.State, 'delete-complete');
      const gone = await ec2Error(ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] })));
      assert.equal(gone.code, 'InvalidPrefixListID.NotFound');
      const again = await ec2Error(ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: id })));
      assert.equal(again.code, 'InvalidPrefixListID.NotFound');
      assert.equal((await ec2Error(ec2.send(new DeleteManagedPrefixListCommand({} as never)))).code, 'MissingParameter');
      // its tags went with it: a rule can no longer name it
      const err = await ec2Error(ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'k', Value: 'v' }] })));
      assert.equal(err.code, 'InvalidPrefixListID.NotFound');
    });
  });

  it('lists survive a restart, with every version', async () => {
    const pl = await create([{ Cidr: '10.0.0.0/16' }]);
    await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: pl.PrefixListId, CurrentVersion: 1, AddEntries: [{ Cidr: '10.1.0.0/16' }] }));
    await t.restart();
    ec2 = t.client();
    assert.equal((await describe1(pl.PrefixListId!)).Version, 2);
    assert.deepEqual(await entries(pl.PrefixListId!, 1), ['10.0.0.0/16']);
    assert.deepEqual(await entries(pl.PrefixListId!), ['10.0.0.0/16', '10.1.0.0/16']);
  });
});

describe('managed prefix lists: change events', () => {
  it('every change notifies the list and each group whose rules name it, after commit; failures and DryRun do not', () => {
    const store = new SqliteStore(':memory:');
    const config: Config = { ...loadConfig([], {}), dataDir: ':memory:' };
    const events: ChangeEvent[] = [];
    const d = new Dispatcher(store, config, ec2Modules, (e) => events.push(e));
    const call = <T = object>(action: string, input: Record<string, unknown>): T => d.invoke(action, 'us-east-1', 'req', input) as T;
    const taken = () =>
      events
        .splice(0)
        .filter((e) => e.kind === 'prefix-list' || e.kind === 'security-group')
        .map((e) => `${e.kind}:${e.id}`);
    const pl = call<{ PrefixList: { PrefixListId: string } }>('CreateManagedPrefixList', { PrefixListName: 'a', MaxEntries: 5, AddressFamily: 'IPv4' })
      .PrefixList.PrefixListId;
    const group = (name: string) => call<{ GroupId: string }>('CreateSecurityGroup', { GroupName: name, Description: name }).GroupId;
    const g1 = group('g1');
    const g2 = group('g2');
    group('bystander');
    for (const g of [g1, g2]) {
      call('AuthorizeSecurityGroupIngress', { GroupId: g, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, PrefixListIds: [{ PrefixListId: pl }] }] });
    }
    taken();
    call('ModifyManagedPrefixList', { PrefixListId: pl, CurrentVersion: 1, AddEntries: [{ Cidr: '10.0.0.0/8' }] });
    assert.deepEqual(taken(), [`prefix-list:${pl}`, `security-group:${g1}`, `security-group:${g2}`]);
    call('ModifyManagedPrefixList', { PrefixListId: pl, PrefixListName: 'b' });
    assert.deepEqual(taken(), [`prefix-list:${pl}`, `security-group:${g1}`, `security-group:${g2}`]);
    assert.throws(() => call('ModifyManagedPrefixList', { PrefixListId: pl, CurrentVersion: 1, AddEntries: [{ Cidr: '11.0.0.0/8' }] }));
    assert.throws(() => call('ModifyManagedPrefixList', { PrefixListId: pl, CurrentVersion: 2, AddEntries: [{ Cidr: '11.0.0.0/8' }], DryRun: true }));
    assert.throws(() => call('DeleteManagedPrefixList', { PrefixListId: pl }));
    assert.deepEqual(taken(), []);
    const other = call<{ PrefixList: { PrefixListId: string } }>('CreateManagedPrefixList', { PrefixListName: 'c', MaxEntries: 5, AddressFamily: 'IPv4' })
      .PrefixList.PrefixListId;
    assert.deepEqual(taken(), [`prefix-list:${other}`]);
    call('DeleteManagedPrefixList', { PrefixListId: other });
    assert.deepEqual(taken(), [`prefix-list:${other}`]);
    store.close();
  });
});
