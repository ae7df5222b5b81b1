import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { VpcResolver, type DnsSource } from '../../src/network/dns/resolver.js';

const VPC = 'vpc-0123456789abcdef0';

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
/** The response code's name (dns-packet decodes it, its types leave it out). */
const rcode = (p: DecodedPacket): string => RCODES[(p.flags ?? 0) & 0xf] ?? String((p.flags ?? 0) & 0xf);

const source: DnsSource = {
  lookup(vpcId, name) {
    if (vpcId !== VPC) return 'refused';
    if (name === 'ip-172-31-0-10.ec2.internal') return { ipv4: ['172.31.0.10'] };
    if (name === 'broken.ec2.internal') throw new Error('boom');
    return 'nxdomain';
  },
  reverse(vpcId, ip) {
    if (vpcId !== VPC) return 'refused';
    return ip === '172.31.0.10' ? { names: ['ip-172-31-0-10.ec2.internal'] } : 'nxdomain';
  },
};

describe('VpcResolver (UDP and TCP on 127.0.0.1)', () => {
  const resolver = new VpcResolver({ source, log: () => {} });
  let port = 0;
  let nextId = 1;

  function udpQuery(name: string, type: RecordType = 'A', vpcPort = port): Promise<DecodedPacket> {
    return new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      const id = nextId++;
      s.on('message', (msg) => {
        s.close();
        resolve(dnsPacket.decode(msg));
      });
      s.on('error', reject);
      s.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] }), vpcPort, '127.0.0.1');
    });
  }

  function tcpQuery(name: string, type: RecordType = 'A'): Promise<DecodedPacket> {
    return new Promise((resolve, reject) => {
      const c = connect(port, '127.0.0.1');
      let buf = Buffer.alloc(0);
      c.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          c.end();
          resolve(dnsPacket.decode(buf.subarray(2)));
        }
      });
      c.on('error', reject);
      c.write(dnsPacket.streamEncode({ type: 'query', id: nextId++, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] }));
    });
  }

  before(async () => {
    await resolver.listen(VPC, '127.0.0.1', 0);
    port = resolver.addressOf(VPC)!.port;
    await resolver.listen(VPC, '127.0.0.1', 0); // idempotent
    assert.equal(resolver.addressOf(VPC)!.port, port);
  });
  after(() => resolver.close());

  it('answers A for a private name', async () => {
    const r = await udpQuery('ip-172-31-0-10.ec2.internal');
    assert.equal(r.type, 'response');
    assert.equal(rcode(r), 'NOERROR');
    assert.ok(r.flag_rd && r.flag_ra);
    assert.deepEqual(
      r.answers?.map((a) => [a.type, a.name, 'data' in a ? a.data : undefined]),
      [['A', 'ip-172-31-0-10.ec2.internal', '172.31.0.10']],
    );
    // case does not matter, nor the final dot
    const upper = await udpQuery('IP-172-31-0-10.EC2.INTERNAL.');
    assert.equal(rcode(upper), 'NOERROR');
    assert.equal(upper.answers?.length, 1);
  });

  it('AAAA for a known name: an empty NOERROR', async () => {
    const r = await udpQuery('ip-172-31-0-10.ec2.internal', 'AAAA');
    assert.equal(rcode(r), 'NOERROR');
    assert.deepEqual(r.answers, []);
  });

  it('a name outside the VPC: NXDOMAIN at once, never silence', async () => {
    const r = await udpQuery('example.com');
    assert.equal(rcode(r), 'NXDOMAIN');
    assert.deepEqual(r.answers, []);
    assert.equal(rcode(await udpQuery('example.com', 'AAAA')), 'NXDOMAIN');
  });

  it('answers PTR for an in-VPC address, NXDOMAIN for others', async () => {
    const r = await udpQuery('10.0.31.172.in-addr.arpa', 'PTR');
    assert.equal(rcode(r), 'NOERROR');
    assert.deepEqual(
      r.answers?.map((a) => [a.type, 'data' in a ? a.data : undefined]),
      [['PTR', 'ip-172-31-0-10.ec2.internal']],
    );
    assert.equal(rcode(await udpQuery('11.0.31.172.in-addr.arpa', 'PTR')), 'NXDOMAIN');
    assert.equal(rcode(await udpQuery('300.0.31.172.in-addr.arpa', 'PTR')), 'NXDOMAIN');
  });

  it('a failing source is SERVFAIL, not silence', async () => {
    assert.equal(rcode(await udpQuery('broken.ec2.internal')), 'SERVFAIL');
  });

  it('a malformed query is answered FORMERR with its id', async () => {
    const r = await new Promise<DecodedPacket>((resolve, reject) => {
      const s = createSocket('udp4');
      s.on('message', (msg) => {
        s.close();
        resolve(dnsPacket.decode(msg));
      });
      s.on('error', reject);
      // a header that promises one question, and no question
      s.send(Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xff]), port, '127.0.0.1');
    });
    assert.equal(r.id, 0x1234);
    assert.equal(rcode(r), 'FORMERR');
  });

  it('answers over TCP too', async () => {
    const r = await tcpQuery('ip-172-31-0-10.ec2.internal');
    assert.equal(rcode(r), 'NOERROR');
    assert.equal(r.answers?.length, 1);
    assert.equal(rcode(await tcpQuery('example.com')), 'NXDOMAIN');
  });

  it('another VPC on its own port is answered for that VPC (REFUSED by this source)', async () => {
    await resolver.listen('vpc-other', '127.0.0.1', 0);
    const other = resolver.addressOf('vpc-other')!.port;
    assert.notEqual(other, port);
    assert.equal(rcode(await udpQuery('ip-172-31-0-10.ec2.internal', 'A', other)), 'REFUSED');
    await resolver.unlisten('vpc-other');
    assert.equal(resolver.addressOf('vpc-other'), undefined);
  });
});
