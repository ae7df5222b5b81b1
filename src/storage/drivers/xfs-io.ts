/**
 * Many xfs_io commands on one file in few processes (`xfs_io -c CMD -c CMD … FILE`):
 * reflinking ranges in (`reflink -q SRC srcoff dstoff len`) and punching them out
 * (`fpunch off len`). xfs_io answers 0 even when some commands fail, and says so on
 * stderr only: anything there is a failure.
 */
import { CommandError, run } from '../../host/exec.js';

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

/** Ranges that continue each other (source and destination alike) as one. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (last && last.src + last.length === r.src && last.dst + last.length === r.dst) last.length += r.length;
    else out.push({ ...r });
  }
  return out;
}

/** Shares `ranges` of `src` (a name relative to `cwd`, no spaces) into `file` at their destinations. */
export function reflinkRanges(file: string, src: string, ranges: readonly Range[], cwd: string): Promise<void> {
  return xfsIo(
    file,
    mergeRanges(ranges).map((r) => `reflink -q ${src} ${r.src} ${r.dst} ${r.length}`),
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
