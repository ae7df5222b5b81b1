/**
 * Whatever a record or a request holds, every response document is well-formed: the XML
 * serializer, the JSON serializer and every error document (EC2, awsQuery, awsJson) replace
 * what XML 1.0 cannot carry (C0 controls but tab/LF/CR, U+FFFE, U+FFFF, unpaired
 * surrogates) with U+FFFD.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Ec2Error } from '../../src/domain/errors.js';
import { errorXml, escapeXml, jsonErrorBody, queryErrorXml } from '../../src/protocol/errors.js';
import { JsonSerializer } from '../../src/protocol/json-serializer.js';
import { ec2Model, ssmModel, stsModel } from '../../src/protocol/model/index.js';
import { serializedText, XmlSerializer, type Serialized } from '../../src/protocol/xml-serializer.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { errorCode, formBody, send, signedRequest } from '../helpers/sign.js';
import { xmlProblem } from '../helpers/xml.js';

/** Strings of any UTF-16 code units (lone surrogates, controls, U+FFFE/U+FFFF included). */
const anyCodeUnits = fc.array(fc.oneof(fc.integer({ min: 0, max: 0x3f }), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0xd800, 0xdc00, 0xfffe, 0xffff, 0x1, 0x9, 0xa, 0xd)), { maxLength: 24 })
  .map((units) => String.fromCharCode(...units));

/** `s` with each unpaired surrogate as U+FFFD (String.prototype.toWellFormed, which ES2022's types lack). */
const wellFormed = (s: string): string => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

const FORBIDDEN = ['\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u001f', '\ufffe', '\uffff', '\ud800', '\udfff', 'a\udc00b', '\ud83d'];

function bytes(out: Serialized): Buffer {
  return typeof out === 'string' ? Buffer.from(out, 'latin1') : Buffer.concat(out);
}

describe('the XML serializer writes only well-formed XML', () => {
  const ec2 = new XmlSerializer(ec2Model);
  const tags = ec2.serializer('DescribeTags');

  it('replaces each character XML forbids with U+FFFD, in plain and frozen records', () => {
    for (const bad of FORBIDDEN) {
      const tag = { Key: `k${bad}`, Value: `v${bad}<&`, ResourceId: 'vpc-1', ResourceType: 'vpc' };
      for (const record of [tag, Object.freeze({ ...tag })]) {
        const out = tags({ Tags: [record, record] }, 'req');
        assert.equal(xmlProblem(bytes(out)), undefined, JSON.stringify(bad));
        // a string response must be ASCII (it is written as latin1)
        if (typeof out === 'string') assert.match(out, /^[\x00-\x7f]*$/);
        assert.match(serializedText(out), /<key>k[^<]*\ufffd[^<]*<\/key>/);
      }
    }
  });

  it('keeps what XML allows exactly: tab, LF, CR, non-ASCII text and surrogate pairs', () => {
    const value = 'a\tb\nc\rd é ☁ 😀 \ud7ff\ue000';
    const text = serializedText(tags({ Tags: [{ Key: 'k', Value: value, ResourceId: 'vpc-1', ResourceType: 'vpc' }] }, 'req'));
    assert.ok(text.includes(`<value>${value}</value>`));
    assert.equal(xmlProblem(Buffer.from(text)), undefined);
  });

  it('any string in any member, key or request id (seeded random code units)', () => {
    const vpcs = ec2.serializer('DescribeVpcs');
    const sts = new XmlSerializer(stsModel, 'query').serializer('GetCallerIdentity');
    fc.assert(
      fc.property(anyCodeUnits, anyCodeUnits, fc.boolean(), (a, b, frozen) => {
        const tag = { Key: a, Value: b };
        const vpc = { VpcId: a, CidrBlock: b, State: 'available', OwnerId: a, DhcpOptionsId: b, Tags: [frozen ? Object.freeze(tag) : tag] };
        for (const out of [
          vpcs({ Vpcs: [frozen ? Object.freeze(vpc) : vpc] }, b),
          tags({ Tags: [{ Key: a, Value: b, ResourceId: a, ResourceType: b }] }, a),
          sts({ UserId: a, Account: b, Arn: a + b }, b),
        ]) {
          const problem = xmlProblem(bytes(out));
          if (problem) throw new Error(`${problem}: ${JSON.stringify(serializedText(out))}`);
        }
      }),
      { seed: 7, numRuns: 400 },
    );
  });
});

describe('the JSON serializer writes only well-formed JSON text', () => {
  it('escapes controls and writes unpaired surrogates as U+FFFD', () => {
    const getParameter = new JsonSerializer(ssmModel).serializer('GetParameter');
    fc.assert(
      fc.property(anyCodeUnits, (s) => {
        const body = getParameter({ Parameter: { Name: s, Value: s, Type: 'String' } });
        // encodes to UTF-8 and back unchanged, and parses
        const decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(body));
        assert.equal(decoded, body);
        assert.doesNotMatch(body, /[\x00-\x1f]|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i);
        const parsed = JSON.parse(body) as { Parameter: { Value: string } };
        assert.equal(parsed.Parameter.Value, wellFormed(s));
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});

describe('error documents are well-formed whatever the message echoes', () => {
  it('EC2, awsQuery and awsJson documents, over seeded random messages', () => {
    fc.assert(
      fc.property(anyCodeUnits, (s) => {
        const err = new Ec2Error('InvalidVpcID.Malformed', `Invalid id: "${s}"`, 400);
        for (const doc of [errorXml(err, 'req'), queryErrorXml(err, 'req', stsModel.xmlNamespace)]) {
          const problem = xmlProblem(Buffer.from(doc, 'utf8'));
          if (problem) throw new Error(`${problem}: ${JSON.stringify(doc)}`);
        }
        const json = jsonErrorBody(err);
        assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(json)), json);
        assert.doesNotMatch(json, /\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|\\ud[c-f][0-9a-f]{2}/i);
        JSON.parse(json);
      }),
      { seed: 3, numRuns: 400 },
    );
    assert.equal(escapeXml('a\u0000<b>&"\'\ud800'), 'a\ufffd&lt;b&gt;&amp;&quot;&apos;\ufffd');
  });
});

describe('every operation answers well-formed XML to hostile input', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  /** Form parameters giving every top-level string (or list of strings) member of `operation`'s input `value`. */
  function hostileParams(operation: string, value: string): Record<string, string> {
    const [input] = ec2Model.operations[operation]!;
    const params: Record<string, string> = { Action: operation };
    if (input < 0) return params;
    const shape = ec2Model.shapes[input]!;
    if (shape.k !== 'structure') return params;
    for (const [name, queryName, , index] of shape.m) {
      if (name === 'DryRun') continue;
      const member = ec2Model.shapes[index]!;
      if (member.k === 'string') params[queryName] = value;
      else if (member.k === 'list' && ec2Model.shapes[member.m]!.k === 'string') params[`${queryName}.1`] = value;
    }
    return params;
  }

  it('DescribeVpcs VpcId.1=%00 is refused in a well-formed document', async () => {
    const r = await send(t.url, await signedRequest(t.url, formBody({ Action: 'DescribeVpcs', 'VpcId.1': '\u0000' })));
    assert.equal(r.status, 400);
    assert.ok(errorCode(r.body));
    assert.equal(xmlProblem(r.body), undefined, r.body);
  });

  it('each implemented EC2 operation, each string member set to a character XML forbids', async () => {
    const operations = Object.keys(ec2Model.operations).filter((o) => t.server.dispatcher.has(o));
    assert.ok(operations.length > 40, `${operations.length} operations`);
    const problems: string[] = [];
    let errors = 0;
    for (const operation of operations) {
      for (const value of ['\u0000', 'x\u0001y', '\uffff', '\ud800']) {
        const r = await send(t.url, await signedRequest(t.url, formBody(hostileParams(operation, value))));
        if (r.status !== 200) errors++;
        const problem = xmlProblem(r.body);
        if (problem) problems.push(`${operation} ${JSON.stringify(value)} → ${r.status}: ${problem}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(errors > operations.length, `${errors} error documents`);
  });

  it('a tag value holding U+0001 leaves DescribeTags and DescribeVpcs well-formed', async () => {
    const create = await send(t.url, await signedRequest(t.url, formBody({ Action: 'CreateVpc', CidrBlock: '10.9.0.0/16' })));
    const vpcId = /<vpcId>([^<]+)<\/vpcId>/.exec(create.body)![1]!;
    const tag = await send(t.url, await signedRequest(t.url, formBody({ Action: 'CreateTags', 'ResourceId.1': vpcId, 'Tag.1.Key': 'k\u0001', 'Tag.1.Value': 'v\u0001\u0002' })));
    // Refusing such a tag at input is the API's choice; whatever it chose, every answer is well-formed.
    assert.equal(xmlProblem(tag.body), undefined, tag.body);
    for (const action of ['DescribeTags', 'DescribeVpcs']) {
      const r = await send(t.url, await signedRequest(t.url, formBody({ Action: action })));
      assert.equal(r.status, 200, r.body);
      assert.equal(xmlProblem(r.body), undefined, `${action}: ${r.body}`);
    }
  });

  it('STS and SSM errors that echo input are well-formed too', async () => {
    const sts = await send(t.url, await signedRequest(t.url, 'Action=GetCallerIdentity&Version=2011-06-15&Bogus=%00', { service: 'sts' }));
    assert.equal(xmlProblem(sts.body), undefined, sts.body);
    const stsVersion = await send(t.url, await signedRequest(t.url, 'Action=GetCallerIdentity&Version=%00%01', { service: 'sts' }));
    assert.equal(xmlProblem(stsVersion.body), undefined, stsVersion.body);
    const ssm = await send(
      t.url,
      await signedRequest(t.url, JSON.stringify({ Name: '/x\u0000\ud800' }), {
        service: 'ssm', contentType: 'application/x-amz-json-1.1', headers: { 'x-amz-target': 'AmazonSSM.GetParameter' },
      }),
    );
    assert.ok(ssm.status >= 400);
    JSON.parse(ssm.body);
    assert.doesNotMatch(ssm.body, /\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i);
  });
});
