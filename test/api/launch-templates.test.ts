import {
  CreateKeyPairCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteLaunchTemplateCommand,
  DeleteLaunchTemplateVersionsCommand,
  DeleteTagsCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeTagsCommand,
  GetLaunchTemplateDataCommand,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
  type LaunchTemplate,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('launch templates', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let ami: string;
  let seq = 0;
  const uniq = (p: string) => `${p}-${++seq}`;
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    ami = images.Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  async function create(data: RequestLaunchTemplateData = {}, name = uniq('lt'), extra: Record<string, unknown> = {}): Promise<LaunchTemplate> {
    const out = await ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: name, LaunchTemplateData: { ImageId: ami, ...data }, ...extra }),
    );
    return out.LaunchTemplate!;
  }
  async function version(id: string, data: RequestLaunchTemplateData, extra: Record<string, unknown> = {}) {
    return (await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: data, ...extra })))
      .LaunchTemplateVersion!;
  }
  async function versions(id: string, extra: Record<string, unknown> = {}) {
    const out = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, ...extra }));
    return out.LaunchTemplateVersions!;
  }
  async function describe1(id: string): Promise<LaunchTemplate> {
    const out = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }));
    assert.equal(out.LaunchTemplates?.length, 1);
    return out.LaunchTemplates![0]!;
  }
  async function instance(id: string): Promise<Instance> {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    return out.Reservations![0]!.Instances![0]!;
  }
  const tagMap = (tags: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((tags ?? []).map((x) => [x.Key, x.Value]));

  describe('CreateLaunchTemplate', () => {
    it('creates a template at version 1 with its tags and data', async () => {
      const name = uniq('web');
      const out = await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: name,
          VersionDescription: 'first',
          LaunchTemplateData: { ImageId: ami, InstanceType: 't3.micro', UserData: b64('#!/bin/sh\necho hi\n') },
          TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'team', Value: 'web' }] }],
        }),
      );
      const lt = out.LaunchTemplate!;
      assert.match(lt.LaunchTemplateId!, /^lt-[0-9a-f]{17}$/);
      assert.equal(lt.LaunchTemplateName, name);
      assert.equal(lt.DefaultVersionNumber, 1);
      assert.equal(lt.LatestVersionNumber, 1);
      assert.ok(lt.CreateTime instanceof Date);
      assert.match(lt.CreatedBy!, /^arn:aws:iam::\d{12}:root$/);
      assert.deepEqual(tagMap(lt.Tags), { team: 'web' });
      assert.equal(out.Warning, undefined);
      const [v1] = await versions(lt.LaunchTemplateId!);
      assert.equal(v1!.VersionNumber, 1);
      assert.equal(v1!.VersionDescription, 'first');
      assert.equal(v1!.DefaultVersion, true);
      assert.equal(v1!.LaunchTemplateData!.InstanceType, 't3.micro');
      assert.equal(Buffer.from(v1!.LaunchTemplateData!.UserData!, 'base64').toString(), '#!/bin/sh\necho hi\n');
    });

    it('refuses a name in use, a malformed name, an unknown instance type and bad user data', async () => {
      const lt = await create();
      const dup = await ec2Error(create({}, lt.LaunchTemplateName!));
      assert.equal(dup.code, 'InvalidLaunchTemplateName.AlreadyExistsException');
      for (const bad of ['ab', 'has space', 'x'.repeat(129), 'semi;colon']) {
        assert.equal((await ec2Error(create({}, bad))).code, 'InvalidLaunchTemplateName.MalformedException', bad);
      }
      assert.equal((await create({}, 'ok(1).a-b/c_d')).LaunchTemplateName, 'ok(1).a-b/c_d', 'names may hold ( ) . - / _');
      assert.equal((await ec2Error(create({ InstanceType: 'x9.huge' as never }))).code, 'InvalidParameterValue');
      assert.equal((await ec2Error(create({ UserData: '!!not base64!!' }))).code, 'InvalidParameterValue');
      const tagged = await ec2Error(create({ TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'aws:x', Value: '1' }] }] }));
      assert.equal(tagged.code, 'InvalidParameterValue');
      const wrongType = await ec2Error(create({}, uniq('lt'), { TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }] }));
      assert.equal(wrongType.code, 'InvalidParameterValue');
    });

    it('stores what names things that do not exist, with warnings (as EC2)', async () => {
      const out = await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: uniq('warn'),
          LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0', KeyName: 'no-such-key', SecurityGroupIds: ['sg-0123456789abcdef0'] },
        }),
      );
      assert.ok(out.LaunchTemplate!.LaunchTemplateId);
      const codes = out.Warning!.Errors!.map((e) => e.Code).sort();
      assert.deepEqual(codes, ['InvalidAMIID.NotFound', 'InvalidGroup.NotFound', 'InvalidKeyPair.NotFound']);
    });

    it('honours DryRun', async () => {
      const name = uniq('dry');
      const dry = await ec2Error(create({}, name, { DryRun: true }));
      assert.equal(dry.code, 'DryRunOperation');
      const out = await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'launch-template-name', Values: [name] }] }));
      assert.equal(out.LaunchTemplates!.length, 0);
    });
  });

  describe('DescribeLaunchTemplates', () => {
    it('by ids and names; unknown and malformed ids are EC2 errors', async () => {
      const a = await create();
      const b = await create();
      const out = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [a.LaunchTemplateId!], LaunchTemplateNames: [b.LaunchTemplateName!] }));
      assert.deepEqual(out.LaunchTemplates!.map((x) => x.LaunchTemplateId).sort(), [a.LaunchTemplateId, b.LaunchTemplateId].sort());
      assert.equal((await ec2Error(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-0123456789abcdef0'] })))).code, 'InvalidLaunchTemplateId.NotFound');
      assert.equal((await ec2Error(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-nope'] })))).code, 'InvalidLaunchTemplateId.Malformed');
      assert.equal((await ec2Error(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['no-such-template'] })))).code, 'InvalidLaunchTemplateName.NotFoundException');
    });

    it('filters by name (wildcards), tag, tag-key and create-time; pages', async () => {
      const prefix = uniq('filt');
      const made: LaunchTemplate[] = [];
      for (let i = 0; i < 5; i++) {
        made.push(await create({}, `${prefix}-${i}`, { TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'batch', Value: prefix }, { Key: `k${i % 2}`, Value: 'v' }] }] }));
      }
      const names = async (Filters: { Name: string; Values: string[] }[]) =>
        ((await ec2.send(new DescribeLaunchTemplatesCommand({ Filters }))).LaunchTemplates ?? []).map((x) => x.LaunchTemplateName).sort();
      assert.equal((await names([{ Name: 'launch-template-name', Values: [`${prefix}-*`] }])).length, 5);
      assert.deepEqual(await names([{ Name: 'tag:batch', Values: [prefix] }, { Name: 'tag-key', Values: ['k1'] }]), [`${prefix}-1`, `${prefix}-3`]);
      const created = (await describe1(made[0]!.LaunchTemplateId!)).CreateTime!.toISOString().slice(0, 10);
      assert.ok((await names([{ Name: 'create-time', Values: [`${created}*`] }])).includes(`${prefix}-0`));
      assert.equal((await ec2Error(names([{ Name: 'nope', Values: ['x'] }]))).code, 'InvalidParameterValue');

      const seen: string[] = [];
      let NextToken: string | undefined;
      do {
        const page = await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:batch', Values: [prefix] }], MaxResults: 2, NextToken }));
        assert.ok(page.LaunchTemplates!.length <= 2);
        seen.push(...page.LaunchTemplates!.map((x) => x.LaunchTemplateName!));
        NextToken = page.NextToken;
      } while (NextToken);
      assert.deepEqual(seen.sort(), made.map((m) => m.LaunchTemplateName).sort());
      assert.equal((await ec2Error(ec2.send(new DescribeLaunchTemplatesCommand({ MaxResults: 201 })))).code, 'InvalidParameterValue');
    });
  });

  describe('versions', () => {
    it('a new version overlays the source version; $Latest, $Default, min/max', async () => {
      const lt = await create({ InstanceType: 't3.micro', KeyName: 'k', EbsOptimized: false });
      const id = lt.LaunchTemplateId!;
      const v2 = await version(id, { InstanceType: 't3.small' }, { SourceVersion: '1', VersionDescription: 'bigger' });
      assert.equal(v2.VersionNumber, 2);
      assert.equal(v2.DefaultVersion, false);
      assert.equal(v2.LaunchTemplateData!.InstanceType, 't3.small');
      assert.equal(v2.LaunchTemplateData!.KeyName, 'k', 'inherited from the source');
      assert.equal(v2.LaunchTemplateData!.ImageId, ami);
      const v3 = await version(id, { InstanceType: 't3.medium' });
      assert.equal(v3.LaunchTemplateData!.ImageId, undefined, 'without SourceVersion nothing is inherited');
      await version(id, { InstanceType: 't3.large' }, { SourceVersion: '$Latest' });

      const lt2 = await describe1(id);
      assert.equal(lt2.LatestVersionNumber, 4);
      assert.equal(lt2.DefaultVersionNumber, 1);
      assert.deepEqual((await versions(id)).map((v) => v.VersionNumber), [4, 3, 2, 1]);
      assert.deepEqual((await versions(id, { Versions: ['$Latest'] })).map((v) => v.VersionNumber), [4]);
      assert.deepEqual((await versions(id, { Versions: ['$Default', '2'] })).map((v) => v.VersionNumber), [2, 1]);
      assert.deepEqual((await versions(id, { MinVersion: '2', MaxVersion: '3' })).map((v) => v.VersionNumber), [3, 2]);
      assert.deepEqual((await versions(id, { Filters: [{ Name: 'instance-type', Values: ['t3.small', 't3.large'] }] })).map((v) => v.VersionNumber), [4, 2]);
      assert.deepEqual((await versions(id, { Filters: [{ Name: 'is-default-version', Values: ['true'] }] })).map((v) => v.VersionNumber), [1]);
      const byName = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: lt.LaunchTemplateName, Versions: ['3'] }));
      assert.equal(byName.LaunchTemplateVersions![0]!.LaunchTemplateData!.InstanceType, 't3.medium');
      assert.equal((await ec2Error(versions(id, { Versions: ['9'] }))).code, 'InvalidLaunchTemplateId.VersionNotFound');
      assert.equal((await ec2Error(version(id, {}, { SourceVersion: '9' }))).code, 'MissingParameter');
      assert.equal((await ec2Error(version(id, { InstanceType: 't3.nano' }, { SourceVersion: '9' }))).code, 'InvalidLaunchTemplateId.VersionNotFound');

      // pages, newest first
      const page1 = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, MaxResults: 3 }));
      assert.deepEqual(page1.LaunchTemplateVersions!.map((v) => v.VersionNumber), [4, 3, 2]);
      const page2 = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, MaxResults: 3, NextToken: page1.NextToken }));
      assert.deepEqual(page2.LaunchTemplateVersions!.map((v) => v.VersionNumber), [1]);
      assert.equal(page2.NextToken, undefined);

      // every template's $Latest
      const all = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ Versions: ['$Latest'] }));
      assert.ok(all.LaunchTemplateVersions!.some((v) => v.LaunchTemplateId === id && v.VersionNumber === 4));
      assert.ok(all.LaunchTemplateVersions!.every((v) => v.LaunchTemplateId !== id || v.VersionNumber === 4));
      assert.equal((await ec2Error(ec2.send(new DescribeLaunchTemplateVersionsCommand({ Versions: ['1'] })))).code, 'InvalidParameterValue');
    });

    it('ModifyLaunchTemplate sets the default version', async () => {
      const lt = await create();
      const id = lt.LaunchTemplateId!;
      await version(id, { InstanceType: 't3.small' }, { SourceVersion: '1' });
      const out = await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: '2' }));
      assert.equal(out.LaunchTemplate!.DefaultVersionNumber, 2);
      assert.equal((await describe1(id)).DefaultVersionNumber, 2);
      assert.deepEqual((await versions(id, { Versions: ['$Default'] })).map((v) => v.VersionNumber), [2]);
      assert.equal((await ec2Error(ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: '7' })))).code, 'InvalidLaunchTemplateId.VersionNotFound');
      const byName = await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateName: lt.LaunchTemplateName, DefaultVersion: '1' }));
      assert.equal(byName.LaunchTemplate!.DefaultVersionNumber, 1);
      const both = await ec2Error(ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, LaunchTemplateName: lt.LaunchTemplateName, DefaultVersion: '1' })));
      assert.equal(both.code, 'InvalidParameterCombination');
      assert.equal((await ec2Error(ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: 'lt-0123456789abcdef0', DefaultVersion: '1' })))).code, 'InvalidLaunchTemplateId.NotFound');
      const dry = await ec2Error(ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: '2', DryRun: true })));
      assert.equal(dry.code, 'DryRunOperation');
      assert.equal((await describe1(id)).DefaultVersionNumber, 1);
    });

    it('DeleteLaunchTemplateVersions: partial success, the default version stays', async () => {
      const lt = await create();
      const id = lt.LaunchTemplateId!;
      for (let i = 0; i < 3; i++) await version(id, { InstanceType: 't3.small' });
      const out = await ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['1', '3', '4', '9'] }));
      assert.deepEqual(out.SuccessfullyDeletedLaunchTemplateVersions!.map((v) => v.VersionNumber).sort(), [3, 4]);
      const failed = Object.fromEntries(out.UnsuccessfullyDeletedLaunchTemplateVersions!.map((v) => [v.VersionNumber, v.ResponseError!.Code]));
      assert.deepEqual(failed, { 1: 'unexpectedError', 9: 'launchTemplateVersionDoesNotExist' });
      assert.deepEqual((await versions(id)).map((v) => v.VersionNumber), [2, 1]);
      assert.equal((await describe1(id)).LatestVersionNumber, 2);
      assert.equal((await version(id, { InstanceType: 't3.nano' })).VersionNumber, 5, 'numbers are not reused');

      const missing = await ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: 'lt-0123456789abcdef0', Versions: ['2'] }));
      assert.equal(missing.UnsuccessfullyDeletedLaunchTemplateVersions![0]!.ResponseError!.Code, 'launchTemplateIdDoesNotExist');
      const unnamed = await ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateName: 'no-such-lt', Versions: ['2'] }));
      assert.equal(unnamed.UnsuccessfullyDeletedLaunchTemplateVersions![0]!.ResponseError!.Code, 'launchTemplateNameDoesNotExist');
    });

    it('DeleteLaunchTemplate removes the template, its versions and tags', async () => {
      const lt = await create({}, uniq('gone'), { TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'a', Value: 'b' }] }] });
      const id = lt.LaunchTemplateId!;
      const out = await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: lt.LaunchTemplateName }));
      assert.equal(out.LaunchTemplate!.LaunchTemplateId, id);
      assert.equal((await ec2Error(describe1(id))).code, 'InvalidLaunchTemplateId.NotFound');
      const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }));
      assert.equal(tags.Tags!.length, 0);
      assert.equal((await ec2Error(ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id })))).code, 'InvalidLaunchTemplateId.NotFound');
      assert.equal((await ec2Error(ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: 'never-made' })))).code, 'InvalidLaunchTemplateName.NotFoundException');
      assert.equal((await ec2Error(ec2.send(new DeleteLaunchTemplateCommand({})))).code, 'MissingParameter');
      // the name is free again
      await create({}, lt.LaunchTemplateName);
    });
  });

  it('CreateTags and DescribeTags work on launch templates', async () => {
    const lt = await create();
    const id = lt.LaunchTemplateId!;
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'env', Value: 'prod' }] }));
    const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }));
    assert.deepEqual(tags.Tags!.map((x) => [x.ResourceType, x.Key, x.Value]), [['launch-template', 'env', 'prod']]);
    assert.deepEqual(tagMap((await describe1(id)).Tags), { env: 'prod' });
    const unknown = await ec2Error(ec2.send(new CreateTagsCommand({ Resources: ['lt-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] })));
    assert.equal(unknown.code, 'InvalidLaunchTemplateId.NotFound');
  });

  describe('RunInstances with a launch template', () => {
    it('launches from the template data and tags the instance with the template', async () => {
      await ec2.send(new CreateKeyPairCommand({ KeyName: 'lt-key' }));
      const sg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: uniq('lt-sg'), Description: 'lt' }))).GroupId!;
      const lt = await create({
        InstanceType: 't3.small',
        KeyName: 'lt-key',
        SecurityGroupIds: [sg],
        UserData: b64('#!/bin/sh\necho from-template\n'),
        BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 20, VolumeType: 'gp3' } }],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'from-lt' }, { Key: 'tier', Value: 'web' }] },
          { ResourceType: 'volume', Tags: [{ Key: 'disk', Value: 'lt' }] },
        ],
        DisableApiTermination: false,
        InstanceInitiatedShutdownBehavior: 'terminate',
      });
      const run = await ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId } }));
      const i = await instance(run.Instances![0]!.InstanceId!);
      assert.equal(i.ImageId, ami);
      assert.equal(i.InstanceType, 't3.small');
      assert.equal(i.KeyName, 'lt-key');
      assert.deepEqual(i.SecurityGroups!.map((g) => g.GroupId), [sg]);
      assert.ok(i.BlockDeviceMappings!.some((m) => m.DeviceName === '/dev/sdf'));
      assert.deepEqual(tagMap(i.Tags), {
        Name: 'from-lt',
        tier: 'web',
        'aws:ec2launchtemplate:id': lt.LaunchTemplateId,
        'aws:ec2launchtemplate:version': '1',
      });
      const ud = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'userData' }));
      assert.equal(Buffer.from(ud.UserData!.Value!, 'base64').toString(), '#!/bin/sh\necho from-template\n');
      const shutdown = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'instanceInitiatedShutdownBehavior' }));
      assert.equal(shutdown.InstanceInitiatedShutdownBehavior!.Value, 'terminate');
      const vol = i.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdf')!.Ebs!.VolumeId!;
      const volTags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [vol] }] }));
      assert.deepEqual(tagMap(volTags.Tags), { disk: 'lt' });
      const byTag = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:aws:ec2launchtemplate:id', Values: [lt.LaunchTemplateId!] }] }));
      assert.equal(byTag.Reservations!.flatMap((r) => r.Instances!).length, 1);

      // EC2's tags are not the caller's to delete
      const reserved = await ec2Error(ec2.send(new DeleteTagsCommand({ Resources: [i.InstanceId!], Tags: [{ Key: 'aws:ec2launchtemplate:id' }] })));
      assert.equal(reserved.code, 'InvalidParameterValue');
      await ec2.send(new DeleteTagsCommand({ Resources: [i.InstanceId!] }));
      assert.deepEqual(tagMap((await instance(i.InstanceId!)).Tags), { 'aws:ec2launchtemplate:id': lt.LaunchTemplateId, 'aws:ec2launchtemplate:version': '1' });
    });

    it('call parameters override the template; versions by name, $Latest, $Default and number', async () => {
      const lt = await create({ InstanceType: 't3.micro', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'lt' }, { Key: 'keep', Value: 'yes' }] }] });
      const id = lt.LaunchTemplateId!;
      await version(id, { InstanceType: 't3.small' }, { SourceVersion: '1' });
      const launch = async (LaunchTemplate: Record<string, string>, extra: Record<string, unknown> = {}) => {
        const run = await ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate, ...extra }));
        return instance(run.Instances![0]!.InstanceId!);
      };
      const dflt = await launch({ LaunchTemplateName: lt.LaunchTemplateName! });
      assert.equal(dflt.InstanceType, 't3.micro');
      assert.equal(tagMap(dflt.Tags)['aws:ec2launchtemplate:version'], '1');
      const latest = await launch({ LaunchTemplateId: id, Version: '$Latest' });
      assert.equal(latest.InstanceType, 't3.small');
      assert.equal(tagMap(latest.Tags)['aws:ec2launchtemplate:version'], '2');
      const numbered = await launch({ LaunchTemplateId: id, Version: '2' });
      assert.equal(numbered.InstanceType, 't3.small');
      const overridden = await launch(
        { LaunchTemplateId: id, Version: '$Default' },
        { InstanceType: 't3.medium', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'call' }] }] },
      );
      assert.equal(overridden.InstanceType, 't3.medium');
      assert.deepEqual(tagMap(overridden.Tags), { Name: 'call', keep: 'yes', 'aws:ec2launchtemplate:id': id, 'aws:ec2launchtemplate:version': '1' });

      const run = (LaunchTemplate: Record<string, string>) => ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate }));
      assert.equal((await ec2Error(run({ LaunchTemplateId: id, Version: '8' }))).code, 'InvalidLaunchTemplateId.VersionNotFound');
      assert.equal((await ec2Error(run({ LaunchTemplateId: 'lt-0123456789abcdef0' }))).code, 'InvalidLaunchTemplateId.NotFound');
      assert.equal((await ec2Error(run({ LaunchTemplateId: 'lt-bad' }))).code, 'InvalidLaunchTemplateId.Malformed');
      assert.equal((await ec2Error(run({ LaunchTemplateName: 'never-made-lt' }))).code, 'InvalidLaunchTemplateName.NotFoundException');
      const noImage = await create({ ImageId: undefined, InstanceType: 't3.micro' });
      assert.equal((await ec2Error(run({ LaunchTemplateId: noImage.LaunchTemplateId! }))).code, 'MissingParameter');
    });

    it('a template with a network interface; an instance-level subnet with it is refused as EC2 does', async () => {
      const sg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: uniq('nic-sg'), Description: 'nic' }))).GroupId!;
      const lt = await create({ NetworkInterfaces: [{ DeviceIndex: 0, Groups: [sg], AssociatePublicIpAddress: false, Description: 'from lt' }] });
      const run = await ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId } }));
      const i = await instance(run.Instances![0]!.InstanceId!);
      assert.deepEqual(i.SecurityGroups!.map((g) => g.GroupId), [sg]);
      assert.equal(i.NetworkInterfaces![0]!.Description, 'from lt');
      assert.equal(i.PublicIpAddress, undefined);
      const clash = await ec2Error(
        ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, SubnetId: i.SubnetId, LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId } })),
      );
      assert.equal(clash.code, 'InvalidParameterCombination');
    });

    it('GetLaunchTemplateData round trip: a template made from an instance launches a like instance', async () => {
      const sg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: uniq('rt-sg'), Description: 'rt' }))).GroupId!;
      await ec2.send(new CreateKeyPairCommand({ KeyName: 'rt-key' }));
      const run = await ec2.send(
        new RunInstancesCommand({
          ImageId: ami,
          MinCount: 1,
          MaxCount: 1,
          InstanceType: 't3.small',
          KeyName: 'rt-key',
          SecurityGroupIds: [sg],
          UserData: b64('#!/bin/sh\necho rt\n'),
          BlockDeviceMappings: [{ DeviceName: '/dev/sdg', Ebs: { VolumeSize: 12, VolumeType: 'gp3' } }],
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'original' }] }],
        }),
      );
      const original = await instance(run.Instances![0]!.InstanceId!);
      const data = (await ec2.send(new GetLaunchTemplateDataCommand({ InstanceId: original.InstanceId }))).LaunchTemplateData!;
      assert.equal(data.ImageId, ami);
      assert.equal(data.InstanceType, 't3.small');
      assert.equal(data.KeyName, 'rt-key');
      assert.equal(Buffer.from(data.UserData!, 'base64').toString(), '#!/bin/sh\necho rt\n');
      assert.deepEqual(data.TagSpecifications, [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'original' }] }]);
      assert.equal(data.Placement!.AvailabilityZone, original.Placement!.AvailabilityZone);
      const nic = data.NetworkInterfaces![0]!;
      assert.equal(nic.DeviceIndex, 0);
      assert.deepEqual(nic.Groups, [sg]);
      assert.equal(nic.SubnetId, original.SubnetId);
      assert.equal(nic.NetworkInterfaceId, original.NetworkInterfaces![0]!.NetworkInterfaceId);
      assert.equal(nic.PrivateIpAddresses![0]!.PrivateIpAddress, original.PrivateIpAddress);
      const sdg = data.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdg')!;
      assert.equal(sdg.Ebs!.VolumeSize, 12);
      assert.equal(sdg.Ebs!.VolumeType, 'gp3');
      assert.equal((await ec2Error(ec2.send(new GetLaunchTemplateDataCommand({ InstanceId: 'i-0123456789abcdef0' })))).code, 'InvalidInstanceID.NotFound');

      // as the EC2 user guide has it: keep the interface's settings, not the interface itself and its addresses
      const { NetworkInterfaceId: _id, PrivateIpAddresses: _ips, ...nicSettings } = nic;
      const templateData = { ...data, NetworkInterfaces: [nicSettings] } as RequestLaunchTemplateData;
      const lt = (await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: uniq('from-instance'), LaunchTemplateData: templateData }))).LaunchTemplate!;
      const again = await ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId } }));
      const copy = await instance(again.Instances![0]!.InstanceId!);
      assert.equal(copy.ImageId, original.ImageId);
      assert.equal(copy.InstanceType, original.InstanceType);
      assert.equal(copy.KeyName, original.KeyName);
      assert.equal(copy.SubnetId, original.SubnetId);
      assert.deepEqual(copy.SecurityGroups, original.SecurityGroups);
      assert.notEqual(copy.PrivateIpAddress, original.PrivateIpAddress);
      assert.deepEqual(copy.BlockDeviceMappings!.map((m) => m.DeviceName), original.BlockDeviceMappings!.map((m) => m.DeviceName));
      assert.equal(tagMap(copy.Tags).Name, 'original');
      assert.equal(tagMap(copy.Tags)['aws:ec2launchtemplate:id'], lt.LaunchTemplateId);
    });
  });
});
