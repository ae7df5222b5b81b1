/**
 * ClientToken idempotency does not depend on the order of the parameters on the
 * wire: the same RunInstances sent twice with the same token, its parameters in
 * another order, answers the same reservation and launches one instance.
 */
import { DescribeImagesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode, send, signedRequest } from '../helpers/sign.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const body = (pairs: [string, string][]): string => new URLSearchParams([['Version', '2016-11-15'], ...pairs]).toString();

describe('ClientToken fingerprint is order-independent', () => {
  let t: TestServer;
  let imageId: string;
  before(async () => {
    t = await startTestServer();
    imageId = (await t.client().send(new DescribeImagesCommand({}))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  async function call(pairs: [string, string][]): Promise<{ status: number; body: string }> {
    const r = await send(t.url, await signedRequest(t.url, body(pairs)));
    return { status: r.status, body: r.body };
  }

  it('same RunInstances, parameters reordered, same token: same answer, one instance', async () => {
    const token = 'reorder-token-1';
    const first = await call([
      ['Action', 'RunInstances'],
      ['ImageId', imageId],
      ['MinCount', '1'],
      ['MaxCount', '1'],
      ['InstanceType', 't3.micro'],
      ['ClientToken', token],
      ['TagSpecification.1.ResourceType', 'instance'],
      ['TagSpecification.1.Tag.1.Key', 'Name'],
      ['TagSpecification.1.Tag.1.Value', 'web'],
      ['Monitoring.Enabled', 'false'],
    ]);
    assert.equal(first.status, 200, first.body);
    const second = await call([
      ['TagSpecification.1.Tag.1.Value', 'web'],
      ['ClientToken', token],
      ['Monitoring.Enabled', 'false'],
      ['TagSpecification.1.Tag.1.Key', 'Name'],
      ['InstanceType', 't3.micro'],
      ['MaxCount', '1'],
      ['TagSpecification.1.ResourceType', 'instance'],
      ['Action', 'RunInstances'],
      ['MinCount', '1'],
      ['ImageId', imageId],
    ]);
    assert.equal(second.status, 200, `${errorCode(second.body)}: ${second.body.slice(0, 300)}`);
    const ids = (b: string): string[] => [...b.matchAll(/<instanceId>(i-[0-9a-f]+)<\/instanceId>/g)].map((m) => m[1]!);
    const reservation = (b: string): string | undefined => /<reservationId>(r-[0-9a-f]+)<\/reservationId>/.exec(b)?.[1];
    assert.equal(ids(first.body).length, 1);
    assert.deepEqual(ids(second.body), ids(first.body));
    assert.equal(reservation(second.body), reservation(first.body));
    const all = await t.client().send(new DescribeInstancesCommand({}));
    const launched = (all.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    assert.equal(launched.length, 1);

    // a really different request with the same token is still a mismatch
    const other = await call([
      ['Action', 'RunInstances'],
      ['ImageId', imageId],
      ['MinCount', '1'],
      ['MaxCount', '2'],
      ['InstanceType', 't3.micro'],
      ['ClientToken', token],
      ['TagSpecification.1.ResourceType', 'instance'],
      ['TagSpecification.1.Tag.1.Key', 'Name'],
      ['TagSpecification.1.Tag.1.Value', 'web'],
      ['Monitoring.Enabled', 'false'],
    ]);
    assert.equal(errorCode(other.body), 'IdempotentParameterMismatch');
  });
});
