import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ec2Error } from '../../src/domain/errors.js';
import { ec2Model } from '../../src/protocol/model/index.js';
import { QueryParser } from '../../src/protocol/query-parser.js';

const parser = new QueryParser(ec2Model);
const parse = (op: string, params: Record<string, string>) => parser.parse(op, Object.entries(params));
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof Ec2Error) return e.code;
    throw e;
  }
  return 'no error';
};

describe('query parser (EC2 flattening rules from the model)', () => {
  it('turns flattened lists and structures into model-named members', () => {
    const out = parse('DescribeInstances', {
      Action: 'DescribeInstances',
      Version: '2016-11-15',
      'InstanceId.2': 'i-2',
      'InstanceId.1': 'i-1',
      'Filter.1.Name': 'tag:Name',
      'Filter.1.Value.1': 'web',
      'Filter.1.Value.2': 'db',
      MaxResults: '10',
      DryRun: 'true',
    });
    assert.deepEqual(out, {
      InstanceIds: ['i-1', 'i-2'],
      Filters: [{ Name: 'tag:Name', Values: ['web', 'db'] }],
      MaxResults: 10,
      DryRun: true,
    });
  });

  it('uses locationName/queryName: TagSpecification.N.Tag.N.Key and lowercase-origin names', () => {
    const out = parse('RunInstances', {
      ImageId: 'ami-1',
      MinCount: '1',
      MaxCount: '2',
      'TagSpecification.1.ResourceType': 'instance',
      'TagSpecification.1.Tag.1.Key': 'Name',
      'TagSpecification.1.Tag.1.Value': 'x',
      'BlockDeviceMapping.1.DeviceName': '/dev/sdb',
      'BlockDeviceMapping.1.Ebs.VolumeSize': '20',
      'SecurityGroupId.1': 'sg-1',
      ClientToken: 'tok',
    });
    assert.deepEqual(out.TagSpecifications, [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'x' }] }]);
    assert.deepEqual(out.BlockDeviceMappings, [{ DeviceName: '/dev/sdb', Ebs: { VolumeSize: 20 } }]);
    assert.deepEqual(out.SecurityGroupIds, ['sg-1']);
    assert.equal(out.ClientToken, 'tok');
    assert.equal(out.MaxCount, 2);
  });

  it('decodes blobs from base64', () => {
    const out = parse('ImportKeyPair', { KeyName: 'k', PublicKeyMaterial: Buffer.from('ssh-ed25519 AAAA').toString('base64') });
    assert.ok(Buffer.isBuffer(out.PublicKeyMaterial));
    assert.equal((out.PublicKeyMaterial as Buffer).toString(), 'ssh-ed25519 AAAA');
  });

  it('rejects unknown parameters, wrong types, missing required members and bad list indexes', () => {
    assert.equal(code(() => parse('DescribeInstances', { Colour: 'red' })), 'UnknownParameter');
    assert.equal(code(() => parse('DescribeInstances', { MaxResults: 'ten' })), 'InvalidParameterValue');
    assert.equal(code(() => parse('DescribeInstances', { DryRun: 'maybe' })), 'InvalidParameterValue');
    assert.equal(code(() => parse('RunInstances', { ImageId: 'ami-1', MinCount: '1' })), 'MissingParameter');
    assert.equal(code(() => parse('DescribeInstances', { 'InstanceId.0': 'i-1' })), 'InvalidParameterValue');
    assert.equal(code(() => parse('DescribeInstances', { 'InstanceId.x': 'i-1' })), 'InvalidParameterValue');
    assert.equal(code(() => parse('DescribeInstances', { 'InstanceId.100001': 'i-1' })), 'InvalidParameterValue');
    assert.equal(code(() => parse('DescribeInstances', { 'Filter.1..Name': 'x' })), 'UnknownParameter');
    assert.equal(code(() => parse('DescribeInstances', { 'MaxResults.1': '5' })), 'UnknownParameter');
  });

  it('caps the number of parameters', () => {
    const many: Record<string, string> = {};
    for (let i = 1; i <= 20_001; i++) many[`InstanceId.${i}`] = 'i-1';
    assert.equal(code(() => parse('DescribeInstances', many)), 'InvalidParameterValue');
  });
});
