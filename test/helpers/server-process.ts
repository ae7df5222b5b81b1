/** An Overcast server run as users run it (`bin/overcast.js server`), in its own process, for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
}

/** Starts the server on a free port over `dataDir` with `args`; resolves once it listens (`startMs` at most). */
export function spawnServer(dataDir: string, args: readonly string[], startMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['bin/overcast.js', 'server', '--port', '0', '--data-dir', dataDir, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), startMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

/** kill -9, resolved once the process is gone. */
export function kill9(p: ServerProcess): Promise<void> {
  return new Promise((resolve) => {
    p.child.removeAllListeners('exit');
    p.child.once('exit', () => resolve());
    p.child.kill('SIGKILL');
  });
}
