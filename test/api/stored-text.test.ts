/**
 * Free text that is stored and echoed later (tags, key pair names, security
 * group names and descriptions, rule descriptions, interface descriptions) may
 * not hold control characters: one accepted U+0001 would make every later
 * DescribeTags / DescribeVpcs / DescribeKeyPairs of the region ill-formed XML.
 * A refused call answers InvalidParameterValue (never a 5xx) and changes nothing.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeAccountAttributesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  ImportKeyPairCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const SEED = 20261201;

/** A string with at least one control character (C0, DEL, C1) or U+FFFE/U+FFFF somewhere in it. */
const hostile = fc
  .tuple(
    fc.string({ maxLength: 12, unit: 'grapheme' }),
    fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }), fc.constantFrom(0xfffe, 0xffff)),
    fc.string({ maxLength: 12, unit: 'grapheme' }),
  )
  .map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`);

describe('stored free text refuses control characters', () => {
  let t: TestServer;
  let c: EC2Client;
  let vpcId: string;
  let groupId: string;
  let imageId: string;
  const publicKey = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  // an OpenSSH ed25519 public key line built from the raw key
  const raw = Buffer.from(publicKey.x!, 'base64url');
  const blob = Buffer.concat([lenPrefixed(Buffer.from('ssh-ed25519')), lenPrefixed(raw)]);
  const sshLine = `ssh-ed25519 ${blob.toString('base64')} test`;

  before(async () => {
    t = await startTestServer();
    c = t.client();
    const attrs = await c.send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc'] }));
    vpcId = attrs.AccountAttributes![0]!.AttributeValues![0]!.AttributeValue!;
    await c.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'keep', Value: 'me' }] }));
    groupId = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'fixture', Description: 'fixture', VpcId: vpcId }))).GroupId!;
    imageId = (await c.send(new DescribeImagesCommand({}))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  /** Everything a refused call could have changed, read through the SDK (which must parse it). */
  async function snapshot(): Promise<string> {
    const [tags, keys, groups, vpcs, instances] = await Promise.all([
      c.send(new DescribeTagsCommand({})),
      c.send(new DescribeKeyPairsCommand({})),
      c.send(new DescribeSecurityGroupsCommand({})),
      c.send(new DescribeVpcsCommand({})),
      c.send(new DescribeInstancesCommand({})),
    ]);
    return JSON.stringify([tags.Tags, keys.KeyPairs, groups.SecurityGroups, vpcs.Vpcs, instances.Reservations]);
  }

  async function refused(p: Promise<unknown>): Promise<void> {
    const e = await ec2Error(p);
    assert.equal(e.code, 'InvalidParameterValue', e.message);
    assert.equal(e.status, 400);
  }

  it('CreateKeyPair KeyName=%00 and ImportKeyPair with a control character are refused', async () => {
    const before = await snapshot();
    await refused(c.send(new CreateKeyPairCommand({ KeyName: '\0' })));
    await refused(c.send(new CreateKeyPairCommand({ KeyName: 'a\x7fb' })));
    await refused(c.send(new ImportKeyPairCommand({ KeyName: 'tab\there', PublicKeyMaterial: Buffer.from(sshLine) })));
    assert.equal(await snapshot(), before);
    // printable ASCII still goes in
    await c.send(new ImportKeyPairCommand({ KeyName: 'ok name ~!@#$%^&*()', PublicKeyMaterial: Buffer.from(sshLine) }));
    const keys = await c.send(new DescribeKeyPairsCommand({ KeyNames: ['ok name ~!@#$%^&*()'] }));
    assert.equal(keys.KeyPairs?.length, 1);
  });

  it('a tag key or value with U+0001 is refused in CreateTags and in every TagSpecifications', async () => {
    const before = await snapshot();
    await refused(c.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'k', Value: 'v\u0001' }] })));
    await refused(c.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'k\u0001', Value: 'v' }] })));
    await refused(c.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'good', Value: 'fine' }, { Key: 'k', Value: '\uffff' }] })));
    await refused(
      c.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'a\u0000b' }] }] })),
    );
    await refused(
      c.send(
        new CreateSecurityGroupCommand({
          GroupName: 'tagged',
          Description: 'd',
          VpcId: vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'Name', Value: 'line\nbreak' }] }],
        }),
      ),
    );
    await refused(
      c.send(
        new ImportKeyPairCommand({
          KeyName: 'tagged',
          PublicKeyMaterial: Buffer.from(sshLine),
          TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'x', Value: '\u009f' }] }],
        }),
      ),
    );
    await refused(
      c.send(
        new RunInstancesCommand({
          ImageId: imageId,
          MinCount: 1,
          MaxCount: 1,
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: '\u0007bell' }] }],
        }),
      ),
    );
    assert.equal(await snapshot(), before);
    // letters, symbols and spaces of any script are still fine in EC2 tags
    await c.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'Ünïcødé ключ', Value: '値 <&> "quotes" 🚀' }] }));
    const tags = await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['Ünïcødé ключ'] }] }));
    assert.equal(tags.Tags?.[0]?.Value, '値 <&> "quotes" 🚀');
  });

  it('security group names and descriptions, rule descriptions and interface descriptions', async () => {
    const before = await snapshot();
    await refused(c.send(new CreateSecurityGroupCommand({ GroupName: 'a\u0001', Description: 'd', VpcId: vpcId })));
    await refused(c.send(new CreateSecurityGroupCommand({ GroupName: 'n', Description: 'd\u0000', VpcId: vpcId })));
    await refused(
      c.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'ssh\u001b[31m' }] }],
        }),
      ),
    );
    await refused(
      c.send(
        new RunInstancesCommand({
          ImageId: imageId,
          MinCount: 1,
          MaxCount: 1,
          NetworkInterfaces: [{ DeviceIndex: 0, Description: 'eth0\u0000' }],
        }),
      ),
    );
    await refused(c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, Placement: { GroupName: 'pg\u0002' } })));
    assert.equal(await snapshot(), before);
  });

  it('property: random text with a control character is never accepted, never a 5xx, changes nothing', async () => {
    const before = await snapshot();
    const inputs: Record<string, (s: string) => Promise<unknown>> = {
      'tag key': (s) => c.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: s, Value: 'v' }] })),
      'tag value': (s) => c.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'k', Value: s }] })),
      'TagSpecifications value': (s) =>
        c.send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: s }] }] })),
      'key pair name': (s) => c.send(new ImportKeyPairCommand({ KeyName: s, PublicKeyMaterial: Buffer.from(sshLine) })),
      'group name': (s) => c.send(new CreateSecurityGroupCommand({ GroupName: s, Description: 'd', VpcId: vpcId })),
      'group description': (s) => c.send(new CreateSecurityGroupCommand({ GroupName: 'n2', Description: s, VpcId: vpcId })),
      'rule description': (s) =>
        c.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: groupId,
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.1.0.0/16', Description: s }] }],
          }),
        ),
    };
    process.stdout.write(`# stored-text property seed ${SEED}\n`);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(inputs)), hostile, async (which, s) => {
        const e = await ec2Error(inputs[which]!(s));
        assert.ok(e.status !== undefined && e.status >= 400 && e.status < 500, `${which} ${JSON.stringify(s)}: ${e.status} ${e.code}`);
        assert.equal(e.code, 'InvalidParameterValue', `${which} ${JSON.stringify(s)}: ${e.message}`);
      }),
      { seed: SEED, numRuns: 150 },
    );
    assert.equal(await snapshot(), before);
  });
});

function lenPrefixed(b: Buffer): Buffer {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(b.length);
  return Buffer.concat([n, b]);
}
