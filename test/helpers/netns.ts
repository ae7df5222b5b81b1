/** What the tests of the network drivers share: a command that succeeds or not, one bounded ping. */
import { spawn, type ChildProcess } from 'node:child_process';
import { CommandError, run } from '../../src/host/exec.js';
import { inNsCommand } from '../../src/network/drivers/netns.js';

/** Whether a command exits 0 within 5 s (a non-zero exit is false, not an error). */
export async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeoutMs: 5000 });
    return true;
  } catch (e) {
    if (e instanceof CommandError) return false;
    throw e;
  }
}

/** One echo request, one second to answer, from a namespace (or the host). `via` binds it to a device so it can leave by no other way. */
export function ping(ns: string | undefined, address: string, via?: string): Promise<boolean> {
  const p = ['busybox', 'ping', '-c1', '-W1', ...(via ? ['-I', via] : []), address];
  return ns ? succeeds(...inNsCommand(ns, p[0]!, p.slice(1))) : succeeds(p[0]!, p.slice(1));
}

/** A node script run inside a namespace (in the background); resolves once it prints `ready`. */
export async function nodeReadyIn(ns: string, script: string): Promise<ChildProcess> {
  const child = spawn(...inNsCommand(ns, process.execPath, ['-e', script]), { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the script did not get ready (8 s)')), 8000);
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error('the script exited before it was ready')));
  });
  return child;
}
