/** The awsQuery XML and awsJson serializers and parsers, against the generated models and small synthetic ones. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ec2Error } from '../../src/domain/errors.js';
import { inDialect, jsonErrorBody, queryErrorXml } from '../../src/protocol/errors.js';
import { JsonParser } from '../../src/protocol/json-parser.js';
import { JsonSerializer } from '../../src/protocol/json-serializer.js';
import { ec2Model, ssmModel, stsModel, type CompactModel } from '../../src/protocol/model/index.js';
import { QueryParser } from '../../src/protocol/query-parser.js';
import { serializedText, XmlSerializer } from '../../src/protocol/xml-serializer.js';

/** A sample value for every member of shape `index` (lists of two), and the wire names it should show. */
function sample(model: CompactModel, index: number, depth = 0): unknown {
  const shape = model.shapes[index]!;
  switch (shape.k) {
    case 'structure': {
      const o: Record<string, unknown> = {};
      if (depth < 6) for (const [name, , , m] of shape.m) o[name] = sample(model, m, depth + 1);
      return o;
    }
    case 'list':
      return [sample(model, shape.m, depth + 1), sample(model, shape.m, depth + 1)];
    case 'map':
      return { k1: sample(model, shape.value, depth + 1) };
    case 'boolean':
      return true;
    case 'integer':
    case 'long':
      return 7;
    case 'double':
    case 'float':
      return 1.5;
    case 'timestamp':
      return new Date('2026-11-01T00:00:01.500Z');
    case 'blob':
      return Buffer.from('hi');
    default:
      return 'text';
  }
}

/** Checks a parsed JSON value against shape `index`: every key is a wire name the model spells, every member is there. */
function checkJson(model: CompactModel, index: number, value: unknown, path: string, depth = 0): void {
  const shape = model.shapes[index]!;
  switch (shape.k) {
    case 'structure': {
      if (depth >= 6) return;
      const o = value as Record<string, unknown>;
      assert.deepEqual(Object.keys(o).sort(), shape.m.map((m) => m[2]).sort(), `${path}: member names`);
      for (const [, , wire, m] of shape.m) checkJson(model, m, o[wire], `${path}.${wire}`, depth + 1);
      return;
    }
    case 'list':
      assert.ok(Array.isArray(value) && value.length === 2, path);
      for (const v of value as unknown[]) checkJson(model, shape.m, v, `${path}[]`, depth + 1);
      return;
    case 'timestamp':
      assert.equal(value, Date.parse('2026-11-01T00:00:01.500Z') / 1000, `${path}: epoch seconds`);
      return;
    case 'boolean':
      assert.equal(value, true, path);
      return;
    case 'integer':
    case 'long':
      assert.equal(value, 7, path);
      return;
    default:
      if (shape.k === 'string') assert.equal(value, 'text', path);
  }
}

describe('awsJson serializer (SSM model)', () => {
  const serializer = new JsonSerializer(ssmModel);

  for (const operation of Object.keys(ssmModel.operations)) {
    it(`${operation}: every output member as the model spells it, with its JSON type`, () => {
      const out = ssmModel.operations[operation]![1];
      const text = serializer.serializer(operation)(sample(ssmModel, out) as Record<string, unknown>);
      checkJson(ssmModel, out, JSON.parse(text), operation);
    });
  }

  it('leaves out absent members, escapes strings, writes an empty output as {}', () => {
    const fn = serializer.serializer('GetParameter');
    assert.equal(fn({}), '{}');
    const text = fn({ Parameter: { Name: 'a"b\\c\u00e9\n', Version: 3, Value: undefined, Selector: null } });
    assert.equal(text, '{"Parameter":{"Name":"a\\"b\\\\c\u00e9\\n","Version":3}}');
    assert.deepEqual(JSON.parse(text), { Parameter: { Name: 'a"b\\c\u00e9\n', Version: 3 } });
  });

  it('writes lists, maps, timestamps, blobs and non-finite doubles as awsJson does', () => {
    const model: CompactModel = {
      generated: 'test', apiVersion: '1', xmlNamespace: '', protocol: 'json', targetPrefix: 'T',
      operations: { Probe: [-1, 0] },
      shapes: [
        { k: 'structure', m: [['L', 'L', 'l', 1], ['M', 'M', 'm', 2], ['T', 'T', 't', 4], ['B', 'B', 'b', 5], ['D', 'D', 'd', 6]] },
        { k: 'list', m: 3, n: 'member' },
        { k: 'map', key: 3, value: 3 },
        { k: 'string' },
        { k: 'timestamp' },
        { k: 'blob' },
        { k: 'double' },
      ],
    };
    const fn = new JsonSerializer(model).serializer('Probe');
    const text = fn({ L: ['x', 'y'], M: { a: '1', b: null }, T: new Date(1_700_000_000_250), B: Buffer.from('hello'), D: NaN });
    assert.deepEqual(JSON.parse(text), { l: ['x', 'y'], m: { a: '1' }, t: 1_700_000_000.25, b: 'aGVsbG8=', d: 'NaN' });
    assert.equal(JSON.parse(fn({ D: -Infinity })).d, '-Infinity');
    assert.deepEqual(JSON.parse(fn({ L: [] })), { l: [] });
  });
});

describe('awsJson parser (SSM model)', () => {
  const parser = new JsonParser(ssmModel);
  const body = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

  it('reads members by the model, ignores unknown ones', () => {
    assert.deepEqual(parser.parse('GetParametersByPath', body({ Path: '/a', Recursive: true, MaxResults: 5, Unknown: 1, ParameterFilters: [{ Key: 'Type', Values: ['String'] }] })), {
      Path: '/a', Recursive: true, MaxResults: 5, ParameterFilters: [{ Key: 'Type', Values: ['String'] }],
    });
    assert.deepEqual(parser.parse('GetParameter', Buffer.from('{"Name":"/x","WithDecryption":null}')), { Name: '/x' });
  });

  it('a missing required member is a ValidationException naming it as AWS does', () => {
    const err = (() => {
      try {
        parser.parse('GetParametersByPath', body({ Recursive: true }));
      } catch (e) {
        return e as Ec2Error;
      }
      throw new Error('expected an error');
    })();
    assert.equal(err.code, 'ValidationException');
    assert.equal(err.message, "1 validation error detected: Value null at 'path' failed to satisfy constraint: Member must not be null");
    assert.throws(() => parser.parse('GetParametersByPath', body({ Path: '/a', ParameterFilters: [{ Values: [] }] })), (e: Ec2Error) => e.code === 'ValidationException');
  });

  it('a value of the wrong type, or a body that is not JSON, is a SerializationException', () => {
    for (const bad of [body({ Name: 5 }), body({ Name: '/x', WithDecryption: 'yes' }), Buffer.from('{"Name":'), body(['x'])]) {
      assert.throws(() => parser.parse('GetParameter', bad), (e: Ec2Error) => e.code === 'SerializationException');
    }
    assert.throws(() => parser.parse('GetParametersByPath', body({ Path: '/a', MaxResults: 1.5 })), (e: Ec2Error) => e.code === 'SerializationException');
    assert.throws(() => parser.parse('GetParameters', body({ Names: '/a' })), (e: Ec2Error) => e.code === 'SerializationException');
  });
});

describe('awsQuery serializer (STS model)', () => {
  const serializer = new XmlSerializer(stsModel, 'query');

  it('GetCallerIdentity: the Response/Result/ResponseMetadata envelope and member names as the model spells them', () => {
    const xml = serializedText(serializer.serializer('GetCallerIdentity')({ UserId: 'u', Account: '123456789012', Arn: 'arn:aws:iam::123456789012:root' }, 'req-1'));
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' +
        '<GetCallerIdentityResult><UserId>u</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:root</Arn></GetCallerIdentityResult>' +
        '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
    );
    const [, out, wrapper] = stsModel.operations.GetCallerIdentity!;
    assert.equal(wrapper, 'GetCallerIdentityResult');
    const shape = stsModel.shapes[out]!;
    assert.equal(shape.k, 'structure');
    if (shape.k === 'structure') for (const [, , xmlName] of shape.m) assert.match(xml, new RegExp(`<${xmlName}>[^<]*</${xmlName}>`));
  });

  it('lists as <member>, maps as <entry>, escaping, an operation without output', () => {
    const model: CompactModel = {
      generated: 'test', apiVersion: '2010-08-01', xmlNamespace: 'http://monitoring.amazonaws.com/doc/2010-08-01/', protocol: 'query',
      operations: { Probe: [-1, 0, 'ProbeResult'], Nothing: [-1, -1] },
      shapes: [
        { k: 'structure', m: [['Names', 'Names', 'Names', 1], ['Tags', 'Tags', 'Tags', 2], ['When', 'When', 'When', 4], ['Empty', 'Empty', 'Empty', 1]] },
        { k: 'list', m: 3, n: 'member' },
        { k: 'map', key: 3, value: 3 },
        { k: 'string' },
        { k: 'timestamp' },
      ],
    };
    const xml = new XmlSerializer(model, 'query');
    assert.equal(
      serializedText(xml.serializer('Probe')({ Names: ['a', 'b<c'], Tags: { k: 'v&' }, When: new Date(0), Empty: [] }, 'r')),
      '<?xml version="1.0" encoding="UTF-8"?>\n<ProbeResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ProbeResult>' +
        '<Names><member>a</member><member>b&lt;c</member></Names><Tags><entry><key>k</key><value>v&amp;</value></entry></Tags>' +
        '<When>1970-01-01T00:00:00.000Z</When><Empty/></ProbeResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ProbeResponse>',
    );
    assert.equal(
      serializedText(xml.serializer('Nothing')({}, 'r')),
      '<?xml version="1.0" encoding="UTF-8"?>\n<NothingResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></NothingResponse>',
    );
  });

  it('EC2\'s dialect is unchanged: requestId first, map entries as <item>', () => {
    const xml = serializedText(new XmlSerializer(ec2Model).serializer('DescribeRegions')({ Regions: [] }, 'r'));
    assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><regionInfo/></DescribeRegionsResponse>');
  });
});

describe('awsQuery parser', () => {
  const model: CompactModel = {
    generated: 'test', apiVersion: '1', xmlNamespace: '', protocol: 'query',
    operations: { Probe: [0, -1] },
    shapes: [
      { k: 'structure', m: [['Names', 'Names', 'Names', 1], ['Flat', 'Flat', 'Flat', 2], ['Attrs', 'Attrs', 'Attrs', 3], ['N', 'N', 'N', 5]] },
      { k: 'list', m: 4, n: 'member' },
      { k: 'list', m: 4, n: 'member', f: 1 },
      { k: 'map', key: 4, value: 4 },
      { k: 'string' },
      { k: 'integer' },
    ],
  };
  const parser = new QueryParser(model, 'query');

  it('reads Name.member.N lists, flattened Name.N lists and Name.entry.N maps', () => {
    assert.deepEqual(
      parser.parse('Probe', [
        ['Names.member.2', 'b'], ['Names.member.1', 'a'], ['Flat.1', 'f'],
        ['Attrs.entry.1.key', 'k'], ['Attrs.entry.1.value', 'v'], ['N', '3'], ['Action', 'Probe'], ['Version', '1'],
      ]),
      { Names: ['a', 'b'], Flat: ['f'], Attrs: { k: 'v' }, N: 3 },
    );
    assert.deepEqual(parser.parse('Probe', [['Names', '']]), { Names: [] });
  });

  it('refuses EC2-style lists where awsQuery wraps them', () => {
    assert.throws(() => parser.parse('Probe', [['Names.1', 'a']]), (e: Ec2Error) => e.code === 'UnknownParameter');
  });

  it('the STS model takes no parameters for GetCallerIdentity', () => {
    assert.deepEqual(new QueryParser(stsModel, 'query').parse('GetCallerIdentity', [['Action', 'GetCallerIdentity'], ['Version', '2011-06-15']]), {});
  });
});

describe('error documents', () => {
  it('awsQuery: ErrorResponse with Type Sender (Receiver for 5xx), Code, Message, RequestId', () => {
    assert.equal(
      queryErrorXml(new Ec2Error('SignatureDoesNotMatch', 'bad <sig>', 403), 'rid', stsModel.xmlNamespace),
      '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>' +
        '<Code>SignatureDoesNotMatch</Code><Message>bad &lt;sig&gt;</Message></Error><RequestId>rid</RequestId></ErrorResponse>',
    );
    assert.match(queryErrorXml(new Ec2Error('InternalFailure', 'x', 500), 'r', ''), /<Type>Receiver<\/Type>/);
  });

  it('awsJson: __type and message', () => {
    assert.deepEqual(JSON.parse(jsonErrorBody(new Ec2Error('ParameterNotFound', 'gone'))), { __type: 'ParameterNotFound', message: 'gone' });
  });

  it('the endpoint\'s EC2-worded errors get each dialect\'s names; a service\'s own pass as they are', () => {
    const sig = new Ec2Error('SignatureDoesNotMatch', 'm', 403);
    assert.deepEqual([inDialect(sig, 'json').code, inDialect(sig, 'json').status], ['InvalidSignatureException', 403]);
    assert.equal(inDialect(sig, 'query').code, 'SignatureDoesNotMatch');
    assert.equal(inDialect(new Ec2Error('AuthFailure', 'm', 401), 'query').code, 'InvalidClientTokenId');
    assert.equal(inDialect(new Ec2Error('RequestExpired', 'old'), 'json').message, 'Signature expired: old');
    const own = new Ec2Error('ParameterNotFound', 'x');
    assert.equal(inDialect(own, 'json'), own);
  });
});
