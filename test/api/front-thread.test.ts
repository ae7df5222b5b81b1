/**
 * The front thread (src/front.ts): HTTP and reads on a thread of their own, every other
 * call sent to the server's thread. Through the SDK: a read on one connection right after a
 * write on another sees the write; reads are answered without the server's thread reading
 * the store (and, with the front thread off, or with a test's clock, by it); forwarded
 * calls keep their error codes, statuses and blobs; closing the server leaves no thread
 * and no listener behind.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CreateKeyPairCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteVpcCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  ImportKeyPairCommand,
} from '@aws-sdk/client-ec2';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const ED25519_PUB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDTKhL6mzFf1C8Sm7IMBvnEPtWcGu4b4jXJ1HePoE+TN front@test';

/** Records the server's own thread read from the store while `fn` ran. */
async function mainThreadReads(t: TestServer, fn: () => Promise<unknown>): Promise<number> {
  const stats = (t.server.store as unknown as { readStats: { records: number } }).readStats;
  const before = stats.records;
  await fn();
  return stats.records - before;
}

async function describeMany(t: TestServer): Promise<void> {
  const c = t.client();
  for (let i = 0; i < 10; i++) {
    await c.send(new DescribeVpcsCommand({}));
    await c.send(new DescribeSecurityGroupsCommand({}));
  }
}

describe('front thread', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await t.client().send(new DescribeVpcsCommand({})); // the region is set up
  });
  after(() => t.close());

  it('a read on another connection right after a write sees the write, every time', async () => {
    const writer = t.client();
    const reader = t.client();
    for (let i = 0; i < 30; i++) {
      const name = `front-${i}`;
      await writer.send(new CreateKeyPairCommand({ KeyName: name }));
      const seen = await reader.send(new DescribeKeyPairsCommand({ KeyNames: [name] }));
      assert.equal(seen.KeyPairs?.[0]?.KeyName, name, `key pair ${i}`);
    }
    const vpc = (await writer.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    await writer.send(new CreateTagsCommand({ Resources: [vpc], Tags: [{ Key: 'Name', Value: 'front' }] }));
    const tags = await reader.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [vpc] }] }));
    assert.deepEqual(tags.Tags?.map((x) => [x.Key, x.Value]), [['Name', 'front']]);
    await writer.send(new DeleteVpcCommand({ VpcId: vpc }));
    const gone = await ec2Error(reader.send(new DescribeVpcsCommand({ VpcIds: [vpc] })));
    assert.equal(gone.code, 'InvalidVpcID.NotFound');
  });

  it('answers reads without the server thread reading the store', async () => {
    assert.equal(await mainThreadReads(t, () => describeMany(t)), 0);
  });

  it('forwards writes with their errors, statuses and blobs intact', async () => {
    const c = t.client();
    const missing = await ec2Error(c.send(new DeleteVpcCommand({ VpcId: 'vpc-0123456789abcdef0' })));
    assert.deepEqual([missing.code, missing.status], ['InvalidVpcID.NotFound', 400]);
    const dry = await ec2Error(c.send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16', DryRun: true })));
    assert.deepEqual([dry.code, dry.status], ['DryRunOperation', 412]);
    // PublicKeyMaterial is a blob: bytes cross the threads as bytes
    const imported = await c.send(new ImportKeyPairCommand({ KeyName: 'front-imported', PublicKeyMaterial: new TextEncoder().encode(ED25519_PUB) }));
    assert.match(imported.KeyFingerprint ?? '', /=$|:/);
    const seen = await c.send(new DescribeKeyPairsCommand({ KeyNames: ['front-imported'], IncludePublicKey: true }));
    assert.equal(seen.KeyPairs?.[0]?.PublicKey?.split(' ').slice(0, 2).join(' '), ED25519_PUB.split(' ').slice(0, 2).join(' '));
  });
});

describe('reads on the server thread', () => {
  it('with the front thread off, and with a test clock (the front thread then forwards everything)', async () => {
    const off = await startTestServer({ frontThread: false });
    const clocked = await startTestServer({}, undefined, { clock: () => new Date() });
    try {
      for (const s of [off, clocked]) {
        await s.client().send(new DescribeVpcsCommand({}));
        assert.ok((await mainThreadReads(s, () => describeMany(s))) > 0);
      }
    } finally {
      await off.close();
      await clocked.close();
    }
  });
});

/** This process's threads. */
const threads = (): number => readdirSync('/proc/self/task').length;

function refused(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const q = request(`${url}/healthz`, (res) => {
      res.resume();
      resolve(false);
    });
    q.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    q.end();
  });
}

describe('closing a server with its front thread', () => {
  it('leaves no thread and no listener', async () => {
    // a first server brings up what the process keeps (libuv's pool, V8's helpers)
    await (await startTestServer()).close();
    const base = threads();
    const s = await startTestServer();
    await s.client().send(new DescribeVpcsCommand({}));
    assert.ok(threads() > base, 'the front thread runs');
    const url = s.url;
    await s.close();
    let left = threads();
    for (let i = 0; i < 40 && left > base; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = threads();
    }
    assert.ok(left <= base, `threads: ${left} after close, ${base} before`);
    assert.equal(await refused(url), true);
  });
});
