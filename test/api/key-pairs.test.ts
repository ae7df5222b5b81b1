import {
  CreateKeyPairCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DescribeKeyPairsCommand,
  DescribeTagsCommand,
  ImportKeyPairCommand,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { opensslDigestColon, run, runText } from '../helpers/tools.js';

let dir: string;
let fileNo = 0;
function tmpFile(content: string | Buffer): string {
  const p = join(dir, `f${++fileNo}`);
  writeFileSync(p, content, { mode: 0o600 });
  return p;
}
const firstTwo = (line: string): string => line.trim().split(/\s+/).slice(0, 2).join(' ');

/** A fresh key pair made by ssh-keygen: [private key path, public key line]. */
function sshKeygen(type: 'rsa' | 'ed25519'): [string, string] {
  const p = join(dir, `k${++fileNo}`);
  run('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', 'me@example', '-f', p]);
  return [p, runText('cat', [`${p}.pub`]).trim()];
}

describe('key pairs', () => {
  let t: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overcast-kp-'));
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ec2 = () => t.client();
  const names = async (): Promise<string[]> =>
    ((await ec2().send(new DescribeKeyPairsCommand({}))).KeyPairs ?? []).map((k) => k.KeyName!).sort();

  it('CreateKeyPair (rsa pem) returns a usable private key whose public half DescribeKeyPairs shows', async () => {
    const created = await ec2().send(
      new CreateKeyPairCommand({
        KeyName: 'rsa-key',
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'team', Value: 'blue' }] }],
      }),
    );
    assert.match(created.KeyPairId!, /^key-[0-9a-f]{17}$/);
    assert.equal(created.KeyName, 'rsa-key');
    assert.deepEqual(created.Tags, [{ Key: 'team', Value: 'blue' }]);
    assert.match(created.KeyMaterial!, /^-----BEGIN RSA PRIVATE KEY-----\n/);

    const priv = tmpFile(created.KeyMaterial! + '\n');
    const derived = firstTwo(runText('ssh-keygen', ['-y', '-f', priv]));
    const pkcs8 = run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', priv, '-outform', 'DER']);
    assert.equal(created.KeyFingerprint, opensslDigestColon('sha1', pkcs8));

    const desc = await ec2().send(new DescribeKeyPairsCommand({ KeyNames: ['rsa-key'], IncludePublicKey: true }));
    assert.equal(desc.KeyPairs!.length, 1);
    const kp = desc.KeyPairs![0]!;
    assert.equal(kp.KeyPairId, created.KeyPairId);
    assert.equal(kp.KeyType, 'rsa');
    assert.equal(kp.KeyFingerprint, created.KeyFingerprint);
    assert.equal(firstTwo(kp.PublicKey!), derived);
    assert.ok(kp.CreateTime instanceof Date && Math.abs(kp.CreateTime.getTime() - Date.now()) < 60_000);
    assert.deepEqual(kp.Tags, [{ Key: 'team', Value: 'blue' }]);

    const without = await ec2().send(new DescribeKeyPairsCommand({ KeyNames: ['rsa-key'] }));
    assert.equal(without.KeyPairs![0]!.PublicKey, undefined);
  });

  it('CreateKeyPair ed25519 gives an OpenSSH key and the base64 SHA-256 fingerprint', async () => {
    const created = await ec2().send(new CreateKeyPairCommand({ KeyName: 'ed-key', KeyType: 'ed25519' }));
    assert.match(created.KeyMaterial!, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    const priv = tmpFile(created.KeyMaterial!);
    const derived = firstTwo(runText('ssh-keygen', ['-y', '-f', priv]));
    const blob = Buffer.from(derived.split(' ')[1]!, 'base64');
    assert.equal(created.KeyFingerprint, createHash('sha256').update(blob).digest('base64'));
    const kp = (await ec2().send(new DescribeKeyPairsCommand({ KeyPairIds: [created.KeyPairId!], IncludePublicKey: true })))
      .KeyPairs![0]!;
    assert.equal(kp.KeyType, 'ed25519');
    assert.equal(firstTwo(kp.PublicKey!), derived);
    assert.equal(kp.Tags?.length ?? 0, 0);
  });

  it('CreateKeyPair ppk gives a PuTTY file', async () => {
    const created = await ec2().send(new CreateKeyPairCommand({ KeyName: 'putty-key', KeyFormat: 'ppk' }));
    assert.match(created.KeyMaterial!, /^PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: putty-key\n/);
  });

  it('CreateKeyPair rejects duplicates, bad names, bad types and bad tag specifications', async () => {
    const dup = await ec2Error(ec2().send(new CreateKeyPairCommand({ KeyName: 'rsa-key' })));
    assert.equal(dup.code, 'InvalidKeyPair.Duplicate');
    assert.equal(dup.message, "The keypair 'rsa-key' already exists.");
    const missing = await ec2Error(ec2().send(new CreateKeyPairCommand({ KeyName: '' })));
    assert.equal(missing.code, 'MissingParameter');
    const long = await ec2Error(ec2().send(new CreateKeyPairCommand({ KeyName: 'k'.repeat(256) })));
    assert.equal(long.code, 'InvalidParameterValue');
    const unicode = await ec2Error(ec2().send(new CreateKeyPairCommand({ KeyName: 'clé' })));
    assert.equal(unicode.code, 'InvalidParameterValue');
    const type = await ec2Error(ec2().send(new CreateKeyPairCommand({ KeyName: 'x', KeyType: 'dsa' as never })));
    assert.equal(type.code, 'InvalidParameterValue');
    const format = await ec2Error(ec2().send(new CreateKeyPairCommand({ KeyName: 'x', KeyFormat: 'der' as never })));
    assert.equal(format.code, 'InvalidParameterValue');
    const spec = await ec2Error(
      ec2().send(new CreateKeyPairCommand({ KeyName: 'x', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }] })),
    );
    assert.equal(spec.code, 'InvalidParameterValue');
    // a 255-character name is fine
    const ok = await ec2().send(new CreateKeyPairCommand({ KeyName: 'n'.repeat(255), KeyType: 'ed25519' }));
    assert.equal(ok.KeyName!.length, 255);
    await ec2().send(new DeleteKeyPairCommand({ KeyPairId: ok.KeyPairId }));
    assert.ok(!(await names()).includes('x'));
  });

  it('ImportKeyPair accepts ssh-keygen RSA and ED25519 keys with the fingerprints EC2 computes', async () => {
    const [rsaPriv, rsaPub] = sshKeygen('rsa');
    const imported = await ec2().send(
      new ImportKeyPairCommand({
        KeyName: 'imported-rsa',
        PublicKeyMaterial: Buffer.from(rsaPub),
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'origin', Value: 'laptop' }] }],
      }),
    );
    assert.match(imported.KeyPairId!, /^key-[0-9a-f]{17}$/);
    assert.deepEqual(imported.Tags, [{ Key: 'origin', Value: 'laptop' }]);
    const spki = run('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', `${rsaPriv}.pub`]);
    const der = createPublicKey(spki).export({ type: 'spki', format: 'der' });
    assert.equal(imported.KeyFingerprint, opensslDigestColon('md5', der));

    const [, edPub] = sshKeygen('ed25519');
    const ed = await ec2().send(new ImportKeyPairCommand({ KeyName: 'imported-ed', PublicKeyMaterial: Buffer.from(edPub) }));
    const blob = Buffer.from(edPub.split(' ')[1]!, 'base64');
    assert.equal(ed.KeyFingerprint, createHash('sha256').update(blob).digest('base64'));

    const desc = await ec2().send(
      new DescribeKeyPairsCommand({ KeyNames: ['imported-rsa', 'imported-ed'], IncludePublicKey: true }),
    );
    const byName = new Map(desc.KeyPairs!.map((k) => [k.KeyName, k]));
    assert.equal(firstTwo(byName.get('imported-rsa')!.PublicKey!), firstTwo(rsaPub));
    assert.equal(byName.get('imported-rsa')!.KeyType, 'rsa');
    assert.equal(firstTwo(byName.get('imported-ed')!.PublicKey!), firstTwo(edPub));
    assert.equal(byName.get('imported-ed')!.KeyType, 'ed25519');
  });

  it('ImportKeyPair rejects bad key material and duplicate names', async () => {
    const bad = await ec2Error(
      ec2().send(new ImportKeyPairCommand({ KeyName: 'junk', PublicKeyMaterial: Buffer.from('ssh-rsa not-a-key') })),
    );
    assert.equal(bad.code, 'InvalidKey.Format');
    assert.match(bad.message, /Key is not in valid OpenSSH public key format/);
    const [priv] = sshKeygen('ed25519');
    const privateKey = await ec2Error(
      ec2().send(new ImportKeyPairCommand({ KeyName: 'junk', PublicKeyMaterial: Buffer.from(runText('cat', [priv])) })),
    );
    assert.equal(privateKey.code, 'InvalidKey.Format');
    const [, pub] = sshKeygen('ed25519');
    const dup = await ec2Error(ec2().send(new ImportKeyPairCommand({ KeyName: 'imported-ed', PublicKeyMaterial: Buffer.from(pub) })));
    assert.equal(dup.code, 'InvalidKeyPair.Duplicate');
    assert.ok(!(await names()).includes('junk'));
  });

  it('DryRun on Create/Import/Delete answers DryRunOperation (412) and changes nothing', async () => {
    const before = await names();
    const c = await ec2Error(ec2().send(new CreateKeyPairCommand({ KeyName: 'dry', DryRun: true })));
    assert.equal(c.code, 'DryRunOperation');
    assert.equal(c.status, 412);
    const [, pub] = sshKeygen('ed25519');
    const i = await ec2Error(ec2().send(new ImportKeyPairCommand({ KeyName: 'dry2', PublicKeyMaterial: Buffer.from(pub), DryRun: true })));
    assert.equal(i.code, 'DryRunOperation');
    assert.equal(i.status, 412);
    const d = await ec2Error(ec2().send(new DeleteKeyPairCommand({ KeyName: 'rsa-key', DryRun: true })));
    assert.equal(d.code, 'DryRunOperation');
    assert.equal(d.status, 412);
    assert.deepEqual(await names(), before);
    // DryRun still validates: a duplicate fails as such
    const dup = await ec2Error(ec2().send(new CreateKeyPairCommand({ KeyName: 'rsa-key', DryRun: true })));
    assert.equal(dup.code, 'InvalidKeyPair.Duplicate');
  });

  it('DescribeKeyPairs filters by name, id, fingerprint, type and tags', async () => {
    const all = (await ec2().send(new DescribeKeyPairsCommand({}))).KeyPairs!;
    const rsa = all.find((k) => k.KeyName === 'rsa-key')!;
    const filter = async (Name: string, Values: string[]) =>
      ((await ec2().send(new DescribeKeyPairsCommand({ Filters: [{ Name, Values }] }))).KeyPairs ?? []).map((k) => k.KeyName).sort();
    assert.deepEqual(await filter('key-name', ['imported-*']), ['imported-ed', 'imported-rsa']);
    assert.deepEqual(await filter('key-pair-id', [rsa.KeyPairId!]), ['rsa-key']);
    assert.deepEqual(await filter('fingerprint', [rsa.KeyFingerprint!]), ['rsa-key']);
    assert.deepEqual(await filter('key-type', ['ed25519']), all.filter((k) => k.KeyType === 'ed25519').map((k) => k.KeyName).sort());
    assert.ok((await filter('key-type', ['ed25519'])).includes('ed-key'));
    assert.deepEqual(await filter('tag:team', ['blue']), ['rsa-key']);
    assert.deepEqual(await filter('tag-key', ['origin']), ['imported-rsa']);
    await ec2().send(new CreateTagsCommand({ Resources: [rsa.KeyPairId!], Tags: [{ Key: 'env', Value: 'prod' }] }));
    assert.deepEqual(await filter('tag:env', ['prod']), ['rsa-key']);
    const bad = await ec2Error(ec2().send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })));
    assert.equal(bad.code, 'InvalidParameterValue');
  });

  it('DescribeKeyPairs reports unknown names and ids', async () => {
    const name = await ec2Error(ec2().send(new DescribeKeyPairsCommand({ KeyNames: ['rsa-key', 'nope'] })));
    assert.equal(name.code, 'InvalidKeyPair.NotFound');
    assert.equal(name.message, "The key pair 'nope' does not exist");
    const id = await ec2Error(ec2().send(new DescribeKeyPairsCommand({ KeyPairIds: ['key-0123456789abcdef0'] })));
    assert.equal(id.code, 'InvalidKeyPair.NotFound');
    assert.match(id.message, /key-0123456789abcdef0/);
    const malformed = await ec2Error(ec2().send(new DescribeKeyPairsCommand({ KeyPairIds: ['kp-1'] })));
    assert.match(malformed.code, /^InvalidKeyPair\./);
  });

  it('key pairs are regional', async () => {
    const other = (await t.client('eu-west-1').send(new DescribeKeyPairsCommand({}))).KeyPairs ?? [];
    assert.equal(other.length, 0);
    const again = await t.client('eu-west-1').send(new CreateKeyPairCommand({ KeyName: 'rsa-key', KeyType: 'ed25519' }));
    assert.equal(again.KeyName, 'rsa-key');
  });

  it('DeleteKeyPair by name and by id removes the pair and its tags; unknown names succeed quietly', async () => {
    const byName = (await ec2().send(new DescribeKeyPairsCommand({ KeyNames: ['rsa-key'] }))).KeyPairs![0]!;
    const out = await ec2().send(new DeleteKeyPairCommand({ KeyName: 'rsa-key' }));
    assert.equal(out.Return, true);
    assert.equal(out.KeyPairId, byName.KeyPairId);
    assert.ok(!(await names()).includes('rsa-key'));
    const tags = await ec2().send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [byName.KeyPairId!] }] }));
    assert.equal(tags.Tags!.length, 0);

    const ed = (await ec2().send(new DescribeKeyPairsCommand({ KeyNames: ['ed-key'] }))).KeyPairs![0]!;
    const out2 = await ec2().send(new DeleteKeyPairCommand({ KeyPairId: ed.KeyPairId }));
    assert.equal(out2.KeyPairId, ed.KeyPairId);
    assert.ok(!(await names()).includes('ed-key'));

    const quiet = await ec2().send(new DeleteKeyPairCommand({ KeyName: 'never-existed' }));
    assert.equal(quiet.Return, true);
    assert.equal(quiet.KeyPairId, undefined);
    const gone = await ec2Error(ec2().send(new DeleteKeyPairCommand({ KeyPairId: ed.KeyPairId })));
    assert.equal(gone.code, 'InvalidKeyPair.NotFound');
    const none = await ec2Error(ec2().send(new DeleteKeyPairCommand({})));
    assert.equal(none.code, 'MissingParameter');
    // the same name can be used again once deleted
    const again = await ec2().send(new CreateKeyPairCommand({ KeyName: 'rsa-key', KeyType: 'ed25519' }));
    assert.notEqual(again.KeyPairId, byName.KeyPairId);
  });

  it('key pairs survive a restart', async () => {
    const before = await names();
    await t.restart();
    assert.deepEqual(await names(), before);
  });
});
