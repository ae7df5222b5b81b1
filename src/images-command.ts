/**
 * `overcast image build NAME` and `overcast image list`: Overcast's default images
 * in the cache directory (--image-dir, default images/ in the data directory).
 */
import { statSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.js';
import type { BuildProgress } from './storage/images/builder.js';
import { ImageCache } from './storage/images/cache.js';

export const IMAGE_USAGE = `  overcast image list [options]        the images Overcast builds: built or not, size, build date
  overcast image build NAME [options]  build an image now (otherwise built on first use), e.g. tiny, debian-12
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

export async function runImageCommand(args: readonly string[], out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const [sub, ...rest] = args;
  const { names, flags } = positionals(rest);
  let imageDir: string;
  try {
    imageDir = loadConfig(flags).imageDir;
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

  err.write(`usage:\n${IMAGE_USAGE}`);
  return 2;
}
