/**
 * The real firewall: security groups and network ACLs as nftables, one
 * `table inet <prefix>-fw` (and its anti-spoofing `table bridge <prefix>-fwb`)
 * in each network namespace interfaces' host sides live in (a VPC's router
 * namespace), rendered by nft-firewall-rules.ts.
 *
 * Every call is one `nft -f` transaction per namespace it touches, so a
 * packet sees the old rules or the new ones, never a mix. The first change a
 * process makes in a namespace writes its whole table from the books (which
 * replaces whatever an earlier process left); later ones only delete and add
 * the pieces that changed (an interface's gate chain and sets, an ACL's
 * chains, an address set's members).
 *
 * The books (address sets, rule sets, ACLs, captured interfaces) are kept in
 * memory and in a state file under /run (which, like the namespaces and their
 * tables, does not outlive a reboot), so a restarted server knows what is
 * installed without reading rules back.
 *
 * Connections: replies of an allowed flow pass by conntrack. A rule change
 * keeps tracked connections (as EC2 does); a revoke that ends an interface's
 * "untracked" state for a protocol — an all-open rule for 0.0.0.0/0 both
 * ways, which EC2 does not track — deletes that protocol's conntrack entries
 * of the interface's addresses, so the packets that follow are judged by the
 * new rules (cut, as EC2 cuts untracked flows, unless still allowed).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProbeResult } from '../../compute/driver.js';
import { parseIpv4, parseIpv6 } from '../../domain/cidr.js';
import { CommandError, hasCommand, isRoot } from '../../host/exec.js';
import {
  canonicalRuleSet,
  canonicalSubnetAcl,
  FirewallError,
  ruleKey,
  sameRuleSet,
  sameSubnetAcl,
  type AddressSet,
  type Firewall,
  type FirewallRule,
  type FlowRecord,
  type InterfaceRuleSet,
  type RuleCounter,
  type SubnetAcl,
} from '../firewall.js';
import { checkAddressSet, checkRule, checkSubnetAcl, isV6 } from '../firewall-checks.js';
import {
  addAcl,
  addAddressSet,
  addInterface,
  addressesOf,
  capturedElements,
  deleteAcl,
  deleteAddressSet,
  deleteInterface,
  FLOW_TIMEOUT_S,
  fullTable,
  gateOf,
  nftAddress as canonicalAddress,
  replaceAddressSet,
} from './nft-firewall-rules.js';
import { nftApply, runIn } from './netns.js';

export interface NftFirewallOptions {
  /** the host prefix: tables are `<prefix>-fw` (default 'oc') */
  prefix?: string;
  /** where the books are kept (default /run/overcast/<prefix>-firewall.json) */
  stateFile?: string;
  /** deletes conntrack entries a revoke no longer allows for untracked flows (default: when `conntrack` is installed) */
  conntrack?: boolean;
}

interface Books {
  addressSets: Map<string, string[]>;
  interfaces: Map<string, InterfaceRuleSet>;
  acls: Map<string, SubnetAcl>;
  captured: Set<string>;
}

/** What one namespace's table holds. */
interface NsState {
  interfaces: Map<string, InterfaceRuleSet>;
  acls: Map<string, SubnetAcl>;
  addressSets: Map<string, string[]>;
  captured: Set<string>;
}

interface StateFile {
  version: 1;
  addressSets: [string, string[]][];
  interfaces: InterfaceRuleSet[];
  acls: SubnetAcl[];
  captured: string[];
}

/** '' stands for the host's own namespace. */
type NsKey = string;
const keyOf = (ns: string | undefined): NsKey => ns ?? '';
const nsOf = (key: NsKey): string | undefined => (key === '' ? undefined : key);

function cloneBooks(b: Books): Books {
  return {
    addressSets: new Map([...b.addressSets].map(([k, v]) => [k, [...v]])),
    interfaces: new Map(b.interfaces),
    acls: new Map(b.acls),
    captured: new Set(b.captured),
  };
}

/** A gate-set element as rendered (`10.0.0.0/8 . 22-80`) in the form read back from nft. */
export function canonicalElement(text: string): string {
  return text
    .split(' . ')
    .map((p) => {
      if (p.includes(':') || p.includes('/') || parseIpv4(p) !== undefined) return canonicalAddress(p);
      const m = /^(\d+)-(\d+)$/.exec(p);
      return m && m[1] === m[2] ? m[1]! : p;
    })
    .join(' . ');
}

type JsonValue = string | number | { prefix?: { addr: string; len: number }; range?: [number, number] };

/** An element as `nft -j -n` prints it, in canonicalElement() form. */
function jsonElement(val: unknown): string {
  const parts: JsonValue[] = typeof val === 'object' && val !== null && 'concat' in val ? ((val as { concat: JsonValue[] }).concat) : [val as JsonValue];
  return parts
    .map((p) => {
      if (typeof p === 'string') return canonicalAddress(p);
      if (typeof p === 'number') return String(p);
      if (p.prefix) return canonicalAddress(`${p.prefix.addr}/${p.prefix.len}`);
      if (p.range) return p.range[0] === p.range[1] ? String(p.range[0]) : `${p.range[0]}-${p.range[1]}`;
      return JSON.stringify(p);
    })
    .join(' . ');
}

/** Whether the interface's rules leave a protocol untracked (EC2: all-open for 0.0.0.0/0 or ::/0 in both directions). */
function untracked(set: InterfaceRuleSet | undefined, protocol: 'tcp' | 'udp' | 'icmp'): boolean {
  if (!set) return false;
  const open = (r: FirewallRule, dir: FirewallRule['direction']) =>
    r.direction === dir &&
    (r.cidr === '0.0.0.0/0' || r.cidr === '::/0') &&
    (r.protocol === 'all' || (r.protocol === protocol && r.icmpType === undefined && (r.fromPort === undefined || (r.fromPort === 0 && r.toPort === 65535))));
  return set.rules.some((r) => open(r, 'ingress')) && set.rules.some((r) => open(r, 'egress'));
}

interface NftJson {
  nftables: {
    set?: { name: string; elem?: ({ elem: { val: unknown; counter?: { packets: number; bytes: number }; expires?: number } } | unknown)[] };
    rule?: { chain: string; comment?: string; expr: { counter?: { packets: number; bytes: number } }[] };
  }[];
}

export class NftFirewall implements Firewall {
  readonly name = 'nft';
  private readonly prefix: string;
  private readonly table: string;
  private readonly stateFile: string;
  private readonly conntrackOption: boolean | undefined;
  private books: Books = { addressSets: new Map(), interfaces: new Map(), acls: new Map(), captured: new Set() };
  /** namespaces whose table this process has written (and so knows holds exactly the books) */
  private readonly fresh = new Set<NsKey>();
  private loaded = false;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private conntrack: boolean | undefined;
  /** flow key → counters at the last drain */
  private seenFlows = new Map<string, { packets: number; bytes: number }>();
  private lastDrain = Math.floor(Date.now() / 1000);

  constructor(opts: NftFirewallOptions = {}) {
    this.prefix = opts.prefix ?? 'oc';
    this.table = `${this.prefix}-fw`;
    this.stateFile = opts.stateFile ?? firewallStateFile(this.prefix);
    this.conntrackOption = opts.conntrack;
  }

  async probe(): Promise<ProbeResult> {
    if (!isRoot()) return { ok: false, reason: 'the nft firewall needs root' };
    if (!(await hasCommand('nft'))) return { ok: false, reason: 'nft is not installed (Debian package nftables)' };
    return { ok: true };
  }

  // ---- the books ------------------------------------------------------------

  putAddressSet(set: AddressSet): Promise<void> {
    return this.serial(async () => {
      checkAddressSet(set);
      const have = this.books.addressSets.get(set.name);
      if (have && have.length === set.addresses.length && have.every((a, i) => a === set.addresses[i])) return;
      const touched = this.namespacesUsing(set.name);
      await this.commit(touched, (b) => void b.addressSets.set(set.name, [...set.addresses]));
    });
  }

  deleteAddressSet(name: string): Promise<void> {
    return this.serial(async () => {
      if (!this.books.addressSets.has(name)) return;
      for (const s of this.books.interfaces.values()) {
        if (s.rules.some((r) => r.addressSet === name)) throw new FirewallError('in-use', s.interfaceId, `address set ${name} is used by ${s.interfaceId}`);
      }
      await this.commit(new Set(), (b) => void b.addressSets.delete(name));
    });
  }

  addressSets(): Promise<string[]> {
    return this.serial(async () => [...this.books.addressSets.keys()]);
  }

  apply(set: InterfaceRuleSet): Promise<void> {
    return this.serial(async () => {
      if (!set.hostIfname) throw new FirewallError('invalid', set.interfaceId, `${set.interfaceId}: no host interface`);
      for (const r of set.rules) {
        checkRule(set.interfaceId, r);
        if (r.addressSet !== undefined && !this.books.addressSets.has(r.addressSet)) {
          throw new FirewallError('not-found', set.interfaceId, `${set.interfaceId}: no address set ${r.addressSet}`);
        }
      }
      for (const a of set.addresses) {
        if (parseIpv4(a.split('/')[0]!) === undefined && parseIpv6(a.split('/')[0]!) === undefined) {
          throw new FirewallError('invalid', set.interfaceId, `${set.interfaceId}: malformed address ${a}`);
        }
      }
      for (const other of this.books.interfaces.values()) {
        if (other.interfaceId !== set.interfaceId && other.hostIfname === set.hostIfname && other.netns === set.netns) {
          throw new FirewallError('conflict', set.interfaceId, `${set.hostIfname} is filtered for ${other.interfaceId}`);
        }
      }
      const have = this.books.interfaces.get(set.interfaceId);
      if (sameRuleSet(have, set)) return;
      const next = canonicalRuleSet(set);
      const touched = new Set([keyOf(set.netns)]);
      if (have) touched.add(keyOf(have.netns));
      await this.commit(touched, (b) => void b.interfaces.set(set.interfaceId, next));
      await this.cutUntracked(have, next);
    });
  }

  remove(interfaceId: string): Promise<void> {
    return this.serial(async () => {
      const have = this.books.interfaces.get(interfaceId);
      if (!have) return;
      await this.commit(new Set([keyOf(have.netns)]), (b) => {
        b.interfaces.delete(interfaceId);
        b.captured.delete(interfaceId);
      });
    });
  }

  get(interfaceId: string): Promise<InterfaceRuleSet | undefined> {
    return this.serial(async () => {
      const s = this.books.interfaces.get(interfaceId);
      return s ? canonicalRuleSet(s) : undefined;
    });
  }

  list(): Promise<string[]> {
    return this.serial(async () => [...this.books.interfaces.keys()]);
  }

  applySubnetAcl(acl: SubnetAcl): Promise<void> {
    return this.serial(async () => {
      checkSubnetAcl(acl);
      const have = this.books.acls.get(acl.subnetId);
      if (sameSubnetAcl(have, acl)) return;
      const touched = new Set([keyOf(acl.netns)]);
      if (have) touched.add(keyOf(have.netns));
      const next = canonicalSubnetAcl(acl);
      await this.commit(touched, (b) => void b.acls.set(acl.subnetId, next));
    });
  }

  removeSubnetAcl(subnetId: string): Promise<void> {
    return this.serial(async () => {
      const have = this.books.acls.get(subnetId);
      if (!have) return;
      await this.commit(new Set([keyOf(have.netns)]), (b) => void b.acls.delete(subnetId));
    });
  }

  getSubnetAcl(subnetId: string): Promise<SubnetAcl | undefined> {
    return this.serial(async () => {
      const a = this.books.acls.get(subnetId);
      return a ? canonicalSubnetAcl(a) : undefined;
    });
  }

  subnetAcls(): Promise<string[]> {
    return this.serial(async () => [...this.books.acls.keys()]);
  }

  captureFlows(interfaceIds: string[]): Promise<void> {
    return this.serial(async () => {
      const next = new Set(interfaceIds.filter((id) => this.books.interfaces.has(id)));
      const changed = [...next].filter((id) => !this.books.captured.has(id)).concat([...this.books.captured].filter((id) => !next.has(id)));
      if (changed.length === 0) {
        this.books.captured = new Set(interfaceIds);
        return;
      }
      const touched = new Set(changed.map((id) => keyOf(this.books.interfaces.get(id)?.netns)));
      // wanted but not (yet) installed ids are remembered: they are captured once applied
      await this.commit(touched, (b) => void (b.captured = new Set(interfaceIds)));
    });
  }

  // ---- reading the kernel ---------------------------------------------------

  counters(): Promise<RuleCounter[]> {
    return this.serial(async () => {
      const out: RuleCounter[] = [];
      for (const key of this.namespaces()) {
        const doc = await this.listTable(key);
        if (!doc) continue;
        const sum = new Map<string, RuleCounter>();
        const add = (owner: string, rule: string, c: { packets: number; bytes: number }) => {
          const k = `${owner}\n${rule}`;
          const have = sum.get(k);
          if (have) {
            have.packets += c.packets;
            have.bytes += c.bytes;
          } else sum.set(k, { owner, rule, packets: c.packets, bytes: c.bytes });
        };
        const elementKeys = this.elementKeys(key);
        for (const item of doc.nftables) {
          if (item.rule?.comment) {
            const owner = ownerOfChain(item.rule.chain);
            const counter = item.rule.expr.find((e) => e.counter)?.counter;
            if (owner && counter) add(owner, item.rule.comment, counter);
          }
          const set = item.set;
          if (set && elementKeys.has(set.name)) {
            const owner = ownerOfChain(set.name.replace(/_[a-z]+[46]$/, ''))!;
            const keys = elementKeys.get(set.name)!;
            for (const e of set.elem ?? []) {
              const el = (e as { elem?: { val: unknown; counter?: { packets: number; bytes: number } } }).elem;
              if (!el?.counter) continue;
              const rule = keys.get(jsonElement(el.val));
              if (rule) add(owner, rule, el.counter);
            }
          }
        }
        // rules that never matched still have a counter (zero); every rule is listed
        for (const rs of this.books.interfaces.values()) {
          if (keyOf(rs.netns) !== key) continue;
          for (const r of rs.rules) add(rs.interfaceId, ruleKey(r), { packets: 0, bytes: 0 });
        }
        out.push(...sum.values());
      }
      return out;
    });
  }

  drainFlows(): Promise<FlowRecord[]> {
    return this.serial(async () => {
      const now = Math.floor(Date.now() / 1000);
      const since = this.lastDrain;
      this.lastDrain = now;
      const byAddress = new Map<string, string[]>();
      for (const id of this.books.captured) {
        const rs = this.books.interfaces.get(id);
        if (!rs) continue;
        for (const f of [4, 6] as const) {
          for (const a of addressesOf(rs, f)) {
            const c = canonicalAddress(a);
            byAddress.set(c, [...(byAddress.get(c) ?? []), id]);
          }
        }
      }
      const out: FlowRecord[] = [];
      const seen = new Map<string, { packets: number; bytes: number }>();
      if (byAddress.size === 0) {
        this.seenFlows = seen;
        return out;
      }
      for (const key of this.namespaces()) {
        const doc = await this.listTable(key);
        if (!doc) continue;
        for (const item of doc.nftables) {
          const m = item.set && /^flows(p?)_(acc|rej)[46]$/.exec(item.set.name);
          if (!m) continue;
          const action = m[2] === 'acc' ? 'ACCEPT' : 'REJECT';
          for (const e of item.set!.elem ?? []) {
            const el = (e as { elem?: { val: unknown; counter?: { packets: number; bytes: number }; expires?: number } }).elem;
            if (!el?.counter) continue;
            const parts = ((el.val as { concat?: (string | number)[] }).concat ?? []).map(String);
            const [src, dst, proto, sport, dport] = parts as [string, string, string, string | undefined, string | undefined];
            const flowKey = `${key}|${action}|${parts.join('|')}`;
            const before = this.seenFlows.get(flowKey);
            seen.set(flowKey, el.counter);
            // a counter lower than last time: the element expired and came back
            const packets = before && before.packets <= el.counter.packets ? el.counter.packets - before.packets : el.counter.packets;
            const bytes = before && before.bytes <= el.counter.bytes ? el.counter.bytes - before.bytes : el.counter.bytes;
            if (packets === 0) continue;
            const last = Math.min(now, now - (FLOW_TIMEOUT_S - (el.expires ?? FLOW_TIMEOUT_S)));
            const record = {
              srcAddr: canonicalAddress(src),
              dstAddr: canonicalAddress(dst),
              srcPort: sport === undefined ? 0 : Number(sport),
              dstPort: dport === undefined ? 0 : Number(dport),
              protocol: Number(proto),
              packets,
              bytes,
              start: Math.min(since, last),
              end: Math.max(last, since),
              action,
            } as const;
            const ids = new Set([...(byAddress.get(record.srcAddr) ?? []), ...(byAddress.get(record.dstAddr) ?? [])]);
            for (const interfaceId of ids) out.push({ interfaceId, ...record });
          }
        }
      }
      this.seenFlows = seen;
      return out;
    });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => {});
    this.closed = true;
  }

  // ---- the machinery --------------------------------------------------------

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      if (this.closed) throw new FirewallError('failed', '', 'the nft firewall is closed');
      await this.load();
      return fn();
    });
    this.queue = next.catch(() => {});
    return next;
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    let text: string;
    try {
      text = await readFile(this.stateFile, 'utf8');
    } catch {
      return;
    }
    try {
      const s = JSON.parse(text) as StateFile;
      if (s.version !== 1) return;
      this.books = {
        addressSets: new Map(s.addressSets),
        interfaces: new Map(s.interfaces.map((r) => [r.interfaceId, r])),
        acls: new Map(s.acls.map((a) => [a.subnetId, a])),
        captured: new Set(s.captured),
      };
    } catch {
      // an unreadable state file: start empty; the first change per namespace rewrites its table
    }
  }

  private async save(): Promise<void> {
    const b = this.books;
    const empty = b.addressSets.size === 0 && b.interfaces.size === 0 && b.acls.size === 0;
    if (empty) {
      await rm(this.stateFile, { force: true });
      return;
    }
    const state: StateFile = {
      version: 1,
      addressSets: [...b.addressSets],
      interfaces: [...b.interfaces.values()],
      acls: [...b.acls.values()],
      captured: [...b.captured],
    };
    await mkdir(dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(state));
    await rename(tmp, this.stateFile);
  }

  /** Namespaces whose table refers to an address set. */
  private namespacesUsing(name: string): Set<NsKey> {
    const out = new Set<NsKey>();
    for (const rs of this.books.interfaces.values()) if (rs.rules.some((r) => r.addressSet === name)) out.add(keyOf(rs.netns));
    return out;
  }

  /** Every namespace with something installed. */
  private namespaces(): NsKey[] {
    const out = new Set<NsKey>();
    for (const rs of this.books.interfaces.values()) out.add(keyOf(rs.netns));
    for (const a of this.books.acls.values()) out.add(keyOf(a.netns));
    return [...out];
  }

  private stateOf(b: Books, key: NsKey): NsState {
    const s: NsState = { interfaces: new Map(), acls: new Map(), addressSets: new Map(), captured: new Set() };
    for (const rs of b.interfaces.values()) {
      if (keyOf(rs.netns) !== key) continue;
      s.interfaces.set(rs.interfaceId, rs);
      if (b.captured.has(rs.interfaceId)) s.captured.add(rs.interfaceId);
      for (const r of rs.rules) if (r.addressSet !== undefined) s.addressSets.set(r.addressSet, b.addressSets.get(r.addressSet) ?? []);
    }
    for (const a of b.acls.values()) if (keyOf(a.netns) === key) s.acls.set(a.subnetId, a);
    return s;
  }

  private full(s: NsState): string[] {
    return fullTable(this.table, {
      interfaces: [...s.interfaces.values()],
      acls: [...s.acls.values()],
      addressSets: s.addressSets,
      captured: [...s.captured].map((id) => s.interfaces.get(id)!),
    });
  }

  private dropTables(): string[] {
    return [`add table inet ${this.table}`, `delete table inet ${this.table}`, `add table bridge ${this.table}b`, `delete table bridge ${this.table}b`];
  }

  /** The lines that turn one namespace's table from `a` into `b`. */
  private diff(a: NsState, b: NsState): string[] {
    const t = this.table;
    const out: string[] = [];
    const changedIf = (id: string) => !b.interfaces.has(id) || !sameRuleSet(a.interfaces.get(id), b.interfaces.get(id));
    const changedAcl = (id: string) => !b.acls.has(id) || !sameSubnetAcl(a.acls.get(id), b.acls.get(id));
    // out with the old: captured elements, interfaces, ACLs, then the address sets nothing refers to any more
    for (const id of a.captured) {
      if (b.captured.has(id) && !changedIf(id)) continue;
      out.push(...capturedElements(a.interfaces.get(id)!).map(([set, el]) => `delete element inet ${t} ${set} { ${el} }`));
    }
    for (const [id, rs] of a.interfaces) if (changedIf(id)) out.push(...deleteInterface(t, rs));
    for (const [id, acl] of a.acls) if (changedAcl(id)) out.push(...deleteAcl(t, acl));
    for (const name of a.addressSets.keys()) if (!b.addressSets.has(name)) out.push(...deleteAddressSet(t, name));
    // in with the new
    for (const [name, addrs] of b.addressSets) {
      const had = a.addressSets.get(name);
      if (!had) out.push(...addAddressSet(t, name, addrs));
      else if (had.join(',') !== addrs.join(',')) out.push(...replaceAddressSet(t, name, addrs));
    }
    for (const [id, acl] of b.acls) if (!a.acls.has(id) || changedAcl(id)) out.push(...addAcl(t, acl));
    for (const [id, rs] of b.interfaces) if (!a.interfaces.has(id) || changedIf(id)) out.push(...addInterface(t, rs));
    for (const id of b.captured) {
      if (a.captured.has(id) && !changedIf(id)) continue;
      out.push(...capturedElements(b.interfaces.get(id)!).map(([set, el]) => `add element inet ${t} ${set} { ${el} }`));
    }
    return out;
  }

  /**
   * Changes the books and the tables of the namespaces touched, all or nothing as far as
   * the kernel allows: a failed transaction changes nothing in its namespace; the books go
   * back, and namespaces already changed by this call are rewritten from them.
   */
  private async commit(touched: Set<NsKey>, mutate: (b: Books) => void): Promise<void> {
    const old = cloneBooks(this.books);
    const next = cloneBooks(this.books);
    mutate(next);
    const done: NsKey[] = [];
    try {
      for (const key of touched) {
        await this.write(key, this.stateOf(old, key), this.stateOf(next, key));
        done.push(key);
      }
    } catch (err) {
      for (const key of done) {
        this.fresh.delete(key);
        await this.write(key, this.stateOf(next, key), this.stateOf(old, key)).catch(() => {});
      }
      for (const key of touched) if (!done.includes(key)) this.fresh.delete(key);
      if (err instanceof FirewallError) throw err;
      throw new FirewallError('failed', '', `nft: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.books = next;
    await this.save();
  }

  private async write(key: NsKey, before: NsState, after: NsState): Promise<void> {
    const empty = after.interfaces.size === 0 && after.acls.size === 0;
    let lines: string[];
    if (empty) {
      lines = this.dropTables();
      this.fresh.delete(key);
      try {
        await this.nft(key, lines);
      } catch (err) {
        // the namespace went away with its tables (a deleted VPC): nothing left to remove
        if (err instanceof CommandError && /Cannot open network namespace|No such file/.test(err.message)) return;
        throw err;
      }
      return;
    }
    if (this.fresh.has(key)) {
      lines = this.diff(before, after);
      try {
        if (lines.length > 0) await this.nft(key, lines);
        return;
      } catch {
        // the table is not what the books say (changed behind our back): write all of it
        this.fresh.delete(key);
      }
    }
    await this.nft(key, this.full(after));
    this.fresh.add(key);
  }

  private nft(key: NsKey, lines: string[]): Promise<void> {
    return nftApply(nsOf(key), lines.join('\n') + '\n');
  }

  private async listTable(key: NsKey): Promise<NftJson | undefined> {
    try {
      const r = await runIn(nsOf(key), 'nft', ['-j', '-n', 'list', 'table', 'inet', this.table]);
      return JSON.parse(r.stdout) as NftJson;
    } catch (err) {
      if (err instanceof CommandError) return undefined;
      throw err;
    }
  }

  /** Per gate set of a namespace: element (canonical) → ruleKey. */
  private elementKeys(key: NsKey): Map<string, Map<string, string>> {
    const out = new Map<string, Map<string, string>>();
    for (const rs of this.books.interfaces.values()) {
      if (keyOf(rs.netns) !== key) continue;
      for (const dir of ['ingress', 'egress'] as const) {
        for (const s of gateOf(rs, dir).sets) out.set(s.name, new Map([...s.elements].map(([el, k]) => [canonicalElement(el), k])));
      }
    }
    return out;
  }

  /** After a revoke: the conntrack entries of protocols that were untracked and are no more. */
  private async cutUntracked(before: InterfaceRuleSet | undefined, after: InterfaceRuleSet): Promise<void> {
    const protocols = (['tcp', 'udp', 'icmp'] as const).filter((p) => untracked(before, p) && !untracked(after, p));
    if (protocols.length === 0) return;
    if (this.conntrack === undefined) this.conntrack = this.conntrackOption ?? (await hasCommand('conntrack'));
    if (!this.conntrack) return;
    for (const p of protocols) {
      for (const a of after.addresses.map((x) => x.split('/')[0]!)) {
        if (isV6(a)) continue;
        for (const side of ['-s', '-d']) {
          // exit 1: nothing to delete
          await runIn(after.netns, 'conntrack', ['-D', '-p', p, side, a], { okCodes: [1] });
        }
      }
    }
  }
}

/** Where the books of a prefix's firewall are kept (/run: they go at a reboot, as the tables do). */
export const firewallStateFile = (prefix: string): string => join('/run/overcast', `${prefix}-firewall.json`);

/** The interface or subnet a gate or ACL chain (or a gate set's base name) belongs to. */
function ownerOfChain(chain: string): string | undefined {
  const m = /^(?:in|eg|aclin|aclout)_(.+)$/.exec(chain);
  return m ? m[1] : undefined;
}

/** Tables of this prefix's firewall left in a namespace (for leftovers checks). */
export async function firewallTablesIn(ns: string | undefined, prefix: string): Promise<string[]> {
  const r = await runIn(ns, 'nft', ['list', 'tables']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.endsWith(` ${prefix}-fw`) || l.endsWith(` ${prefix}-fwb`));
}

