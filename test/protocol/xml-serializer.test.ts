import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ec2Model, type CompactModel } from '../../src/protocol/model/index.js';
import { serializedText, XmlSerializer } from '../../src/protocol/xml-serializer.js';
import { random } from '../helpers/random.js';

const serializer = new XmlSerializer(ec2Model);

describe('XML serializer (compiled from the model)', () => {
  it('writes EC2 response XML: no Result wrapper, requestId, lowerCamel names, <item> lists', () => {
    const xml = serializedText(
      serializer.serializer('DescribeRegions')(
        { Regions: [{ RegionName: 'us-east-1', Endpoint: 'ec2.us-east-1.amazonaws.com', OptInStatus: 'opt-in-not-required' }] },
        'req-1',
      ),
    );
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>' +
        '<regionInfo><item><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><regionName>us-east-1</regionName><optInStatus>opt-in-not-required</optInStatus></item></regionInfo>' +
        '</DescribeRegionsResponse>',
    );
  });

  it('renders booleans, numbers, timestamps, nested structures, empty lists and escapes text', () => {
    const xml = serializedText(
      serializer.serializer('DescribeInstances')(
      {
        Reservations: [
          {
            ReservationId: 'r-1',
            Groups: [],
            Instances: [
              {
                InstanceId: 'i-1',
                State: { Code: 16, Name: 'running' },
                LaunchTime: new Date('2024-01-02T03:04:05.000Z'),
                EbsOptimized: false,
                Tags: [{ Key: 'Name', Value: 'a<b & "c"' }],
              },
            ],
          },
        ],
      },
      'r',
    ),
    );
    // members in model order: groupSet, instancesSet, …, reservationId
    assert.match(xml, /<reservationSet><item><groupSet\/><instancesSet><item>.*<instanceId>i-1<\/instanceId>.*<\/instancesSet><reservationId>r-1<\/reservationId><\/item><\/reservationSet>/);
    assert.match(xml, /<instanceState><code>16<\/code><name>running<\/name><\/instanceState>/);
    assert.match(xml, /<launchTime>2024-01-02T03:04:05.000Z<\/launchTime>/);
    assert.match(xml, /<ebsOptimized>false<\/ebsOptimized>/);
    assert.match(xml, /<tagSet><item><key>Name<\/key><value>a&lt;b &amp; &quot;c&quot;<\/value><\/item><\/tagSet>/);
    assert.doesNotMatch(xml, /undefined|null/);
  });

  it('compiles once per operation into straight-line code', () => {
    assert.equal(serializer.serializer('DescribeVpcs'), serializer.serializer('DescribeVpcs'));
    const src = serializer.source('DescribeVpcs');
    assert.match(src, /function s\d+\(o,w\)/);
    assert.match(src, /w\+=/);
    assert.doesNotMatch(src, /shapes\[/);
  });

  it('renders an operation without output members', () => {
    const xml = serializedText(serializer.serializer('CreateTags')({}, 'x'));
    assert.match(xml, /<CreateTagsResponse xmlns="[^"]+"><requestId>x<\/requestId><\/CreateTagsResponse>$/);
  });

  it('writes multi-megabyte responses in slices without losing or reordering anything', () => {
    const tags = Array.from({ length: 20_000 }, (_, i) => ({ ResourceId: `vpc-${i}`, ResourceType: 'vpc', Key: `k${i}`, Value: `värde-${i}-☁` }));
    const out = serializer.serializer('DescribeTags')({ Tags: tags }, 'big');
    assert.ok(Array.isArray(out) && out.length > 10, 'slices of about 64 KiB, not joined');
    const xml = serializedText(out);
    assert.ok(Buffer.byteLength(xml) > 1_000_000);
    const values = [...xml.matchAll(/<value>([^<]*)<\/value>/g)].map((m) => m[1]);
    assert.equal(values.length, 20_000);
    assert.equal(values[0], 'värde-0-☁');
    assert.equal(values[12_345], 'värde-12345-☁');
    assert.ok(xml.endsWith('</tagSet></DescribeTagsResponse>'));
    // the same call again starts from a clean buffer
    const again = serializedText(serializer.serializer('DescribeTags')({ Tags: tags.slice(0, 1) }, 'small'));
    assert.equal((again.match(/<item>/g) ?? []).length, 1);
    assert.match(again, /<requestId>small<\/requestId>/);
  });

  it('writes large ASCII responses as latin1 slices, and turns to UTF-8 from the slice where a non-ASCII value first appears', () => {
    const tags = Array.from({ length: 6_000 }, (_, i) => ({ ResourceId: `vpc-${i}`, ResourceType: 'vpc', Key: `k${i}`, Value: `v${i}` }));
    const ascii = serializer.serializer('DescribeTags')({ Tags: tags }, 'a');
    assert.ok(Array.isArray(ascii) && ascii.length > 3);
    assert.equal(serializedText(ascii), referenceXml('DescribeTags', { Tags: tags }, 'a'));
    const late = [...tags, { ResourceId: 'vpc-x', ResourceType: 'vpc', Key: 'k', Value: 'slutet ☁ 😀' }];
    const mixed = serializer.serializer('DescribeTags')({ Tags: late }, 'b');
    assert.equal(serializedText(mixed), referenceXml('DescribeTags', { Tags: late }, 'b'));
  });

  it('answers a small ASCII response as a string whose length is its byte length, anything else as UTF-8 bytes', () => {
    const tags = (value: string) => ({ Tags: [{ ResourceId: 'vpc-1', ResourceType: 'vpc', Key: 'k', Value: value }] });
    const ascii = serializer.serializer('DescribeTags')(tags('plain & <simple>'), 'r1');
    assert.equal(typeof ascii, 'string');
    assert.equal(Buffer.byteLength(ascii as string), (ascii as string).length);
    assert.match(ascii as string, /<value>plain &amp; &lt;simple&gt;<\/value>/);
    for (const value of ['värde', '☁ cloud', 'emoji 😀', 'latin1 \u00ff']) {
      const out = serializer.serializer('DescribeTags')(tags(value), 'r2');
      assert.ok(Array.isArray(out), `${value} must come back as bytes`);
      assert.match(serializedText(out), new RegExp(`<value>${value}</value>`));
    }
    // a number member holding a non-ASCII string (a handler bug) is escaped and sent as bytes, not cut to latin1
    const odd = serializer.serializer('DescribeInstances')({ Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Code: '☁<', Name: 'running' } }] }] }, 'r4');
    assert.ok(Array.isArray(odd));
    assert.match(serializedText(odd), /<code>☁&lt;<\/code>/);
    // a non-ASCII value in one call does not make the next call's ASCII response bytes
    assert.equal(typeof serializer.serializer('DescribeTags')(tags('again'), 'r3'), 'string');
  });
});

/**
 * The EC2 XML of `output` by a plain walk of the model: slow and obviously right, the
 * oracle the compiled serializers are checked against.
 */
function referenceXml(operation: string, output: Record<string, unknown>, requestId: string, model: CompactModel = ec2Model): string {
  const text = (v: unknown): string =>
    String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
  const value = (index: number, v: unknown): string => {
    const shape = model.shapes[index]!;
    switch (shape.k) {
      case 'structure':
        return shape.m.map(([name, , xmlName, m]) => ((v as Record<string, unknown>)[name] == null ? '' : member(xmlName, m, (v as Record<string, unknown>)[name]))).join('');
      case 'map':
        return Object.entries(v as Record<string, unknown>)
          .map(([k, x]) => `<item><key>${text(k)}</key>${x == null ? '' : member('value', shape.value, x)}</item>`)
          .join('');
      case 'list':
        return member('item', index, v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'integer':
      case 'long':
      case 'double':
      case 'float':
        return text(v);
      case 'timestamp':
        return v instanceof Date ? v.toISOString() : typeof v === 'number' ? new Date(v).toISOString() : text(v);
      case 'blob':
        return Buffer.isBuffer(v) ? v.toString('base64') : text(v);
      default:
        return text(v);
    }
  };
  const member = (tag: string, index: number, v: unknown): string => {
    const shape = model.shapes[index]!;
    if (shape.k !== 'list') return `<${tag}>${value(index, v)}</${tag}>`;
    const items = v as unknown[];
    if (shape.f) return items.map((e) => `<${tag}>${value(shape.m, e)}</${tag}>`).join('');
    if (items.length === 0) return `<${tag}/>`;
    return `<${tag}>${items.map((e) => `<${shape.n}>${value(shape.m, e)}</${shape.n}>`).join('')}</${tag}>`;
  };
  const [, outputIndex] = model.operations[operation]!;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${model.xmlNamespace}"><requestId>${text(requestId)}</requestId>` +
    (outputIndex >= 0 ? value(outputIndex, output) : '') +
    `</${operation}Response>`
  );
}

/** A random value of shape `index`: members present or not, lists of 0–3 items, awkward text. */
function randomValue(index: number, rand: () => number, depth: number): unknown {
  const shape = ec2Model.shapes[index]!;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  switch (shape.k) {
    case 'structure': {
      const o: Record<string, unknown> = {};
      const p = depth > 4 ? 0.1 : rand();
      for (const [name, , , m] of shape.m) if (rand() < p) o[name] = randomValue(m, rand, depth + 1);
      return o;
    }
    case 'list':
      return Array.from({ length: depth > 4 ? 0 : Math.floor(rand() * 4) }, () => randomValue(shape.m, rand, depth + 1));
    case 'map': {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 4); i > 0; i--) o[pick(['k', 'a&b', 'ключ', `k${i}`])] = rand() < 0.3 ? null : randomValue(shape.value, rand, depth + 1);
      return o;
    }
    case 'boolean':
      return rand() < 0.5;
    case 'integer':
    case 'long':
    case 'double':
    case 'float':
      return pick([0, 7, -3, 2.5, 1e21, '12']);
    case 'timestamp':
      return pick([new Date('2024-01-02T03:04:05.000Z'), 1_700_000_000_000, '2024-05-06T07:08:09Z']);
    case 'blob':
      return pick([Buffer.from('bytes'), 'already-base64']);
    default:
      return pick(['', 'i-0123456789abcdef0', 'running', 'a<b & "c" \'d\' >', 'värde ☁', '😀', 'x'.repeat(40)]);
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Buffer.isBuffer(o) && !(o instanceof Date)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

describe('XML serializer against a plain walk of the model', () => {
  it('writes what the reference writes, for every operation over seeded random outputs', () => {
    const rand = random(20261201);
    let checked = 0;
    for (const operation of Object.keys(ec2Model.operations)) {
      const [, outputIndex] = ec2Model.operations[operation]!;
      const fn = serializer.serializer(operation);
      for (let round = 0; round < 3; round++) {
        const output = (outputIndex >= 0 ? randomValue(outputIndex, rand, 0) : {}) as Record<string, unknown>;
        // Frozen objects (catalogue entries, stored records) have their strings checked once, and not again.
        if (round > 0) deepFreeze(output);
        const out = fn(output, `req-${round}`);
        const xml = serializedText(out);
        assert.equal(xml, referenceXml(operation, output, `req-${round}`), `${operation}, round ${round}`);
        if (typeof out === 'string') assert.ok(!/[^\x00-\x7f]/.test(out), `${operation}: a string answer must be ASCII`);
        checked++;
      }
    }
    assert.ok(checked > 1500, `checked ${checked}`);
  });

  it('escapes the strings of frozen objects that need it, every time, and never trusts a getter', () => {
    const tags = (t: object) => ({ Tags: [t] });
    const safe = Object.freeze({ ResourceId: 'vpc-1', ResourceType: 'vpc', Key: 'k', Value: 'plain' });
    const unsafe = Object.freeze({ ResourceId: 'vpc-1', ResourceType: 'vpc', Key: 'k', Value: 'a<b & c' });
    const wide = Object.freeze({ ResourceId: 'vpc-1', ResourceType: 'vpc', Key: 'k', Value: 'värde' });
    let n = 0;
    const sneaky = Object.freeze(Object.defineProperty({ ResourceId: 'vpc-1', ResourceType: 'vpc', Key: 'k' }, 'Value', { get: () => (n++ % 2 ? '<x/>' : 'ok'), enumerable: true }));
    const fn = serializer.serializer('DescribeTags');
    for (let i = 0; i < 3; i++) {
      assert.equal(fn(tags(safe), 'r'), referenceXml('DescribeTags', tags(safe), 'r'));
      assert.match(fn(tags(unsafe), 'r') as string, /<value>a&lt;b &amp; c<\/value>/);
      const w = fn(tags(wide), 'r');
      assert.ok(Array.isArray(w), 'a frozen non-ASCII string still makes the answer bytes');
      assert.match(serializedText(w), /<value>värde<\/value>/);
      assert.doesNotMatch(fn(tags(sneaky), 'r') as string, /<x\/>/);
    }
    assert.ok(n >= 3, 'the getter was read on every call');
  });

  it('keeps the output right when one structure is met with different members present, call after call', () => {
    // The merge sites remember recent markup; here they see a new combination on every call.
    const rand = random(7);
    for (let i = 0; i < 300; i++) {
      const tags = Array.from({ length: Math.floor(rand() * 4) }, () => {
        const t: Record<string, string> = {};
        for (const k of ['ResourceId', 'ResourceType', 'Key', 'Value']) if (rand() < 0.6) t[k] = k === 'Value' ? 'v&' : 'x';
        return t;
      });
      const out = serializer.serializer('DescribeTags')({ Tags: tags }, 'r');
      assert.equal(serializedText(out), referenceXml('DescribeTags', { Tags: tags }, 'r'));
    }
  });
});

describe('XML serializer on shapes EC2 does not use today', () => {
  it('writes maps (entries with and without a value) and lists of lists as the reference does', () => {
    const model: CompactModel = {
      generated: 'test',
      apiVersion: '2016-11-15',
      xmlNamespace: 'urn:test',
      operations: { Probe: [-1, 0] },
      shapes: [
        { k: 'structure', m: [['Attrs', 'Attrs', 'attrs', 1], ['Grid', 'Grid', 'grid', 3], ['Name', 'Name', 'name', 2]] },
        { k: 'map', key: 2, value: 2 },
        { k: 'string' },
        { k: 'list', m: 4, n: 'row' },
        { k: 'list', m: 2, n: 'cell' },
      ],
    };
    const fn = new XmlSerializer(model).serializer('Probe');
    for (const output of [
      { Attrs: { a: '1', b: null, 'c&': '<3' }, Grid: [['x', 'y'], [], ['z']], Name: 'n' },
      { Attrs: { b: null }, Name: 'only' },
      { Attrs: {}, Grid: [] },
    ]) {
      const out = fn(output, 'r');
      assert.equal(serializedText(out), referenceXml('Probe', output, 'r', model));
    }
  });
});
