/**
 * `overcast image build NAME`, `overcast image list` and `overcast image import FILE`: Overcast's default images
 * in the cache directory (--image-dir, default images/ in the data directory).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.js';
import { internalContext } from './resources/context.js';
import { registerImportedImage } from './resources/ec2/images.js';
import { importDisk } from './storage/images/import.js';
import { writeBundle } from './storage/images/bundle.js';
import { SqliteStore } from './store/sqlite.js';
import type { BuildProgress } from './storage/images/builder.js';
import { ImageCache } from './storage/images/cache.js';

export const IMAGE_USAGE = `  overcast image list [options]        the images Overcast builds: built or not, size, build date
  overcast image build NAME [options]  build an image now (otherwise built on first use), e.g. tiny, debian-12
  overcast image import FILE --name NAME [--region R] [--architecture x86_64|arm64] [--description TEXT] [options]
                                       register your own image (a rootfs tarball, a raw ext4 disk image or a qcow2
                                       image) as a private AMI of the account; prints its id
  overcast image import FILE --name NAME --instance-store [--architecture x86_64|arm64] [options]
                                       make it an instance-store bundle in the image store instead; prints its
                                       ImageLocation (overcast-images/NAME/image.manifest.xml) for RegisterImage
`;

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

function human(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(bytes < 10 * 1024 ** 2 ? 1 : 0)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Progress as one updating line on a terminal, as plain lines (one per step) otherwise. */
export function progressPrinter(out: Out, name: string): { update(p: BuildProgress): void; end(): void } {
  const printed = new Set<string>();
  let lastPct = -100;
  let drawn = false;
  return {
    update(p) {
      const pct = p.total > 0 ? Math.min(100, Math.floor((100 * p.done) / p.total)) : 0;
      if (out.isTTY) {
        const width = 24;
        const fill = Math.round((width * pct) / 100);
        const line = `${name} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}% ${p.step}`;
        out.write(`\r${line.slice(0, Math.max(20, (out.columns ?? 80) - 1))}\x1b[K`);
        drawn = true;
      } else {
        // A line for each new kind of step ("configuring packages (12)" and "(13)" are one
        // kind), and one per 10% besides (debootstrap unpacks and configures in turns).
        const kind = p.step.replace(/\s*\(\d+\)$/, '');
        if (printed.has(kind) && pct - lastPct < 10) return;
        printed.add(kind);
        lastPct = pct;
        out.write(`${name}: ${String(pct).padStart(3)}% ${kind}\n`);
      }
    },
    end() {
      if (drawn) out.write('\r\x1b[K');
    },
  };
}

/** Splits `[NAME] [--flag value…]`: the positional arguments, and the rest for loadConfig. */
function positionals(args: readonly string[]): { names: string[]; flags: string[] } {
  const names: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-')) {
      flags.push(a);
      if (!a.includes('=') && i + 1 < args.length) flags.push(args[++i]!);
    } else names.push(a);
  }
  return { names, flags };
}

/** Takes `--name X` / `--name=X` out of the flags. */
function takeFlag(flags: string[], name: string): string | undefined {
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (f === name) {
      const v = flags[i + 1];
      flags.splice(i, 2);
      return v;
    }
    if (f.startsWith(`${name}=`)) {
      flags.splice(i, 1);
      return f.slice(name.length + 1);
    }
  }
  return undefined;
}

export async function runImageCommand(args: readonly string[], out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const [sub, ...all] = args;
  // a flag without a value: taken out before the others are paired with theirs
  const instanceStore = sub === 'import' && all.includes('--instance-store');
  const rest = all.filter((a) => sub !== 'import' || a !== '--instance-store');
  const { names, flags } = positionals(rest);
  const importFlags = sub === 'import' ? { name: takeFlag(flags, '--name'), region: takeFlag(flags, '--region'), arch: takeFlag(flags, '--architecture'), description: takeFlag(flags, '--description') } : undefined;
  let imageDir: string;
  let config: Config;
  try {
    config = loadConfig(flags);
    imageDir = config.imageDir;
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`overcast: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const cache = new ImageCache({ dir: imageDir });

  if (sub === 'list' && names.length === 0) {
    const rows = [['NAME', 'STATE', 'SIZE', 'BUILT', 'TOOK', 'FILE']];
    const notes: string[] = [];
    for (const name of cache.names()) {
      const rec = cache.record(name);
      if (!rec) {
        const missing = await cache.builder(name).missing();
        if (missing) notes.push(`${name} cannot be built here: ${missing}`);
        rows.push([name, 'not built', '-', '-', '-', '-']);
        continue;
      }
      const s = statSync(cache.path(name));
      rows.push([name, 'built', `${human(s.blocks * 512)} (of ${human(s.size)})`, rec.builtAt.replace(/\.\d+Z$/, 'Z'), seconds(rec.durationMs), cache.path(name)]);
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) out.write(`${r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join('  ')}\n`);
    for (const n of notes) out.write(`${n}\n`);
    out.write(`(cache: ${imageDir})\n`);
    return 0;
  }

  if (sub === 'build' && names.length === 1) {
    const name = names[0]!;
    if (!cache.names().includes(name)) {
      err.write(`overcast: no image '${name}' (buildable: ${cache.names().join(', ')})\n`);
      return 2;
    }
    if (cache.isBuilt(name)) {
      out.write(`${name}: already built: ${cache.path(name)}\n`);
      return 0;
    }
    const started = Date.now();
    const bar = progressPrinter(out, name);
    try {
      const path = await cache.ensure(name, (p) => bar.update(p));
      bar.end();
      const s = statSync(path);
      out.write(`${name}: built in ${seconds(Date.now() - started)}: ${path} (${human(s.blocks * 512)} used of ${human(s.size)})\n`);
      return 0;
    } catch (e) {
      bar.end();
      err.write(`overcast: ${(e as Error).message}\n`);
      return 1;
    }
  }

  if (sub === 'import' && names.length === 1 && importFlags) {
    const { name, arch = 'x86_64', description } = importFlags;
    const region = importFlags.region ?? config.defaultRegion;
    if (!name) {
      err.write('overcast: image import needs --name NAME (the AMI name)\n');
      return 2;
    }
    if (arch !== 'x86_64' && arch !== 'arm64') {
      err.write(`overcast: --architecture must be x86_64 or arm64, got '${arch}'\n`);
      return 2;
    }
    if (!config.regions.includes(region)) {
      err.write(`overcast: region '${region}' is not served (--regions)\n`);
      return 2;
    }
    if (instanceStore) {
      try {
        const disk = await importDisk(names[0]!, join(imageDir, 'imports'), name);
        const bundle = await writeBundle(imageDir, name, disk.file, arch);
        out.write(`${bundle.location}\t${name}\t${disk.format} → ${bundle.dir} (${human(bundle.manifest.size)})\n`);
        return 0;
      } catch (e) {
        err.write(`overcast: ${(e as Error).message}\n`);
        return 1;
      }
    }
    if (config.dataDir === ':memory:') {
      err.write('overcast: image import needs a data directory (--data-dir) the server uses\n');
      return 2;
    }
    try {
      const disk = await importDisk(names[0]!, join(imageDir, 'imports'), name);
      const store = new SqliteStore(config.dataDir, { durability: config.storeSync });
      try {
        const ctx = internalContext(store, config, region);
        const image = store.transaction(() => registerImportedImage(ctx, { name, file: disk.file, bytes: disk.bytes, architecture: arch, description }));
        out.write(`${image.ImageId}\t${name}\t${region}\t${disk.format} → ${disk.file} (${human(disk.bytes)})\n`);
      } finally {
        store.close();
      }
      return 0;
    } catch (e) {
      err.write(`overcast: ${(e as Error).message}\n`);
      return 1;
    }
  }

  err.write(`usage:\n${IMAGE_USAGE}`);
  return 2;
}
