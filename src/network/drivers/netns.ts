/**
 * The `ip` (and `nft`, `sysctl` inside a namespace) calls the netns fabric
 * makes, through host/exec.ts: namespaces, links with their aliases and
 * addresses, rules and routes, read back as typed JSON.
 */
import { existsSync } from 'node:fs';
import { CommandError, run, type RunOptions, type RunResult } from '../../host/exec.js';

const TIMEOUT_MS = 10_000;

export interface LinkInfo {
  ifname: string;
  ifalias?: string;
  address?: string;
  /** the bridge it is a port of */
  master?: string;
  /** 'veth', 'bridge'… (with -d) */
  kind?: string;
  /** IPv4 addresses with prefix length ("10.0.1.5/24"), in the kernel's order (primary first) */
  inet: string[];
  /** global IPv6 addresses with prefix length (no link-local ones) */
  inet6: string[];
}

export interface RuleInfo {
  priority: number;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  table: string;
}

export interface RouteInfo {
  dst: string;
  dev?: string;
  gateway?: string;
  table?: string;
}

function nsArgs(ns: string | undefined): string[] {
  return ns === undefined ? [] : ['-n', ns];
}

/** `ip [-n ns] args…` */
export async function ip(ns: string | undefined, args: readonly string[]): Promise<string> {
  return (await run('ip', [...nsArgs(ns), ...args], { timeoutMs: TIMEOUT_MS })).stdout;
}

/** Several `ip` commands in one process (stops at the first failure). */
export async function ipBatch(ns: string | undefined, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await run('ip', [...nsArgs(ns), '-batch', '-'], { input: lines.join('\n') + '\n', timeoutMs: TIMEOUT_MS });
}

/** Runs it, ignoring a failure (a thing already gone). */
export async function ipQuiet(ns: string | undefined, args: readonly string[]): Promise<boolean> {
  try {
    await ip(ns, args);
    return true;
  } catch (e) {
    if (e instanceof CommandError) return false;
    throw e;
  }
}

/**
 * The command line that runs `command` in a named network namespace, and only there:
 * `nsenter --net=/run/netns/<ns>`. Unlike `ip netns exec` it makes no mount namespace, so no
 * copy of the host's mounts lives on with the command (on a host whose mounts are private, a
 * copy keeps a filesystem the host unmounted, and the loop device under it, in use).
 */
export function inNsCommand(ns: string, command: string, args: readonly string[]): [string, string[]] {
  return ['nsenter', [`--net=/run/netns/${ns}`, '--', command, ...args]];
}

/** Runs a command inside a namespace (inNsCommand), or on the host when `ns` is undefined (10 s unless told). */
export function runIn(ns: string | undefined, command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const o = { timeoutMs: TIMEOUT_MS, ...opts };
  return ns === undefined ? run(command, args, o) : run(...inNsCommand(ns, command, args), o);
}

/** A command run inside a namespace: its stdout. */
export async function inNs(ns: string, command: string, args: readonly string[], input?: string): Promise<string> {
  return (await runIn(ns, command, args, { input })).stdout;
}

export async function listNetns(): Promise<string[]> {
  const out = (await ip(undefined, ['-j', 'netns', 'list'])).trim();
  if (out === '') return [];
  const parsed = JSON.parse(out) as { name: string }[];
  return parsed.map((n) => n.name);
}

/** Whether a named namespace exists (its bind mount under /run/netns, where `ip netns add` puts it): no process to ask. */
export function netnsExists(ns: string): boolean {
  return existsSync(`/run/netns/${ns}`);
}

export async function addNetns(ns: string): Promise<void> {
  await ip(undefined, ['netns', 'add', ns]);
}

export async function delNetns(ns: string): Promise<void> {
  await ipQuiet(undefined, ['netns', 'del', ns]);
}

interface RawAddr {
  ifname: string;
  ifalias?: string;
  address?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}

/** The links of a namespace (or the host) with aliases, bridge masters and IPv4 addresses. */
export async function listLinks(ns: string | undefined): Promise<LinkInfo[]> {
  const [addrs, links] = await Promise.all([ip(ns, ['-j', 'addr', 'show']), ip(ns, ['-j', '-d', 'link', 'show'])]);
  const kinds = new Map<string, RawAddr>();
  for (const l of JSON.parse(links || '[]') as RawAddr[]) kinds.set(l.ifname, l);
  return (JSON.parse(addrs || '[]') as RawAddr[]).map((a) => {
    const l = kinds.get(a.ifname);
    const info: LinkInfo = {
      ifname: a.ifname,
      inet: (a.addr_info ?? []).filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`),
      inet6: (a.addr_info ?? []).filter((x) => x.family === 'inet6' && x.scope === 'global').map((x) => `${x.local}/${x.prefixlen}`),
    };
    const alias = l?.ifalias ?? a.ifalias;
    if (alias !== undefined) info.ifalias = alias;
    if (a.address !== undefined) info.address = a.address;
    const master = l?.master ?? a.master;
    if (master !== undefined) info.master = master;
    const kind = l?.linkinfo?.info_kind;
    if (kind !== undefined) info.kind = kind;
    return info;
  });
}

/** Link names only (one cheap call): for noticing what vanished. */
export async function linkNames(ns: string | undefined): Promise<Set<string>> {
  const out = await ip(ns, ['-j', 'link', 'show']);
  return new Set((JSON.parse(out || '[]') as { ifname: string }[]).map((l) => l.ifname));
}

export async function listRules(): Promise<RuleInfo[]> {
  const out = await ip(undefined, ['-4', '-j', 'rule', 'show']);
  return JSON.parse(out || '[]') as RuleInfo[];
}

/** The IPv4 rules inside a namespace. */
export async function listRulesIn(ns: string): Promise<RuleInfo[]> {
  const out = await ip(ns, ['-4', '-j', 'rule', 'show']);
  return JSON.parse(out || '[]') as RuleInfo[];
}

export async function listRoutes(): Promise<RouteInfo[]> {
  const out = await ip(undefined, ['-4', '-j', 'route', 'show', 'table', 'all']);
  return JSON.parse(out || '[]') as RouteInfo[];
}

/** Writes a sysctl inside a namespace (e.g. net.ipv4.ip_forward=1). */
export async function sysctlInNs(ns: string, key: string, value: string): Promise<void> {
  await inNs(ns, 'sysctl', ['-q', '-w', `${key}=${value}`]);
}

/** Applies an nft script in one transaction (`nft -f -`), inside a namespace or on the host. */
export async function nftApply(ns: string | undefined, script: string): Promise<void> {
  await runIn(ns, 'nft', ['-f', '-'], { input: script });
}

/** `nft -j list map ip <table> <map>` → its elements as [key, value] pairs ([] when missing). */
export async function nftMapElements(ns: string, table: string, map: string): Promise<[string, string][]> {
  let out: string;
  try {
    out = await inNs(ns, 'nft', ['-j', 'list', 'map', 'ip', table, map]);
  } catch (e) {
    if (e instanceof CommandError) return [];
    throw e;
  }
  const doc = JSON.parse(out) as { nftables: { map?: { elem?: [unknown, unknown][] } }[] };
  const pairs: [string, string][] = [];
  for (const item of doc.nftables) {
    for (const [k, v] of item.map?.elem ?? []) if (typeof k === 'string' && typeof v === 'string') pairs.push([k, v]);
  }
  return pairs;
}

/** Whether an nft table exists on the host. */
export async function hostNftTableExists(table: string, family: 'ip' | 'ip6' = 'ip'): Promise<boolean> {
  try {
    await run('nft', ['list', 'table', family, table], { timeoutMs: TIMEOUT_MS });
    return true;
  } catch (e) {
    if (e instanceof CommandError) return false;
    throw e;
  }
}
