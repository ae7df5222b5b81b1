import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ec2Model } from '../../src/protocol/model/index.js';
import { XmlSerializer } from '../../src/protocol/xml-serializer.js';

const serializer = new XmlSerializer(ec2Model);

describe('XML serializer (compiled from the model)', () => {
  it('writes EC2 response XML: no Result wrapper, requestId, lowerCamel names, <item> lists', () => {
    const xml = serializer.serializer('DescribeRegions')(
      { Regions: [{ RegionName: 'us-east-1', Endpoint: 'ec2.us-east-1.amazonaws.com', OptInStatus: 'opt-in-not-required' }] },
      'req-1',
    ).toString('utf8');
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>' +
        '<regionInfo><item><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><regionName>us-east-1</regionName><optInStatus>opt-in-not-required</optInStatus></item></regionInfo>' +
        '</DescribeRegionsResponse>',
    );
  });

  it('renders booleans, numbers, timestamps, nested structures, empty lists and escapes text', () => {
    const xml = serializer.serializer('DescribeInstances')(
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
    ).toString('utf8');
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
    const xml = serializer.serializer('CreateTags')({}, 'x').toString('utf8');
    assert.match(xml, /<CreateTagsResponse xmlns="[^"]+"><requestId>x<\/requestId><\/CreateTagsResponse>$/);
  });

  it('writes multi-megabyte responses in slices without losing or reordering anything', () => {
    const tags = Array.from({ length: 20_000 }, (_, i) => ({ ResourceId: `vpc-${i}`, ResourceType: 'vpc', Key: `k${i}`, Value: `värde-${i}-☁` }));
    const buf = serializer.serializer('DescribeTags')({ Tags: tags }, 'big');
    assert.ok(buf.length > 1_000_000);
    const xml = buf.toString('utf8');
    const values = [...xml.matchAll(/<value>([^<]*)<\/value>/g)].map((m) => m[1]);
    assert.equal(values.length, 20_000);
    assert.equal(values[0], 'värde-0-☁');
    assert.equal(values[12_345], 'värde-12345-☁');
    assert.ok(xml.endsWith('</tagSet></DescribeTagsResponse>'));
    // the same call again starts from a clean buffer
    const again = serializer.serializer('DescribeTags')({ Tags: tags.slice(0, 1) }, 'small').toString('utf8');
    assert.equal((again.match(/<item>/g) ?? []).length, 1);
    assert.match(again, /<requestId>small<\/requestId>/);
  });

  it('answers a small ASCII response as a string whose length is its byte length, anything else as UTF-8 bytes', () => {
    const tags = (value: string) => ({ Tags: [{ ResourceId: 'vpc-1', ResourceType: 'vpc', Key: 'k', Value: value }] });
    const ascii = serializer.serializer('DescribeTags')(tags('plain & <simple>'), 'r1');
    assert.equal(typeof ascii, 'string');
    assert.equal(Buffer.byteLength(ascii as string), (ascii as string).length);
    assert.match(ascii as string, /<value>plain &amp; &lt;simple&gt;<\/value>/);
    for (const value of ['värde', '☁ cloud', 'emoji 😀', 'latin1 \u00ff']) {
      const out = serializer.serializer('DescribeTags')(tags(value), 'r2');
      assert.ok(Buffer.isBuffer(out), `${value} must come back as bytes`);
      assert.match(out.toString('utf8'), new RegExp(`<value>${value}</value>`));
    }
    // a number member holding a non-ASCII string (a handler bug) is escaped and sent as bytes, not cut to latin1
    const odd = serializer.serializer('DescribeInstances')({ Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Code: '☁<', Name: 'running' } }] }] }, 'r4');
    assert.ok(Buffer.isBuffer(odd));
    assert.match(odd.toString('utf8'), /<code>☁&lt;<\/code>/);
    // a non-ASCII value in one call does not make the next call's ASCII response bytes
    assert.equal(typeof serializer.serializer('DescribeTags')(tags('again'), 'r3'), 'string');
  });
});
