/**
 * The image cache: Overcast's default images, built on first use and kept.
 *
 * Layout under the cache directory (config.imageDir):
 *   <name>/root.ext4     the image's root filesystem (what volumes are cloned from)
 *   <name>/build.json    which builder version made it, when, how long it took
 *   <name>.lock          held (pid inside) while a process builds <name>
 *   .build-<name>-…/     a build in progress: renamed to <name>/ only when complete
 *   .cache/<name>/       downloads kept between builds (debootstrap's packages)
 *
 * A killed build leaves only a .build-… directory and a lock naming a dead pid:
 * nothing that looks built; the next build removes both. Concurrent ensure()
 * calls for one name in a process share one build; across processes the lock
 * file makes the later ones wait and then find the image built.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ImageBuildError, type BuildProgress, type ImageBuilder, type ProgressListener } from './builder.js';
import { DEFAULT_BUILDERS } from './builders.js';
import { acquireLock } from '../../host/lock.js';
import { removeTree } from '../../host/mounts.js';

/** Bump to rebuild every cached image (a change in the cache's layout or in what all builders share). */
export const CACHE_VERSION = 1;

/** What build.json holds. */
export interface BuildRecord {
  name: string;
  /** `<CACHE_VERSION>.<builder version>`: a cached image of another version is rebuilt */
  builderVersion: string;
  /** ISO 8601, when the build finished */
  builtAt: string;
  durationMs: number;
  /** the ext4 file's apparent size */
  bytes: number;
  host: string;
}

export interface ImageCacheOptions {
  dir: string;
  /** the builders (default: tiny and debian-12) */
  builders?: readonly ImageBuilder[];
}

export const ROOT_FILE = 'root.ext4';
export const RECORD_FILE = 'build.json';

const NAME = /^[a-z0-9][a-z0-9.-]*$/;

export class ImageCache {
  readonly dir: string;
  private readonly builders: ReadonlyMap<string, ImageBuilder>;
  private readonly inFlight = new Map<string, { promise: Promise<string>; listeners: Set<ProgressListener> }>();

  constructor(opts: ImageCacheOptions) {
    this.dir = opts.dir;
    this.builders = new Map((opts.builders ?? DEFAULT_BUILDERS).map((b) => [b.name, b]));
  }

  /** The names of the images this cache can build. */
  names(): string[] {
    return [...this.builders.keys()];
  }

  builder(name: string): ImageBuilder {
    const b = this.builders.get(name);
    if (!b) throw new ImageBuildError(name, `no such image (buildable: ${this.names().join(', ')})`);
    return b;
  }

  /** The ext4 file of the image (whether built or not). */
  path(name: string): string {
    this.builder(name);
    return join(this.dir, name, ROOT_FILE);
  }

  private versionOf(b: ImageBuilder): string {
    return `${CACHE_VERSION}.${b.version}`;
  }

  /** The build record of a built image of the current version; undefined if not built (or built by another version). */
  record(name: string): BuildRecord | undefined {
    const b = this.builder(name);
    let rec: BuildRecord;
    try {
      rec = JSON.parse(readFileSync(join(this.dir, name, RECORD_FILE), 'utf8')) as BuildRecord;
    } catch {
      return undefined;
    }
    if (rec.builderVersion !== this.versionOf(b)) return undefined;
    try {
      if (!statSync(join(this.dir, name, ROOT_FILE)).isFile()) return undefined;
    } catch {
      return undefined;
    }
    return rec;
  }

  isBuilt(name: string): boolean {
    return this.record(name) !== undefined;
  }

  /**
   * The path of the image's ext4 file, building it first if it is not built (or was
   * built by another builder version). Calls for one name share one build.
   */
  ensure(name: string, onProgress?: ProgressListener): Promise<string> {
    let builder: ImageBuilder;
    try {
      builder = this.builder(name);
    } catch (e) {
      return Promise.reject(e);
    }
    const flight = this.inFlight.get(name);
    if (flight) {
      if (onProgress) flight.listeners.add(onProgress);
      return flight.promise;
    }
    if (this.isBuilt(name)) return Promise.resolve(this.path(name));
    const listeners = new Set<ProgressListener>(onProgress ? [onProgress] : []);
    const emit = (p: BuildProgress): void => {
      for (const l of listeners) {
        try {
          l(p);
        } catch {
          // a listener's failure is not the build's
        }
      }
    };
    const promise = this.buildLocked(builder, emit).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, { promise, listeners });
    return promise;
  }

  private async buildLocked(builder: ImageBuilder, emit: ProgressListener): Promise<string> {
    const name = builder.name;
    await mkdir(this.dir, { recursive: true });
    const lock = await acquireLock(join(this.dir, `${name}.lock`), {
      onWait: (pid) => emit({ step: `waiting for process ${pid}, which is building ${name}`, done: 0, total: 1 }),
    });
    try {
      // Another process may have built it while we waited.
      if (this.isBuilt(name)) return this.path(name);
      await this.removeLeftovers(name);
      const missing = await builder.missing();
      if (missing) throw new ImageBuildError(name, `cannot be built on this host: ${missing}`);
      return await this.build(builder, emit);
    } finally {
      await lock.release();
    }
  }

  /** Builds of this name that were killed (we hold its lock: nobody else is building it). */
  private async removeLeftovers(name: string): Promise<void> {
    for (const entry of await readdir(this.dir)) {
      if (entry.startsWith(`.build-${name}-`) || entry.startsWith(`.old-${name}-`)) {
        await removeTree(join(this.dir, entry));
      }
    }
  }

  private async build(builder: ImageBuilder, emit: ProgressListener): Promise<string> {
    const name = builder.name;
    const started = Date.now();
    const tmp = await mkdtemp(join(this.dir, `.build-${name}-${process.pid}-`));
    try {
      const work = join(tmp, 'work');
      const out = join(tmp, 'out');
      const cache = join(this.dir, '.cache', name);
      await Promise.all([mkdir(work), mkdir(out), mkdir(cache, { recursive: true })]);
      const output = join(out, ROOT_FILE);
      await builder.build({ work, output, cache, progress: emit });
      // The scratch tree can be large (a whole Debian): drop it before the image goes live.
      await removeTree(work);
      const s = await stat(output).catch(() => undefined);
      if (!s?.isFile()) throw new ImageBuildError(name, `the builder produced no ${ROOT_FILE}`);
      const rec: BuildRecord = {
        name,
        builderVersion: this.versionOf(builder),
        builtAt: new Date().toISOString(),
        durationMs: Date.now() - started,
        bytes: s.size,
        host: hostname(),
      };
      await writeFile(join(out, RECORD_FILE), `${JSON.stringify(rec, null, 2)}\n`);
      // The commit: one rename puts the complete image in place. An older build is moved
      // aside first (instances cloning from it keep their open file).
      const final = join(this.dir, name);
      if (existsSync(final)) await rename(final, join(this.dir, `.old-${name}-${process.pid}-${Date.now()}`));
      await rename(out, final);
      await this.removeLeftovers(name);
      return join(final, ROOT_FILE);
    } finally {
      await removeTree(tmp);
    }
  }
}
