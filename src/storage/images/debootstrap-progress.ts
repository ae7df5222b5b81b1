/**
 * Progress of a running debootstrap, from its log. debootstrap writes its own
 * `I: Retrieving…` lines to its standard output, which host/exec.ts hands over
 * only when it exits; while it runs, the target's debootstrap/debootstrap.log
 * shows the same phases: one wget `URL:` line per package retrieved, dpkg's
 * `Unpacking …` and `Setting up …` per package installed and configured.
 */
import type { BuildProgress } from './builder.js';

export interface DebootstrapCounts {
  retrieved: number;
  unpacked: number;
  configured: number;
  /** the phase of the last line that told one (dpkg unpacks and configures in turns) */
  last?: 'retrieving' | 'unpacking' | 'configuring';
}

export function countDebootstrapLog(text: string): DebootstrapCounts {
  let retrieved = 0;
  let unpacked = 0;
  let configured = 0;
  let last: DebootstrapCounts['last'];
  for (const line of text.split('\n')) {
    if (/ URL:\S+\.deb /.test(line)) {
      retrieved++;
      last = 'retrieving';
    } else if (line.startsWith('Unpacking ')) {
      unpacked++;
      last = 'unpacking';
    } else if (line.startsWith('Setting up ')) {
      configured++;
      last = 'configuring';
    }
  }
  return last ? { retrieved, unpacked, configured, last } : { retrieved, unpacked, configured };
}

/** Counts of debootstrap's final `I:` output (for the build's summary). */
export function countDebootstrapOutput(text: string): Record<'Retrieving' | 'Validating' | 'Extracting' | 'Unpacking' | 'Configuring', number> {
  const c = { Retrieving: 0, Validating: 0, Extracting: 0, Unpacking: 0, Configuring: 0 };
  for (const line of text.split('\n')) {
    const m = /^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) /.exec(line);
    if (m) c[m[1] as keyof typeof c]++;
  }
  return c;
}

/**
 * The build's progress from the counts: three steps per package (retrieve, unpack,
 * configure) out of `expected` packages (raised if more show up), plus `extra`
 * steps after debootstrap (the image's configuration, the ext4 file).
 */
export function debootstrapProgress(c: DebootstrapCounts, expected: number, extra: number): BuildProgress {
  const packages = Math.max(expected, c.retrieved, c.unpacked, c.configured);
  const total = 3 * packages + extra;
  // Packages taken from the download cache leave no retrieval lines: once installing starts, retrieval is over.
  const retrieved = c.unpacked > 0 || c.configured > 0 ? packages : Math.min(c.retrieved, packages);
  const done = retrieved + Math.min(c.unpacked, packages) + Math.min(c.configured, packages);
  const step =
    c.last === 'configuring'
      ? `configuring packages (${c.configured})`
      : c.last === 'unpacking'
        ? `unpacking packages (${c.unpacked})`
        : c.last === 'retrieving'
          ? `retrieving packages (${c.retrieved})`
          : 'retrieving package lists';
  return { step, done, total };
}
