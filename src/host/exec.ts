/**
 * The one way Overcast runs a host tool (`ip`, `nft`, `crun`, `losetup`,
 * `mkfs.*`, `debootstrap`…): a command and its arguments as an array — never a
 * string for a shell — logged before it runs, with a non-zero exit turned into
 * a typed CommandError that carries the command line, the exit status and what
 * the tool wrote to stderr.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import type { Writable } from 'node:stream';

export interface RunOptions {
  /** written to the tool's stdin, then closed */
  input?: string | Buffer;
  /** killed (SIGKILL) after this long; the error says so (default: no limit) */
  timeoutMs?: number;
  cwd?: string;
  /** replaces the environment (default: the server's own) */
  env?: NodeJS.ProcessEnv;
  /** exit statuses that are not failures besides 0 (e.g. `[1]` for "not found" answers) */
  okCodes?: readonly number[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** the exit status (0, or one of okCodes) */
  code: number;
}

/** A host tool that could not start, exited non-zero or was killed. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    /** exit status; null when killed by a signal or never started */
    readonly code: number | null,
    readonly stderr: string,
    /** ENOENT when the tool is not installed, 'timeout', or the signal */
    readonly reason?: string,
  ) {
    const line = commandLine(command, args);
    const why =
      reason === 'ENOENT'
        ? 'is not installed (not found on PATH)'
        : reason === 'timeout'
          ? 'timed out'
          : code === null
            ? `failed (${reason ?? 'killed'})`
            : `exited with status ${code}`;
    const detail = stderr.trim().split('\n').slice(-3).join(' | ');
    super(`${line}: ${why}${detail ? `: ${detail}` : ''}`);
    this.name = 'CommandError';
  }
}

/** How a command is shown in logs and errors (arguments with spaces quoted). */
export function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map((a) => (a === '' || /[\s"'\\$`]/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

let logSink: ((line: string) => void) | undefined = process.env.OVERCAST_LOG_COMMANDS === '1' ? (l) => process.stderr.write(`$ ${l}\n`) : undefined;

/** Where command lines are logged, each when it ends, with its exit and how long it took (undefined: nowhere). OVERCAST_LOG_COMMANDS=1 logs them to stderr. */
export function setCommandLog(sink: ((line: string) => void) | undefined): void {
  logSink = sink;
}

/** Runs `command args…` and resolves with its output; rejects with CommandError. */
export function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const { stdin, result } = start(command, args, opts, opts.input !== undefined);
  if (opts.input !== undefined) stdin?.end(opts.input);
  return result;
}

/** A command started with its input open: written while it runs, then closed. */
export interface FedCommand {
  /** writes to its input (buffered when it reads slower) */
  feed(text: string): void;
  /** closes its input; resolves as run() does once it exits */
  end(): Promise<RunResult>;
}

/**
 * Starts `command args…` reading what feed() writes (a tool that takes commands on its input, like
 * `xfs_io`, working while the rest is still being worked out). A command that ends early rejects end().
 */
export function runFed(command: string, args: readonly string[], opts: Omit<RunOptions, 'input'> = {}): FedCommand {
  const { stdin, result } = start(command, args, opts, true);
  result.catch(() => undefined); // answered by end()
  return {
    feed: (text) => {
      if (!stdin!.writableEnded) stdin!.write(text);
    },
    end: () => {
      stdin!.end();
      return result;
    },
  };
}

function start(command: string, args: readonly string[], opts: Omit<RunOptions, 'input'>, piped: boolean): { stdin: Writable | undefined; result: Promise<RunResult> } {
  const started = logSink === undefined ? 0 : performance.now();
  const logEnd = (how: string): void => {
    logSink?.(`${commandLine(command, args)}  (${how}, ${(performance.now() - started).toFixed(1)} ms)`);
  };
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const result = new Promise<RunResult>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      logEnd(`not started: ${e.code ?? e.message}`);
      reject(new CommandError(command, args, null, '', e.code ?? e.message));
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      logEnd(code === null ? `signal ${signal ?? '?'}` : `exit ${code}`);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code !== null && (code === 0 || opts.okCodes?.includes(code))) resolve({ stdout, stderr, code });
      else reject(new CommandError(command, args, code, stderr, timedOut ? 'timeout' : (signal ?? undefined)));
    });
  });
  if (child.stdin) child.stdin.on('error', () => {}); // a tool that exits without reading its input
  return { stdin: child.stdin ?? undefined, result };
}

/** Whether `command` can be found on PATH (or is an executable path). */
export async function hasCommand(command: string): Promise<boolean> {
  const dirs = command.includes('/') ? [''] : (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  for (const dir of dirs) {
    try {
      await access(dir ? `${dir}/${command}` : command, constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** Whether this process runs as root (the real drivers need it). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Starts `command args…` as a process of its own session that outlives this
 * one (an instance's monitor), its stdout and stderr appended to `logFile`.
 * Logged like run(); resolves with its pid once it started.
 */
export async function spawnDetached(command: string, args: readonly string[], opts: { logFile: string; cwd?: string }): Promise<number> {
  logSink?.(`${commandLine(command, args)} &`);
  const fd = openSync(opts.logFile, 'a');
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(command, args, { cwd: opts.cwd, detached: true, stdio: ['ignore', fd, fd] });
      child.once('error', (e: NodeJS.ErrnoException) => reject(new CommandError(command, args, null, '', e.code ?? e.message)));
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid!);
      });
    });
  } finally {
    closeSync(fd);
  }
}
