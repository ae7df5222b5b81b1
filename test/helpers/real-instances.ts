/**
 * What the tests (and the bench) that drive real instances share: whether this
 * host runs them, a bounded wait, and one SSH login running one command.
 */
import { AuthorizeSecurityGroupIngressCommand, CreateKeyPairCommand, DescribeImagesCommand, DescribeInstancesCommand, ImportKeyPairCommand, TerminateInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/host/exec.js';
import { Socket } from 'node:net';
import { Client } from 'ssh2';
import { hostLeftovers, resetHost } from '../../src/host-reset.js';
import { loadConfig, type Config } from '../../src/config.js';
import { selectRuntime } from '../../src/reconcile/runtime.js';
import { startTestServer, type TestServer } from './server.js';

/** Images are cached across runs here (a second run does not rebuild them). */
export const REAL_IMAGE_DIR = process.env.OVERCAST_TEST_IMAGE_DIR ?? '/var/tmp/overcast-test-images';

/** Why this host cannot run real instances (for `skip`), or undefined when it can. */
export async function realRuntimeSkip(hostPrefix: string): Promise<string | undefined> {
  const warnings: string[] = [];
  const rt = await selectRuntime({ ...loadConfig([], {}), driver: 'auto', dataDir: '/nonexistent-overcast', hostPrefix }, (l) => warnings.push(l));
  return rt.name === 'container' ? undefined : warnings.join(' ') || 'the container runtime is not available';
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value (bounded: `tries` × `everyMs`); errors count as "not yet". */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, tries = 150, everyMs = 100): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One SSH login (ssh2) and one command, a fresh connection each time as a user would make it. */
export function sshExec(host: string, key: string, command: string, opts: { user?: string; timeoutMs?: number } = {}): Promise<SshResult> {
  const user = opts.user ?? 'admin';
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const c = new Client();
    const timer = setTimeout(() => {
      c.end();
      reject(new Error(`ssh ${user}@${host}: timed out`));
    }, timeoutMs);
    c.on('ready', () => {
      c.exec(command, (err, stream) => {
        if (err) {
          clearTimeout(timer);
          c.end();
          reject(err);
          return;
        }
        let stdout = '';
        let stderr = '';
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        stream.on('close', (code: number | null) => {
          clearTimeout(timer);
          c.end();
          resolve({ code: code ?? -1, stdout, stderr });
        });
      });
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      c.end();
      reject(e);
    });
    c.connect({ host, port: 22, username: user, privateKey: key, readyTimeout: timeoutMs, hostVerifier: () => true });
  });
}

export type ConnectOutcome = 'open' | 'refused' | 'timeout';

/** One TCP connect from this host: open, refused (a RST) or timeout (dropped), within `ms`. */
export function connectOutcome(host: string, port: number, ms = 1000): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (o: ConnectOutcome) => {
      s.destroy();
      resolve(o);
    };
    s.setTimeout(ms, () => done('timeout'));
    s.once('connect', () => done('open'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'timeout'));
    s.connect(port, host);
  });
}

/** As on EC2, the default group admits only its own members: SSH from anywhere is opened as a user opens it. */
export async function openSshInDefaultGroup(c: EC2Client): Promise<void> {
  await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: 'default', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
}

/** A new ed25519 key of the user's own, imported as the key pair `name`; answers its private key. */
export async function importFreshKey(c: EC2Client, name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'overcast-key-'));
  try {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    await c.send(new ImportKeyPairCommand({ KeyName: name, PublicKeyMaterial: readFileSync(join(dir, 'id.pub')) }));
    return readFileSync(join(dir, 'id'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The instance once it runs (a terminated one fails with its reason). */
export function runningInstance(c: EC2Client, id: string): Promise<Instance> {
  return until(`${id} running`, async () => {
    const i = (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
    if (i.State?.Name === 'terminated') throw new Error(`${id} terminated: ${i.StateReason?.Message}`);
    return i.State?.Name === 'running' ? i : undefined;
  }, 600);
}

/** One command as root over SSH once the guest answers (tiny has no sudo); it must exit 0; its output trimmed. */
export async function rootShell(i: Instance, key: string, cmd: string): Promise<string> {
  await until(`ssh ${i.InstanceId}`, () => sshExec(i.PublicIpAddress!, key, 'true', { timeoutMs: 5_000, user: 'root' }), 60, 250);
  const r = await sshExec(i.PublicIpAddress!, key, cmd, { timeoutMs: 60_000, user: 'root' });
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Ends a real-instance test server: terminates what it launched, closes it and resets the host;
 * resolves with what is still on the host afterwards (empty when clean).
 */
export async function endRealServer(t: TestServer, c: EC2Client, launched: readonly string[]): Promise<string[]> {
  const config = t.server.config;
  let left: string[];
  try {
    if (launched.length > 0) await c.send(new TerminateInstancesCommand({ InstanceIds: [...launched] })).catch(() => undefined);
    await t.server.close();
  } finally {
    left = await resetHost(config, { cgroups: false });
    await t.close();
  }
  if (left.length > 0) return left;
  // a loop device the kernel detaches once its last user is gone (autoclear) may take a moment
  return until('the host to be clean', async () => {
    const now = await hostLeftovers(config);
    return now.length === 0 ? now : undefined;
  }, 50, 100).catch(() => hostLeftovers(config));
}

/** A container-runtime test server on `prefix` and `pool`, SSH open in the default group, the tiny image's id and a new ed25519 key pair. */
export async function startRealServer(prefix: string, pool: string, keyName: string, overrides: Partial<Config> = {}): Promise<{ t: TestServer; c: EC2Client; imageId: string; key: string }> {
  mkdirSync(REAL_IMAGE_DIR, { recursive: true });
  const t = await startTestServer({ driver: 'container', hostPrefix: prefix, publicIpPool: pool, imageDir: REAL_IMAGE_DIR, ...overrides });
  assert.equal(t.server.runtime, 'container');
  const c = t.client();
  await openSshInDefaultGroup(c);
  const images = await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }));
  const imageId = images.Images![0]!.ImageId!;
  const key = (await c.send(new CreateKeyPairCommand({ KeyName: keyName, KeyType: 'ed25519' }))).KeyMaterial!;
  return { t, c, imageId, key };
}
