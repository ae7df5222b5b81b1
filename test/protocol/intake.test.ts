/** QueryEndpoint's deferred intake: what the server holds back (writes) waits, without holding back what it lets through (reads). */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ec2Model } from '../../src/protocol/model/index.js';
import { peekAction, QueryEndpoint } from '../../src/protocol/query-endpoint.js';

describe('endpoint: deferred intake', () => {
  let server: Server;
  let url: string;
  const invoked: string[] = [];
  const asked: string[] = [];
  let release: () => void = () => {};
  before(async () => {
    const endpoint = new QueryEndpoint({
      model: ec2Model,
      auth: 'any',
      secretFor: () => undefined,
      defaultRegion: 'eu-north-1',
      isRegionServed: () => true,
      implements: (a) => a === 'DescribeRegions' || a === 'CreateKeyPair',
      admit: () => true,
      invoke: (a, region, _id, input) => {
        invoked.push(a);
        return a === 'CreateKeyPair' ? { KeyName: String(input.KeyName), KeyFingerprint: 'f', KeyMaterial: 'm', KeyPairId: 'key-1' } : { Regions: [{ RegionName: region }] };
      },
      deferIntake: (a) => {
        asked.push(a);
        return a === 'CreateKeyPair' ? new Promise<void>((r) => (release = r)) : undefined;
      },
    });
    server = createServer(endpoint.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const form = (body: string) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });

  it('answers a read while a write waits for its intake, then takes the write in', async () => {
    const write = form('Version=2016-11-15&Action=CreateKeyPair&KeyName=k1');
    for (let i = 0; i < 200 && !asked.includes('CreateKeyPair'); i++) await new Promise((r) => setTimeout(r, 5));
    const read = await form('Action=DescribeRegions&Version=2016-11-15');
    assert.equal(read.status, 200);
    assert.deepEqual(invoked, ['DescribeRegions'], 'the write is not even parsed while it waits');
    release();
    const w = await write;
    assert.equal(w.status, 200);
    assert.match(await w.text(), /<keyName>k1<\/keyName>/);
    assert.deepEqual(invoked, ['DescribeRegions', 'CreateKeyPair']);
  });

  it('peeks the action of a form or a query string, and only a whole field named Action', () => {
    assert.equal(peekAction('/', Buffer.from('Action=RunInstances&Version=2016-11-15')), 'RunInstances');
    assert.equal(peekAction('/', Buffer.from('Version=2016-11-15&Action=DescribeRegions')), 'DescribeRegions');
    assert.equal(peekAction('/', Buffer.from('Version=2016-11-15&TagAction=X&Action=CreateTags')), 'CreateTags');
    assert.equal(peekAction('/?Action=DescribeVpcs&Version=2016-11-15', Buffer.alloc(0)), 'DescribeVpcs');
    assert.equal(peekAction('/', Buffer.from('{"Name":"/x"}')), '');
    assert.equal(peekAction('/', Buffer.from('Version=2016-11-15&XAction=RunInstances')), '');
  });
});
