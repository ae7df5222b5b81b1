/**
 * The image cache and the tiny image: built for real into a temporary cache (a
 * second or so), its ext4 file read with debugfs (no mount), the first-boot
 * agent run in a chroot of the tree against a fake metadata service.
 * Skipped, with the reason, where the host cannot build (not root, tools missing).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hasCommand, isRoot, run } from '../../src/host/exec.js';
import type { BuildContext, ImageBuilder } from '../../src/storage/images/builder.js';
import { ImageCache, RECORD_FILE, ROOT_FILE } from '../../src/storage/images/cache.js';
import { countDebootstrapLog, countDebootstrapOutput, debootstrapProgress } from '../../src/storage/images/debootstrap-progress.js';
import { acquireLock } from '../../src/host/lock.js';
import { mountsUnder } from '../../src/host/mounts.js';
import { ManifestError, manifestText, parseManifest } from '../../src/storage/images/manifest.js';
import { buildTinyRoot, sharedLibraries, TINY_MANIFEST, tinyBuilder } from '../../src/storage/images/tiny.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = (p: string): string => mkdtempSync(join(tmpdir(), `overcast-${p}-`));

/** Why tiny cannot be built here (undefined: it can, and debugfs reads ext4 files). */
const cannotBuild: string | undefined = await (async () => {
  const missing = await tinyBuilder.missing();
  if (missing) return missing;
  if (!(await hasCommand('debugfs'))) return 'debugfs (e2fsprogs) is missing';
  if (!(await hasCommand('chroot'))) return 'chroot is missing';
  return undefined;
})();

/** `debugfs -R <request>` on an ext4 file, read-only. */
async function debugfs(file: string, request: string): Promise<string> {
  return (await run('debugfs', ['-R', request, file])).stdout;
}

/** The names in a directory of an ext4 file, with their modes and owners. */
async function listing(file: string, dir: string): Promise<Map<string, { mode: string; uid: number; gid: number }>> {
  const out = await debugfs(file, `ls -l ${dir}`);
  const m = new Map<string, { mode: string; uid: number; gid: number }>();
  for (const line of out.split('\n')) {
    const f = /^\s*\d+\s+(\d+)\s+\(\d+\)\s+(\d+)\s+(\d+)\s+\d+\s+\S+\s+\S+\s+(.+?)\s*$/.exec(line);
    if (f) m.set(f[4]!, { mode: f[1]!, uid: Number(f[2]), gid: Number(f[3]) });
  }
  return m;
}

/** Wraps a builder, counting its builds. */
function counting(b: ImageBuilder): ImageBuilder & { builds: number } {
  const c = {
    name: b.name,
    version: b.version,
    description: b.description,
    builds: 0,
    missing: () => b.missing(),
    build: (ctx: BuildContext) => {
      c.builds++;
      return b.build(ctx);
    },
  };
  return c;
}

describe('image manifest (the guest contract)', () => {
  it('reads back what builders write', () => {
    assert.deepEqual(parseManifest(manifestText(TINY_MANIFEST)), TINY_MANIFEST);
  });

  it('refuses malformed manifests, naming the field', () => {
    const good = JSON.parse(manifestText(TINY_MANIFEST)) as Record<string, unknown>;
    assert.throws(() => parseManifest('{'), ManifestError);
    assert.throws(() => parseManifest('[]'), ManifestError);
    assert.throws(() => parseManifest(JSON.stringify({ ...good, init: [] })), /'init'/);
    assert.throws(() => parseManifest(JSON.stringify({ ...good, init: ['sbin/init'] })), /'init'/);
    assert.throws(() => parseManifest(JSON.stringify({ ...good, stopSignal: 'USR2' })), /'stopSignal'/);
    assert.throws(() => parseManifest(JSON.stringify({ ...good, systemd: 'no' })), /'systemd'/);
    assert.throws(() => parseManifest(JSON.stringify({ ...good, env: { A: 1 } })), /'env'/);
    assert.throws(() => parseManifest(JSON.stringify({ ...good, defaultUser: '' })), /'defaultUser'/);
    assert.equal(parseManifest(JSON.stringify({ ...good, stopSignal: 'SIGRTMIN+3' })).stopSignal, 'SIGRTMIN+3');
  });
});

describe('debootstrap progress', () => {
  it('counts retrievals, unpacking and configuring in the log', () => {
    const log = [
      '2026-12-02 07:16:06 URL:http://deb.debian.org/debian/pool/main/s/sed/sed_4.9-1+deb12u1_amd64.deb [329092/329092] -> "/x/var/cache/apt/archives/partial/sed_4.9-1+deb12u1_amd64.deb" [1]',
      '2026-12-02 07:16:06 URL:http://deb.debian.org/debian/dists/bookworm/InRelease [151029/151029] -> "/x/var/lib/apt/lists/partial/InRelease" [1]',
      'Unpacking sed (4.9-1+deb12u1) ...',
      'Setting up sed (4.9-1+deb12u1) ...',
      'Setting up libc6:amd64 (2.36-9+deb12u10) ...',
    ].join('\n');
    const c = countDebootstrapLog(log);
    assert.deepEqual(c, { retrieved: 1, unpacked: 1, configured: 2, last: 'configuring' });
    const p = debootstrapProgress(c, 10, 2);
    assert.equal(p.total, 32);
    // installing has started: retrieval (from the network or the download cache) is over
    assert.equal(p.done, 10 + 1 + 2);
    assert.match(p.step, /^configuring/);
    assert.deepEqual(debootstrapProgress({ retrieved: 0, unpacked: 0, configured: 0 }, 10, 2), { step: 'retrieving package lists', done: 0, total: 32 });
    assert.equal(debootstrapProgress({ retrieved: 12, unpacked: 0, configured: 0 }, 10, 2).total, 38);
    assert.match(debootstrapProgress(countDebootstrapLog('Setting up a (1) ...\nUnpacking b (1) ...\n'), 10, 2).step, /^unpacking packages \(1\)/);
  });

  it("counts debootstrap's own I: lines", () => {
    const out = 'I: Retrieving sed 4.9\nI: Validating sed 4.9\nI: Extracting sed...\nI: Unpacking sed...\nI: Configuring sed...\nI: Configuring libc-bin...\nI: Base system installed successfully.\n';
    assert.deepEqual(countDebootstrapOutput(out), { Retrieving: 1, Validating: 1, Extracting: 1, Unpacking: 1, Configuring: 2 });
  });
});

describe('file lock', () => {
  it('is exclusive in one process too, and a lock naming a dead pid is taken over', async () => {
    const dir = tmp('lock');
    try {
      const path = join(dir, 'x.lock');
      const a = await acquireLock(path, { pollMs: 20 });
      let waitedFor: number | undefined;
      let bHeld = false;
      const b = acquireLock(path, { pollMs: 20, onWait: (pid) => (waitedFor = pid) }).then((l) => {
        bHeld = true;
        return l;
      });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(bHeld, false);
      assert.equal(waitedFor, process.pid);
      await a.release();
      await (await b).release();
      assert.equal(existsSync(path), false);
      // A pid that cannot exist (above pid_max).
      writeFileSync(path, '99999999\n');
      const c = await acquireLock(path, { pollMs: 20 });
      assert.equal(readFileSync(path, 'utf8').trim(), String(process.pid));
      await c.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('image cache', () => {
  it('names the buildable images; an unknown name is refused', async () => {
    const cache = new ImageCache({ dir: '/nonexistent' });
    assert.deepEqual(cache.names(), ['tiny', 'debian-12']);
    assert.equal(cache.path('tiny'), '/nonexistent/tiny/root.ext4');
    assert.equal(cache.isBuilt('tiny'), false);
    assert.throws(() => cache.path('windows'), /no such image/);
    await assert.rejects(cache.ensure('windows'), /no such image/);
  });

  it('a failed build leaves nothing that looks built, and no lock', async () => {
    const dir = tmp('images-fail');
    try {
      const failing: ImageBuilder = {
        name: 'broken',
        version: 1,
        description: 'writes half an image, then fails',
        missing: async () => undefined,
        build: async (ctx) => {
          await writeFile(ctx.output, 'half');
          throw new Error('disk on fire');
        },
      };
      const cache = new ImageCache({ dir, builders: [failing] });
      await assert.rejects(cache.ensure('broken'), /disk on fire/);
      assert.equal(cache.isBuilt('broken'), false);
      assert.equal(existsSync(cache.path('broken')), false);
      assert.deepEqual(readdirSync(dir).filter((e) => e !== '.cache'), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a build killed with its process leaves no root.ext4; the next build takes over its lock and cleans up', async () => {
    const dir = tmp('images-kill');
    try {
      const script = join(dir, 'hang.mts');
      await writeFile(
        script,
        `import { writeFile } from 'node:fs/promises';
import { ImageCache } from ${JSON.stringify(join(ROOT, 'src/storage/images/cache.ts'))};
const hang = { name: 'slow', version: 1, description: '', missing: async () => undefined,
  build: async (ctx) => { await writeFile(ctx.output, 'partial'); console.log('building'); await new Promise(() => setInterval(() => {}, 1000)); } };
await new ImageCache({ dir: process.argv[2], builders: [hang] }).ensure('slow');
`,
      );
      const cacheDir = join(dir, 'cache');
      const child = spawn(process.execPath, ['--import', 'tsx', script, cacheDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((res, rej) => {
        child.stdout.on('data', (b: Buffer) => b.toString().includes('building') && res());
        child.once('exit', (code) => rej(new Error(`the child exited (${code}) before building`)));
      });
      assert.ok(existsSync(join(cacheDir, 'slow.lock')));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      let builds = 0;
      const quick: ImageBuilder = {
        name: 'slow',
        version: 1,
        description: '',
        missing: async () => undefined,
        build: async (ctx) => {
          builds++;
          await writeFile(ctx.output, 'complete');
        },
      };
      const cache = new ImageCache({ dir: cacheDir, builders: [quick] });
      assert.equal(cache.isBuilt('slow'), false);
      assert.equal(existsSync(cache.path('slow')), false);
      assert.ok(readdirSync(cacheDir).some((e) => e.startsWith('.build-slow-')), 'the killed build left its scratch directory');
      const path = await cache.ensure('slow');
      assert.equal(builds, 1);
      assert.equal(readFileSync(path, 'utf8'), 'complete');
      assert.deepEqual(readdirSync(cacheDir).sort(), ['.cache', 'slow']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a killed build's mounts (debootstrap's /proc, /sys, /dev) are unmounted, not emptied, before its tree is removed", { skip: isRoot() ? undefined : 'mounting needs root' }, async () => {
    const dir = tmp('images-mounts');
    const precious = tmp('images-host-dev');
    try {
      writeFileSync(join(precious, 'null'), 'a host file that must survive');
      const target = join(dir, '.build-m-999999-abcdef', 'work', 'root', 'dev');
      await mkdir(target, { recursive: true });
      await run('mount', ['--bind', precious, target]);
      const quick: ImageBuilder = { name: 'm', version: 1, description: '', missing: async () => undefined, build: (ctx) => writeFile(ctx.output, 'x') };
      await new ImageCache({ dir, builders: [quick] }).ensure('m');
      assert.equal(readFileSync(join(precious, 'null'), 'utf8'), 'a host file that must survive');
      assert.deepEqual(await mountsUnder(dir), []);
      assert.deepEqual(readdirSync(dir).sort(), ['.cache', 'm']);
    } finally {
      for (const p of await mountsUnder(dir)) await run('umount', ['-l', p]);
      rmSync(dir, { recursive: true, force: true });
      rmSync(precious, { recursive: true, force: true });
    }
  });

  it('a new builder version rebuilds', async () => {
    const dir = tmp('images-version');
    try {
      const make = (version: number): ImageBuilder => ({
        name: 'v',
        version,
        description: '',
        missing: async () => undefined,
        build: async (ctx) => writeFile(ctx.output, `v${version}`),
      });
      const one = await new ImageCache({ dir, builders: [make(1)] }).ensure('v');
      assert.equal(readFileSync(one, 'utf8'), 'v1');
      const c2 = new ImageCache({ dir, builders: [make(2)] });
      assert.equal(c2.isBuilt('v'), false);
      assert.equal(readFileSync(await c2.ensure('v'), 'utf8'), 'v2');
      assert.equal(c2.record('v')!.builderVersion.endsWith('.2'), true);
      assert.deepEqual(readdirSync(dir).sort(), ['.cache', 'v']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the tiny image', { skip: cannotBuild }, () => {
  let dir: string;
  let cache: ImageCache;
  let builder: ReturnType<typeof counting>;
  let file: string;
  const steps: string[] = [];

  before(async () => {
    dir = tmp('images');
    builder = counting(tinyBuilder);
    cache = new ImageCache({ dir, builders: [builder] });
    // Two concurrent calls: one build.
    const [a, b] = await Promise.all([cache.ensure('tiny', (p) => steps.push(p.step)), cache.ensure('tiny')]);
    assert.equal(a, b);
    file = a;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('concurrent ensure() calls share one build, which reports progress', () => {
    assert.equal(builder.builds, 1);
    assert.equal(file, join(dir, 'tiny', ROOT_FILE));
    assert.ok(steps.length >= 3, steps.join(', '));
    assert.equal(steps.at(-1), 'done');
  });

  it('is built: a sparse ext4 file and build.json, nothing else left behind', async () => {
    assert.equal(cache.isBuilt('tiny'), true);
    const s = statSync(file);
    assert.equal(s.size, 256 * 1024 * 1024);
    assert.ok(s.blocks * 512 < s.size / 4, 'the file is sparse');
    const rec = cache.record('tiny')!;
    assert.equal(rec.name, 'tiny');
    assert.ok(!Number.isNaN(Date.parse(rec.builtAt)));
    assert.equal(typeof rec.durationMs, 'number');
    assert.deepEqual(readdirSync(dir).sort(), ['.cache', 'tiny']);
    assert.deepEqual(readdirSync(join(dir, 'tiny')).sort(), [RECORD_FILE, ROOT_FILE]);
    const { stdout } = await run('dumpe2fs', ['-h', file]);
    assert.match(stdout, /Filesystem volume name:\s+overcast-tiny/);
  });

  it('a second ensure() answers from the cache (no rebuild)', async () => {
    const before = readFileSync(join(dir, 'tiny', RECORD_FILE), 'utf8');
    assert.equal(await cache.ensure('tiny'), file);
    assert.equal(await new ImageCache({ dir, builders: [builder] }).ensure('tiny'), file);
    assert.equal(builder.builds, 1);
    assert.equal(readFileSync(join(dir, 'tiny', RECORD_FILE), 'utf8'), before);
  });

  it('holds busybox with its applets, dropbear with its libraries and loader', async () => {
    const bin = await listing(file, '/usr/bin');
    assert.ok(bin.has('busybox'));
    assert.ok(bin.has('dropbearkey'));
    assert.ok(bin.has('sh') && bin.has('wget') && bin.has('nc'));
    const sbin = await listing(file, '/usr/sbin');
    assert.ok(sbin.has('dropbear'));
    assert.ok(sbin.has('init'));
    assert.match(await debugfs(file, 'stat /usr/sbin/init'), /Fast link dest: "\/usr\/bin\/busybox"/);
    assert.match(await debugfs(file, 'stat /bin'), /Fast link dest: "usr\/bin"/);
    const libs = await sharedLibraries('/usr/sbin/dropbear');
    assert.ok(libs.some((l) => l.includes('ld-linux')), libs.join(' '));
    for (const lib of libs) {
      const inImage = lib.replace(/^\/(lib|lib64)\//, '/usr/$1/');
      const parent = inImage.slice(0, inImage.lastIndexOf('/'));
      assert.ok((await listing(file, parent)).has(inImage.slice(inImage.lastIndexOf('/') + 1)), `${inImage} missing`);
    }
  });

  it('has the users, the resolver, inittab, overcast-init and the manifest', async () => {
    const passwd = await debugfs(file, 'cat /etc/passwd');
    assert.match(passwd, /^admin:x:1000:1000:[^:]*:\/home\/admin:\/bin\/sh$/m);
    assert.match(passwd, /^root:x:0:0:/m);
    const shadow = await debugfs(file, 'cat /etc/shadow');
    assert.match(shadow, /^admin:\*:/m);
    assert.match(shadow, /^root:\*:/m);
    assert.equal((await listing(file, '/etc')).get('shadow')!.mode, '100600');
    assert.equal((await listing(file, '/home')).get('admin')!.uid, 1000);
    assert.equal(await debugfs(file, 'cat /etc/resolv.conf'), 'nameserver 169.254.169.253\n');
    const inittab = await debugfs(file, 'cat /etc/inittab');
    assert.match(inittab, /^::sysinit:\/etc\/init\.d\/rcS$/m);
    assert.match(inittab, /^::respawn:\/usr\/sbin\/dropbear -F -E -R -p 22/m);
    assert.match(inittab, /^::shutdown:/m);
    assert.equal((await listing(file, '/usr/lib/overcast')).get('overcast-init')!.mode, '100755');
    const manifest = parseManifest(await debugfs(file, 'cat /etc/overcast/image.json'));
    assert.deepEqual(manifest, TINY_MANIFEST);
    assert.equal(manifest.defaultUser, 'admin');
  });
});

interface FakeImds {
  server: Server;
  port: number;
  requests: { method: string; url: string; token?: string }[];
}

/** A metadata service on 127.0.0.1: IMDSv2 (tokens required) unless `v1`. */
async function fakeImds(opts: { key?: string; userData?: string; v1?: boolean; instanceId?: string }): Promise<FakeImds> {
  const requests: FakeImds['requests'] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const token = req.headers['x-aws-ec2-metadata-token'];
    requests.push({ method: req.method!, url: req.url!, token: typeof token === 'string' ? token : undefined });
    if (req.url === '/latest/api/token') {
      if (opts.v1 || req.method !== 'PUT') return res.writeHead(opts.v1 ? 403 : 405).end();
      return res.writeHead(200, { 'content-type': 'text/plain' }).end('TOKEN-abc');
    }
    if (!opts.v1 && token !== 'TOKEN-abc') return res.writeHead(401).end();
    const answers: Record<string, string | undefined> = {
      '/latest/meta-data/instance-id': opts.instanceId ?? 'i-0123456789abcdef0',
      '/latest/meta-data/public-keys/0/openssh-key': opts.key,
      '/latest/meta-data/block-device-mapping/ephemeral0': 'sdb',
      '/latest/user-data': opts.userData,
    };
    const body = answers[req.url!];
    if (body === undefined) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, requests };
}

describe('the tiny root tree, run in a chroot', { skip: cannotBuild }, () => {
  let root: string;
  let dir: string;
  before(async () => {
    dir = tmp('tiny-root');
    root = join(dir, 'root');
    await buildTinyRoot(root);
    // The tree has no /dev (the runtime provides it); the agent's redirections need /dev/null.
    await mkdir(join(root, 'dev'), { recursive: true });
    await run('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const inRoot = (args: string[], env: Record<string, string> = {}) =>
    run('chroot', [root, ...args], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, timeoutMs: 30_000 });

  it('its scripts parse in busybox sh', async () => {
    for (const script of ['/usr/lib/overcast/overcast-init', '/etc/init.d/rcS', '/etc/init.d/rcK']) await inRoot(['/bin/sh', '-n', script]);
  });

  it('dropbear and dropbearkey run: their libraries and the loader are complete', async () => {
    const v = await inRoot(['/usr/sbin/dropbear', '-V']);
    assert.match(v.stdout + v.stderr, /Dropbear v\d/);
    await inRoot(['/usr/bin/dropbearkey', '-t', 'ed25519', '-f', '/tmp/test_host_key']);
    assert.ok(statSync(join(root, 'tmp/test_host_key')).size > 0);
  });

  it('overcast-init installs the key pair over IMDSv2 and runs the user data once', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvercastTestKey test@overcast';
    const imds = await fakeImds({ key, userData: '#!/bin/sh\necho "user data says hi"\necho ran >> /root/user-data-ran\n' });
    try {
      const env = { OVERCAST_IMDS_HOST: '127.0.0.1', OVERCAST_IMDS_PORT: String(imds.port) };
      const early = await inRoot(['/usr/lib/overcast/overcast-init', 'early'], env);
      assert.match(early.stdout, /installed the key pair's public key/);
      assert.match(early.stdout, /instance store sdb: no device/);
      for (const home of ['root', 'home/admin']) {
        const f = join(root, home, '.ssh/authorized_keys');
        assert.equal(readFileSync(f, 'utf8').trim(), key);
        assert.equal(statSync(f).mode & 0o777, 0o600);
        assert.equal(statSync(join(root, home, '.ssh')).mode & 0o777, 0o700);
      }
      assert.equal(statSync(join(root, 'home/admin/.ssh/authorized_keys')).uid, 1000);
      assert.equal(statSync(join(root, 'root/.ssh/authorized_keys')).uid, 0);

      const late = await inRoot(['/usr/lib/overcast/overcast-init', 'late'], env);
      assert.match(late.stdout, /user data says hi/);
      assert.match(late.stdout, /overcast-init: ready$/m);
      assert.equal(readFileSync(join(root, 'root/user-data-ran'), 'utf8'), 'ran\n');
      // Every metadata read carried the token: IMDSv2.
      const gets = imds.requests.filter((r) => r.method === 'GET');
      assert.deepEqual(gets.map((g) => g.url).sort(), [
        '/latest/meta-data/block-device-mapping/ephemeral0',
        '/latest/meta-data/instance-id',
        '/latest/meta-data/public-keys/0/openssh-key',
        '/latest/user-data',
      ]);
      for (const g of gets) assert.equal(g.token, 'TOKEN-abc', `${g.url} without the token`);

      // A reboot: the user data is not run again; ready is said again.
      const again = await inRoot(['/usr/lib/overcast/overcast-init', 'late'], env);
      assert.doesNotMatch(again.stdout, /user data says hi/);
      assert.match(again.stdout, /overcast-init: ready$/m);
      assert.equal(readFileSync(join(root, 'root/user-data-ran'), 'utf8'), 'ran\n');
    } finally {
      imds.server.close();
    }
    // The same root as another instance (an AMI made from this one): its first boot runs the user data.
    const other = await fakeImds({ key, userData: '#!/bin/sh\necho ran >> /root/user-data-ran\n', instanceId: 'i-0fedcba9876543210' });
    try {
      await inRoot(['/usr/lib/overcast/overcast-init', 'late'], { OVERCAST_IMDS_HOST: '127.0.0.1', OVERCAST_IMDS_PORT: String(other.port) });
      assert.equal(readFileSync(join(root, 'root/user-data-ran'), 'utf8'), 'ran\nran\n');
    } finally {
      other.server.close();
    }
  });

  it('overcast-init falls back to IMDSv1, and says ready when there is no service at all', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvercastV1Key v1@overcast';
    const imds = await fakeImds({ key, v1: true });
    try {
      await inRoot(['/usr/lib/overcast/overcast-init', 'early'], { OVERCAST_IMDS_HOST: '127.0.0.1', OVERCAST_IMDS_PORT: String(imds.port) });
      assert.equal(readFileSync(join(root, 'home/admin/.ssh/authorized_keys'), 'utf8').trim(), key);
    } finally {
      imds.server.close();
    }
    // A port nobody listens on: ten quick tries, then on.
    const none = await inRoot(['/usr/lib/overcast/overcast-init', 'late'], { OVERCAST_IMDS_HOST: '127.0.0.1', OVERCAST_IMDS_PORT: '1' });
    assert.match(none.stdout, /no instance metadata service/);
    assert.match(none.stdout, /overcast-init: ready$/m);
  });
});
