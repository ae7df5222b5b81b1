/** CreateKeyPair makes its key off the event loop: other calls are answered meanwhile. */
import { CreateKeyPairCommand, DescribeKeyPairsCommand, DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('CreateKeyPair off the event loop', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('answers with a promise, and the event loop turns before the RSA key exists', async () => {
    const order: string[] = [];
    const result = t.server.dispatcher.invoke('CreateKeyPair', 'us-east-1', 'req-1', { KeyName: 'async-rsa', KeyType: 'rsa' });
    assert.ok(result instanceof Promise, 'a prepared action answers with a promise');
    setImmediate(() => order.push('event loop turned'));
    const out = (await result) as { KeyMaterial?: string };
    order.push('key made');
    assert.match(out.KeyMaterial ?? '', /BEGIN RSA PRIVATE KEY/);
    // with generateKeyPairSync the key would exist before invoke() returned, so before any turn
    assert.deepEqual(order, ['event loop turned', 'key made']);
  });

  it('answers DescribeRegions while RSA keys are being made', async () => {
    const c = t.client();
    const done: string[] = [];
    const keys = Promise.all(
      [1, 2, 3].map((n) => c.send(new CreateKeyPairCommand({ KeyName: `busy-${n}` })).then(() => done.push(`key ${n}`))),
    );
    // sent after the key requests, on other connections
    const regions = c.send(new DescribeRegionsCommand({})).then((r) => {
      done.push('regions');
      return r;
    });
    const [, r] = await Promise.all([keys, regions]);
    assert.ok((r.Regions ?? []).length > 10);
    assert.equal(done.length, 4);
    assert.notEqual(done.indexOf('regions'), 3, `DescribeRegions waited for every key: ${done.join(', ')}`);
  });

  it('checks the name again inside the transaction: two creations of one name make one pair', async () => {
    const c = t.client();
    const results = await Promise.allSettled([1, 2].map(() => c.send(new CreateKeyPairCommand({ KeyName: 'twice' }))));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 1);
    assert.equal(failed.length, 1);
    assert.equal((failed[0]!.reason as { name?: string }).name, 'InvalidKeyPair.Duplicate');
    const listed = await c.send(new DescribeKeyPairsCommand({ KeyNames: ['twice'] }));
    assert.equal(listed.KeyPairs?.length, 1);
  });

  it('on DryRun validates and makes no key', async () => {
    const err = await ec2Error(t.client().send(new CreateKeyPairCommand({ KeyName: 'dry', DryRun: true })));
    assert.equal(err.code, 'DryRunOperation');
    const bad = await ec2Error(t.client().send(new CreateKeyPairCommand({ KeyName: 'bad', KeyType: 'dsa' as 'rsa' })));
    assert.equal(bad.code, 'InvalidParameterValue');
  });
});
