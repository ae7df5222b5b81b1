import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { InstanceMetadata, MetadataSource } from '../../src/network/imds/metadata.js';
import { MetadataService } from '../../src/network/imds/service.js';

const VPC = 'vpc-0123456789abcdef0';
const MAC = '02:ab:cd:ef:01:23';

function sample(): InstanceMetadata {
  return {
    instanceId: 'i-0123456789abcdef0',
    instanceType: 't3.micro',
    imageId: 'ami-0abcdef1234567890',
    amiLaunchIndex: 0,
    reservationId: 'r-0123456789abcdef0',
    accountId: '123456789012',
    architecture: 'x86_64',
    region: 'us-east-1',
    availabilityZone: 'us-east-1a',
    availabilityZoneId: 'use1-az1',
    hostname: 'ip-172-31-0-10.ec2.internal',
    privateIp: '172.31.0.10',
    publicIp: '198.51.100.7',
    publicHostname: 'ec2-198-51-100-7.compute-1.amazonaws.com',
    pendingTime: '2026-01-02T03:04:05.678Z',
    interfaces: [
      {
        mac: MAC,
        deviceNumber: 0,
        interfaceId: 'eni-0123456789abcdef0',
        ownerId: '123456789012',
        privateIps: ['172.31.0.10', '172.31.0.11'],
        localHostname: 'ip-172-31-0-10.ec2.internal',
        publicIps: [{ publicIp: '198.51.100.7', privateIp: '172.31.0.10' }],
        publicHostname: 'ec2-198-51-100-7.compute-1.amazonaws.com',
        securityGroupIds: ['sg-1', 'sg-2'],
        securityGroupNames: ['default', 'web'],
        subnetId: 'subnet-1',
        subnetCidr: '172.31.0.0/20',
        vpcId: VPC,
        vpcCidr: '172.31.0.0/16',
        vpcCidrs: ['172.31.0.0/16', '10.1.0.0/16'],
      },
    ],
    securityGroups: ['default', 'web'],
    blockDevices: { ami: '/dev/xvda', root: '/dev/xvda', ebs: ['sdb'], ephemeral: [] },
    publicKeys: [{ name: 'my-key', openssh: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample' }],
    userData: Buffer.from('#!/bin/sh\necho hi\n'),
    options: { httpEndpoint: 'enabled', httpTokens: 'optional', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' },
    tags: [{ key: 'Name', value: 'web-1' }],
  };
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

describe('MetadataService (HTTP on 127.0.0.1)', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let current: InstanceMetadata | undefined;
  let clock = 1_000_000;
  const source: MetadataSource = { lookup: (vpcId, ip) => (vpcId === VPC && ip === '127.0.0.1' ? current : undefined) };
  const svc = new MetadataService({ source, signingKey: keys.privateKey, now: () => clock, log: () => {} });
  let port = 0;

  function call(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  }
  const get = async (path: string, headers?: Record<string, string>): Promise<string> => {
    const a = await call('GET', path, headers);
    assert.equal(a.status, 200, `${path}: ${a.status}`);
    return a.body;
  };
  const token = async (ttl = '21600'): Promise<string> => {
    const a = await call('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': ttl });
    assert.equal(a.status, 200);
    return a.body;
  };

  before(async () => {
    await svc.listen(VPC, '127.0.0.1', 0);
    port = svc.addressOf(VPC)!.port;
    assert.ok(port > 0);
  });
  after(() => svc.close());
  beforeEach(() => {
    current = sample();
    clock = 1_000_000;
  });

  it('listen is idempotent; the bound port is reported', async () => {
    await svc.listen(VPC, '127.0.0.1', 0);
    await svc.listen(VPC, '127.0.0.1', port);
    assert.equal(svc.addressOf(VPC)!.port, port);
    assert.equal(svc.addressOf('vpc-other'), undefined);
  });

  it('lists versions, the version root and the meta-data tree (directories with a trailing /)', async () => {
    const versions = (await get('/')).split('\n');
    assert.ok(versions.includes('latest') && versions.includes('2009-04-04') && versions.includes('2021-03-23'));
    assert.equal(await get('/latest/'), 'dynamic\nmeta-data\nuser-data');
    const tree = (await get('/latest/meta-data/')).split('\n');
    for (const entry of [
      'ami-id', 'ami-launch-index', 'ami-manifest-path', 'block-device-mapping/', 'events/', 'hostname', 'instance-action',
      'instance-id', 'instance-life-cycle', 'instance-type', 'local-hostname', 'local-ipv4', 'mac', 'network/', 'placement/',
      'public-hostname', 'public-ipv4', 'public-keys/', 'reservation-id', 'security-groups', 'services/',
    ]) {
      assert.ok(tree.includes(entry), `missing ${entry} in ${tree.join(',')}`);
    }
    assert.ok(!tree.includes('iam/') && !tree.includes('spot/') && !tree.includes('tags/'));
    assert.deepEqual(await get('/latest/meta-data'), tree.join('\n'));
    // older versions (cloud-init asks 2009-04-04) serve the same tree
    assert.equal(await get('/2009-04-04/meta-data/instance-id'), 'i-0123456789abcdef0');
    assert.equal((await call('GET', '/1999-01-01/meta-data/')).status, 404);
    assert.equal(await get('http://169.254.169.254/latest/meta-data/instance-id'), 'i-0123456789abcdef0');
    assert.equal(await get('/latest/meta-data/instance-id?x=1'), 'i-0123456789abcdef0');
  });

  it("answers each leaf in EC2's format", async () => {
    const md = (p: string) => get(`/latest/meta-data/${p}`);
    assert.equal(await md('ami-id'), 'ami-0abcdef1234567890');
    assert.equal(await md('ami-launch-index'), '0');
    assert.equal(await md('ami-manifest-path'), '(unknown)');
    assert.equal(await md('block-device-mapping/'), 'ami\nebs1\nroot');
    assert.equal(await md('block-device-mapping/ami'), '/dev/xvda');
    assert.equal(await md('block-device-mapping/root'), '/dev/xvda');
    assert.equal(await md('block-device-mapping/ebs1'), 'sdb');
    assert.equal(await md('hostname'), 'ip-172-31-0-10.ec2.internal');
    assert.equal(await md('local-hostname'), 'ip-172-31-0-10.ec2.internal');
    assert.equal(await md('local-ipv4'), '172.31.0.10');
    assert.equal(await md('public-ipv4'), '198.51.100.7');
    assert.equal(await md('public-hostname'), 'ec2-198-51-100-7.compute-1.amazonaws.com');
    assert.equal(await md('instance-id'), 'i-0123456789abcdef0');
    assert.equal(await md('instance-type'), 't3.micro');
    assert.equal(await md('instance-action'), 'none');
    assert.equal(await md('instance-life-cycle'), 'on-demand');
    assert.equal(await md('mac'), MAC);
    assert.equal(await md('placement/'), 'availability-zone\navailability-zone-id\nregion');
    assert.equal(await md('placement/availability-zone'), 'us-east-1a');
    assert.equal(await md('placement/availability-zone-id'), 'use1-az1');
    assert.equal(await md('placement/region'), 'us-east-1');
    assert.equal(await md('public-keys/'), '0=my-key');
    assert.equal(await md('public-keys/0/'), 'openssh-key');
    assert.equal(await md('public-keys/0/openssh-key'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n');
    assert.equal(await md('reservation-id'), 'r-0123456789abcdef0');
    assert.equal(await md('security-groups'), 'default\nweb');
    assert.equal(await md('services/domain'), 'amazonaws.com');
    assert.equal(await md('services/partition'), 'aws');
    assert.equal(await md('events/maintenance/scheduled'), '[]');
    assert.equal(await md('network/interfaces/macs/'), `${MAC}/`);
    const eni = (p: string) => md(`network/interfaces/macs/${MAC}/${p}`);
    const listing = (await eni('')).split('\n');
    for (const e of ['device-number', 'interface-id', 'local-ipv4s', 'mac', 'owner-id', 'public-ipv4s', 'security-group-ids', 'security-groups', 'subnet-id', 'subnet-ipv4-cidr-block', 'vpc-id', 'vpc-ipv4-cidr-block', 'vpc-ipv4-cidr-blocks', 'ipv4-associations/']) {
      assert.ok(listing.includes(e), `missing ${e}`);
    }
    assert.equal(await eni('device-number'), '0');
    assert.equal(await eni('interface-id'), 'eni-0123456789abcdef0');
    assert.equal(await eni('local-ipv4s'), '172.31.0.10\n172.31.0.11');
    assert.equal(await eni('mac'), MAC);
    assert.equal(await eni('owner-id'), '123456789012');
    assert.equal(await eni('public-ipv4s'), '198.51.100.7');
    assert.equal(await eni('ipv4-associations/198.51.100.7'), '172.31.0.10');
    assert.equal(await eni('security-group-ids'), 'sg-1\nsg-2');
    assert.equal(await eni('security-groups'), 'default\nweb');
    assert.equal(await eni('subnet-id'), 'subnet-1');
    assert.equal(await eni('subnet-ipv4-cidr-block'), '172.31.0.0/20');
    assert.equal(await eni('vpc-id'), VPC);
    assert.equal(await eni('vpc-ipv4-cidr-block'), '172.31.0.0/16');
    assert.equal(await eni('vpc-ipv4-cidr-blocks'), '172.31.0.0/16\n10.1.0.0/16');
    const a = await call('GET', '/latest/meta-data/instance-id');
    assert.equal(a.headers['content-type'], 'text/plain');
    assert.equal(a.headers.server, 'EC2ws');
  });

  it('leaves out what the instance lacks: public-ipv4 without a public IP, user-data, keys', async () => {
    const m = current!;
    delete m.publicIp;
    delete m.publicHostname;
    m.interfaces[0]!.publicIps = [];
    delete m.userData;
    m.publicKeys = [];
    const tree = (await get('/latest/meta-data/')).split('\n');
    assert.ok(!tree.includes('public-ipv4') && !tree.includes('public-hostname') && !tree.includes('public-keys/'));
    assert.equal((await call('GET', '/latest/meta-data/public-ipv4')).status, 404);
    assert.equal((await call('GET', `/latest/meta-data/network/interfaces/macs/${MAC}/public-ipv4s`)).status, 404);
    const ud = await call('GET', '/latest/user-data');
    assert.equal(ud.status, 404);
    assert.match(ud.body, /404 - Not Found/);
    assert.equal(await get('/latest/'), 'dynamic\nmeta-data');
  });

  it('IPv6 entries: meta-data/ipv6 and the interface\'s ipv6s and blocks when it has IPv6; 404 when not', async () => {
    const eniPath = `/latest/meta-data/network/interfaces/macs/${MAC}`;
    // without IPv6 (the sample): none of the entries
    for (const p of ['/latest/meta-data/ipv6', `${eniPath}/ipv6s`, `${eniPath}/subnet-ipv6-cidr-blocks`, `${eniPath}/vpc-ipv6-cidr-blocks`]) {
      assert.equal((await call('GET', p)).status, 404, p);
    }
    assert.ok(!(await get('/latest/meta-data/')).split('\n').includes('ipv6'));
    const m = current!;
    m.ipv6 = '2600:1f18:abc:de01::10';
    Object.assign(m.interfaces[0]!, {
      ipv6s: ['2600:1f18:abc:de01::10', '2600:1f18:abc:de01::11'],
      subnetIpv6Cidrs: ['2600:1f18:abc:de01::/64'],
      vpcIpv6Cidrs: ['2600:1f18:abc:de00::/56', '2600:1f18:abc:ff00::/56'],
    });
    assert.ok((await get('/latest/meta-data/')).split('\n').includes('ipv6'));
    assert.equal(await get('/latest/meta-data/ipv6'), '2600:1f18:abc:de01::10');
    const listing = (await get(`${eniPath}/`)).split('\n');
    for (const e of ['ipv6s', 'subnet-ipv6-cidr-blocks', 'vpc-ipv6-cidr-blocks']) assert.ok(listing.includes(e), `missing ${e}`);
    assert.equal(await get(`${eniPath}/ipv6s`), '2600:1f18:abc:de01::10\n2600:1f18:abc:de01::11');
    assert.equal(await get(`${eniPath}/subnet-ipv6-cidr-blocks`), '2600:1f18:abc:de01::/64');
    assert.equal(await get(`${eniPath}/vpc-ipv6-cidr-blocks`), '2600:1f18:abc:de00::/56\n2600:1f18:abc:ff00::/56');
  });

  it('serves user data as given, and the iam, spot and tags directories only when they exist', async () => {
    const ud = await call('GET', '/latest/user-data');
    assert.equal(ud.status, 200);
    assert.equal(ud.body, '#!/bin/sh\necho hi\n');
    assert.equal(ud.headers['content-type'], 'application/octet-stream');
    assert.equal((await call('GET', '/latest/meta-data/tags/instance')).status, 404);
    const m = current!;
    m.options.instanceMetadataTags = 'enabled';
    m.spotInstanceAction = { action: 'terminate', time: '2026-01-02T03:06:00.000Z' };
    m.lifeCycle = 'spot';
    m.iam = {
      instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/web',
      instanceProfileId: 'AIPAEXAMPLE',
      lastUpdated: '2026-01-02T03:04:05Z',
      roleName: 'web-role',
      credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', token: 'tok', expiration: '2026-01-02T09:04:05Z' },
    };
    assert.equal(await get('/latest/meta-data/tags/instance'), 'Name');
    assert.equal(await get('/latest/meta-data/tags/instance/Name'), 'web-1');
    assert.equal(await get('/latest/meta-data/spot/instance-action'), '{"action": "terminate", "time": "2026-01-02T03:06:00Z"}');
    assert.equal(await get('/latest/meta-data/spot/termination-time'), '2026-01-02T03:06:00Z');
    assert.equal(await get('/latest/meta-data/instance-life-cycle'), 'spot');
    assert.equal(await get('/latest/meta-data/iam/security-credentials/'), 'web-role');
    const creds = JSON.parse(await get('/latest/meta-data/iam/security-credentials/web-role')) as Record<string, string>;
    assert.equal(creds.AccessKeyId, 'ASIAEXAMPLE');
    assert.equal(creds.Code, 'Success');
    assert.equal((JSON.parse(await get('/latest/meta-data/iam/info')) as Record<string, string>).InstanceProfileArn, 'arn:aws:iam::123456789012:instance-profile/web');
  });

  it('the identity document has EC2 fields, and its signature verifies with the public key', async () => {
    assert.equal(await get('/latest/dynamic/'), 'instance-identity/');
    assert.ok((await get('/latest/dynamic/instance-identity/')).split('\n').includes('document'));
    const text = await get('/latest/dynamic/instance-identity/document');
    assert.match(text, /^\{\n {2}"accountId" : "123456789012",\n/);
    const doc = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(doc, {
      accountId: '123456789012',
      architecture: 'x86_64',
      availabilityZone: 'us-east-1a',
      billingProducts: null,
      devpayProductCodes: null,
      marketplaceProductCodes: null,
      imageId: 'ami-0abcdef1234567890',
      instanceId: 'i-0123456789abcdef0',
      instanceType: 't3.micro',
      kernelId: null,
      pendingTime: '2026-01-02T03:04:05Z',
      privateIp: '172.31.0.10',
      ramdiskId: null,
      region: 'us-east-1',
      version: '2017-09-30',
    });
    const signature = await get('/latest/dynamic/instance-identity/signature');
    assert.ok(verify('sha256', Buffer.from(text), keys.publicKey, Buffer.from(signature, 'base64')));
    assert.ok(!verify('sha256', Buffer.from(text.replace('t3.micro', 't3.large')), keys.publicKey, Buffer.from(signature, 'base64')));
  });

  it('rsa2048 (and pkcs7) is PKCS#7 SignedData of the document that openssl verifies with the service certificate', async (t) => {
    assert.deepEqual((await get('/latest/dynamic/instance-identity/')).split('\n'), ['document', 'pkcs7', 'rsa2048', 'signature']);
    const text = await get('/latest/dynamic/instance-identity/document');
    const p7 = await get('/latest/dynamic/instance-identity/rsa2048');
    assert.equal(await get('/latest/dynamic/instance-identity/pkcs7'), p7);
    assert.match(p7, /^[A-Za-z0-9+/=\n]+$/);
    assert.ok(p7.split('\n').every((l) => l.length <= 64));
    const der = Buffer.from(p7, 'base64');
    assert.ok(der.includes(Buffer.from(text)), 'the document is carried');
    // without signed attributes, the signer's signature is the plain RSA SHA-256 one
    assert.ok(der.includes(Buffer.from(await get('/latest/dynamic/instance-identity/signature'), 'base64')));
    const cert = new X509Certificate(svc.certificate!.pem);
    assert.ok(cert.verify(keys.publicKey), 'the certificate is self-signed by the signing key');
    if (spawnSync('openssl', ['version']).status !== 0) return t.skip('no openssl on this host');
    const dir = mkdtempSync(join(tmpdir(), 'imds-p7-'));
    try {
      writeFileSync(join(dir, 'rsa2048.pem'), `-----BEGIN PKCS7-----\n${p7}\n-----END PKCS7-----\n`);
      writeFileSync(join(dir, 'cert.pem'), svc.certificate!.pem);
      const r = spawnSync('openssl', ['smime', '-verify', '-in', join(dir, 'rsa2048.pem'), '-inform', 'PEM', '-certfile', join(dir, 'cert.pem'), '-noverify'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, text);
      assert.match(r.stderr, /Verification successful/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('IMDSv2: PUT gives a token bound to the instance; a GET with it works and says its TTL', async () => {
    const put = await call('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '300' });
    assert.equal(put.status, 200);
    assert.equal(put.headers['x-aws-ec2-metadata-token-ttl-seconds'], '300');
    const t = put.body;
    assert.ok(t.length > 20);
    const a = await call('GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': t });
    assert.equal(a.status, 200);
    assert.equal(a.body, 'i-0123456789abcdef0');
    assert.equal(a.headers['x-aws-ec2-metadata-token-ttl-seconds'], '300');
    // another instance now holds the address: the old token is not its token
    current!.instanceId = 'i-0fedcba9876543210';
    assert.equal((await call('GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': t })).status, 401);
  });

  it('HttpTokens required: 401 without a token, 200 with one', async () => {
    current!.options.httpTokens = 'required';
    const a = await call('GET', '/latest/meta-data/instance-id');
    assert.equal(a.status, 401);
    const t = await token();
    assert.equal(await get('/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': t }), 'i-0123456789abcdef0');
  });

  it('HttpTokens optional: v1 works, an invalid token is still refused (401)', async () => {
    assert.equal(await get('/latest/meta-data/instance-id'), 'i-0123456789abcdef0');
    assert.equal((await call('GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': 'bogus' })).status, 401);
    assert.equal((await call('GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==' })).status, 401);
  });

  it('a token expires (injected clock)', async () => {
    current!.options.httpTokens = 'required';
    const t = await token('60');
    clock += 59_000;
    const a = await call('GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': t });
    assert.equal(a.status, 200);
    assert.equal(a.headers['x-aws-ec2-metadata-token-ttl-seconds'], '1');
    clock += 1_000;
    assert.equal((await call('GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': t })).status, 401);
  });

  it('token requests as EC2 checks them: TTL 1–21600 (400), GET → 405, X-Forwarded-For → 403', async () => {
    for (const ttl of ['0', '21601', 'abc', '-5', '1.5', '']) {
      assert.equal((await call('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': ttl })).status, 400, `ttl '${ttl}'`);
    }
    assert.equal((await call('PUT', '/latest/api/token')).status, 400);
    assert.equal((await call('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '1' })).status, 200);
    assert.equal((await call('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' })).status, 200);
    assert.equal((await call('GET', '/latest/api/token')).status, 405);
    assert.equal((await call('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60', 'X-Forwarded-For': '10.0.0.1' })).status, 403);
    assert.equal((await call('POST', '/latest/meta-data/')).status, 405);
  });

  it('HttpEndpoint disabled → 403 for everything', async () => {
    current!.options.httpEndpoint = 'disabled';
    assert.equal((await call('GET', '/latest/meta-data/')).status, 403);
    assert.equal((await call('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' })).status, 403);
  });

  it('options changed in the source (ModifyInstanceMetadataOptions) apply on the next request', async () => {
    assert.equal((await call('GET', '/latest/meta-data/instance-id')).status, 200);
    current = { ...sample(), options: { ...sample().options, httpTokens: 'required' } };
    assert.equal((await call('GET', '/latest/meta-data/instance-id')).status, 401);
    current = { ...sample(), options: { ...sample().options, httpEndpoint: 'disabled' } };
    assert.equal((await call('GET', '/latest/meta-data/instance-id')).status, 403);
    current = sample();
    assert.equal((await call('GET', '/latest/meta-data/instance-id')).status, 200);
  });

  it('an address no instance has is answered 404', async () => {
    current = undefined;
    assert.equal((await call('GET', '/latest/meta-data/')).status, 404);
    assert.equal((await call('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' })).status, 404);
  });

  it('unlisten stops serving the VPC; listening again works', async () => {
    const other = new MetadataService({ source, log: () => {} });
    await other.listen(VPC, '127.0.0.1', 0);
    const p = other.addressOf(VPC)!.port;
    await other.unlisten(VPC);
    assert.equal(other.addressOf(VPC), undefined);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: p, path: '/', agent: false }, resolve);
        req.on('error', reject);
        req.end();
      }),
      /ECONNREFUSED/,
    );
    await other.unlisten(VPC);
    await other.close();
  });
});
