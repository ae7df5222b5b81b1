/**
 * The VPC DNS resolver (what EC2 calls the Amazon-provided DNS, at
 * 169.254.169.253 and the VPC base + 2): one UDP socket and one TCP server per
 * VPC, on the host address the VPC's router sends that traffic to
 * (NetworkInfo.serviceAddress). It answers from a DnsSource the wiring gives:
 * A records for the VPC's private names, PTR for its addresses.
 *
 * Every query gets an answer at once — NXDOMAIN, REFUSED, SERVFAIL or FORMERR
 * when there is nothing to say — never silence: egress is off, and a guest
 * waits seconds for each lookup nobody answers. Names outside the VPC's domain
 * are the source's to refuse or deny (there is no forwarding upstream).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';

/** What the source knows of a forward name. */
export type DnsAnswer = { ipv4: string[] } | 'nxdomain' | 'refused';

/** What the source knows of an address (the name a PTR query asks for). */
export type DnsReverseAnswer = { names: string[] } | 'nxdomain' | 'refused';

/**
 * Where the resolver finds names. `name` is lower case, without the final dot.
 * A name that exists but has no IPv4 answers `{ ipv4: [] }` (an empty NOERROR).
 */
export interface DnsSource {
  lookup(vpcId: string, name: string): DnsAnswer | Promise<DnsAnswer>;
  /** the names of an IPv4 address, for PTR queries (`10.0.31.172.in-addr.arpa` → '172.31.0.10') */
  reverse(vpcId: string, ip: string): DnsReverseAnswer | Promise<DnsReverseAnswer>;
}

export interface VpcResolverOptions {
  source: DnsSource;
  /** TTL of the records answered (default 60 s) */
  ttl?: number;
  /** where failures are reported (default: stderr) */
  log?: (line: string) => void;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

interface Listener {
  address: string;
  requested: number;
  udp: Socket;
  tcp: Server;
  connections: Set<TcpSocket>;
  ready: Promise<void>;
}

/** The IPv4 an in-addr.arpa name stands for, or undefined. */
function reverseIp(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const octets = [m[4], m[3], m[2], m[1]].map(Number);
  return octets.every((o) => o <= 255) ? octets.join('.') : undefined;
}

export class VpcResolver {
  private readonly listeners = new Map<string, Listener>();
  private readonly ttl: number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: VpcResolverOptions) {
    this.ttl = opts.ttl ?? 60;
    this.log = opts.log ?? ((line) => process.stderr.write(`dns: ${line}\n`));
  }

  /**
   * Answers the VPC's queries on `address:port`, UDP and TCP (port 0: a free
   * port, the same for both; see `addressOf`). Idempotent; the VPC on another
   * address moves there.
   */
  async listen(vpcId: string, address: string, port: number): Promise<void> {
    const existing = this.listeners.get(vpcId);
    if (existing && existing.address === address && (port === 0 || existing.requested === port || this.portOf(existing) === port)) {
      return existing.ready;
    }
    if (existing) await this.unlisten(vpcId);
    // port 0: the port UDP gets may be taken for TCP; try a few
    for (let attempt = 0; ; attempt++) {
      try {
        await this.open(vpcId, address, port);
        return;
      } catch (err) {
        if (port !== 0 || attempt >= 4 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
  }

  /** Where the VPC is served (UDP and TCP share the port), or undefined. */
  addressOf(vpcId: string): { address: string; port: number } | undefined {
    const l = this.listeners.get(vpcId);
    const port = l ? this.portOf(l) : undefined;
    return l && port !== undefined ? { address: l.address, port } : undefined;
  }

  async unlisten(vpcId: string): Promise<void> {
    const l = this.listeners.get(vpcId);
    if (!l) return;
    this.listeners.delete(vpcId);
    await l.ready.catch(() => undefined);
    await this.shut(l);
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((v) => this.unlisten(v)));
  }

  private portOf(l: Listener): number | undefined {
    try {
      return l.udp.address().port;
    } catch {
      return undefined;
    }
  }

  private async shut(l: Listener): Promise<void> {
    for (const c of l.connections) c.destroy();
    await Promise.all([
      new Promise<void>((resolve) => {
        try {
          l.udp.close(() => resolve());
        } catch {
          resolve();
        }
      }),
      new Promise<void>((resolve) => l.tcp.close(() => resolve())),
    ]);
  }

  private async open(vpcId: string, address: string, port: number): Promise<void> {
    const udp = createSocket({ type: 'udp4' });
    const connections = new Set<TcpSocket>();
    const tcp = createServer((c) => this.serveTcp(vpcId, c, connections));
    udp.on('message', (msg, rinfo) => void this.serveUdp(vpcId, udp, msg, rinfo));
    const ready = (async () => {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, address, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      udp.on('error', (err) => this.log(`${vpcId} udp: ${err.message}`));
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(udp.address().port, address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      tcp.on('error', (err) => this.log(`${vpcId} tcp: ${err.message}`));
    })();
    const l: Listener = { address, requested: port, udp, tcp, connections, ready };
    this.listeners.set(vpcId, l);
    try {
      await ready;
    } catch (err) {
      if (this.listeners.get(vpcId) === l) this.listeners.delete(vpcId);
      await this.shut(l);
      throw err;
    }
  }

  private async serveUdp(vpcId: string, udp: Socket, msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    const reply = await this.answer(vpcId, msg);
    if (reply) udp.send(reply, rinfo.port, rinfo.address, (err) => err && this.log(`${vpcId} udp send: ${err.message}`));
  }

  private serveTcp(vpcId: string, c: TcpSocket, connections: Set<TcpSocket>): void {
    connections.add(c);
    c.setTimeout(10_000, () => c.destroy());
    c.on('close', () => connections.delete(c));
    c.on('error', () => c.destroy());
    let buf = Buffer.alloc(0);
    // one query at a time per connection, answered in order
    let chain = Promise.resolve();
    c.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        chain = chain.then(async () => {
          const reply = await this.answer(vpcId, msg);
          if (reply && !c.destroyed) {
            const head = Buffer.alloc(2);
            head.writeUInt16BE(reply.length, 0);
            c.write(Buffer.concat([head, reply]));
          }
        });
      }
    });
  }

  /** The encoded reply to one query message (undefined: not a query, nothing to answer). */
  async answer(vpcId: string, msg: Buffer): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      // enough of a header to answer: FORMERR with its id
      if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return undefined;
      return this.reply({ id: msg.readUInt16BE(0), flags: (msg[2]! & 0x01) << 8 }, RCODE.FORMERR);
    }
    if (query.type === 'response') return undefined;
    const opcode = ((query.flags ?? 0) >> 11) & 0xf;
    if (opcode !== 0) return this.reply(query, RCODE.NOTIMP);
    const questions = query.questions ?? [];
    const q = questions[0];
    if (questions.length !== 1 || !q) return this.reply(query, RCODE.FORMERR);
    if (q.class !== 'IN' && q.class !== undefined) return this.reply(query, RCODE.REFUSED, [], [q]);
    const name = q.name.toLowerCase().replace(/\.$/, '');
    // dns-packet's RecordType leaves out ANY (255), which it decodes all the same
    const type: string = q.type;
    try {
      const ip = name.endsWith('.in-addr.arpa') ? reverseIp(name) : undefined;
      if (name.endsWith('.in-addr.arpa')) {
        const found = ip === undefined ? 'nxdomain' : await this.opts.source.reverse(vpcId, ip);
        if (found === 'nxdomain') return this.reply(query, RCODE.NXDOMAIN, [], [q]);
        if (found === 'refused') return this.reply(query, RCODE.REFUSED, [], [q]);
        const answers: Answer[] =
          type === 'PTR' || type === 'ANY' ? found.names.map((n) => ({ type: 'PTR', class: 'IN', name: q.name, ttl: this.ttl, data: n })) : [];
        return this.reply(query, RCODE.NOERROR, answers, [q]);
      }
      const found = await this.opts.source.lookup(vpcId, name);
      if (found === 'nxdomain') return this.reply(query, RCODE.NXDOMAIN, [], [q]);
      if (found === 'refused') return this.reply(query, RCODE.REFUSED, [], [q]);
      // a known name: A records for A (and ANY); any other type an empty NOERROR (AAAA: no IPv6 here)
      const answers: Answer[] =
        type === 'A' || type === 'ANY' ? found.ipv4.map((a) => ({ type: 'A', class: 'IN', name: q.name, ttl: this.ttl, data: a })) : [];
      return this.reply(query, RCODE.NOERROR, answers, [q]);
    } catch (err) {
      this.log(`${vpcId}: ${q.name}: ${err instanceof Error ? err.message : String(err)}`);
      return this.reply(query, RCODE.SERVFAIL, [], [q]);
    }
  }

  private reply(query: Packet, rcode: number, answers: Answer[] = [], questions: Packet['questions'] = query.questions): Buffer {
    const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    return dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags: rd | dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: questions ?? [],
      answers,
    });
  }
}
