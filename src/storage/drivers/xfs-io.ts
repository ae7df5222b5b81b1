/**
 * Many xfs_io commands on one file in few processes (`xfs_io -c CMD -c CMD … FILE`, or
 * fed on its input while they are worked out: ReflinkFeed): reflinking ranges in
 * (`reflink -q SRC srcoff dstoff len`) and punching them out (`fpunch off len`). xfs_io answers 0 even when some commands fail, and says so on
 * stderr only: anything there is a failure.
 */
import { CommandError, run, runFed, type FedCommand } from '../../host/exec.js';

/** commands per xfs_io process (argv stays far below ARG_MAX) */
const BATCH = 2000;

export interface Range {
  /** source offset (bytes) */
  src: number;
  /** destination offset (bytes) */
  dst: number;
  length: number;
}

/** Runs `commands` on `file` (created when missing), `cwd` for the relative paths in them. */
export async function xfsIo(file: string, commands: readonly string[], cwd?: string): Promise<void> {
  for (let i = 0; i < commands.length; i += BATCH) {
    const args = ['-f'];
    for (const c of commands.slice(i, i + BATCH)) args.push('-c', c);
    args.push(file);
    const r = await run('xfs_io', args, cwd === undefined ? {} : { cwd });
    if (r.stderr.trim() !== '') throw new CommandError('xfs_io', args.length > 8 ? [...args.slice(0, 6), '…', file] : args, r.code, r.stderr);
  }
}

/** Whether `r` continues `last`, at the source and the destination alike. */
const continues = (last: Range | undefined, r: Range): last is Range => last !== undefined && last.src + last.length === r.src && last.dst + last.length === r.dst;

/** The xfs_io command sharing range `r` of `src` into the file it runs on. */
const reflinkCommand = (src: string, r: Range): string => `reflink -q ${src} ${r.src} ${r.dst} ${r.length}`;

/** Ranges that continue each other (source and destination alike) as one. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (continues(last, r)) last.length += r.length;
    else out.push({ ...r });
  }
  return out;
}

/** Shares `ranges` of `src` (a name relative to `cwd`, no spaces) into `file` at their destinations. */
export function reflinkRanges(file: string, src: string, ranges: readonly Range[], cwd: string): Promise<void> {
  return xfsIo(
    file,
    mergeRanges(ranges).map((r) => reflinkCommand(src, r)),
    cwd,
  );
}

/** Deallocates `ranges` of `file`: their space is freed, the file keeps its size (they read as zeros). */
export function punchRanges(file: string, ranges: readonly { offset: number; length: number }[]): Promise<void> {
  return xfsIo(
    file,
    ranges.map((r) => `fpunch ${r.offset} ${r.length}`),
  );
}

/**
 * Shares ranges of `src` (a name relative to `cwd`, no spaces) into `file` as they come: one xfs_io,
 * started at once, reading its commands from its input, so that it starts and reflinks while the
 * ranges are still being worked out. Ranges that continue each other are joined. end() waits for it
 * and fails if any command did; abort() stops it (the file is left as far as it got).
 */
export class ReflinkFeed {
  private readonly cmd: FedCommand;
  private last: Range | undefined;
  private ended = false;

  constructor(
    private readonly file: string,
    private readonly src: string,
    cwd: string,
  ) {
    this.cmd = runFed('xfs_io', ['-f', file], { cwd });
  }

  add(r: Range): void {
    if (continues(this.last, r)) {
      this.last.length += r.length;
      return;
    }
    this.send();
    this.last = { ...r };
  }

  async end(): Promise<void> {
    this.send();
    this.ended = true;
    const r = await this.cmd.end();
    if (r.stderr.trim() !== '') throw new CommandError('xfs_io', ['-f', this.file], r.code, r.stderr);
  }

  async abort(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.cmd.end().catch(() => undefined);
  }

  private send(): void {
    if (this.last) this.cmd.feed(`${reflinkCommand(this.src, this.last)}\n`);
    this.last = undefined;
  }
}
