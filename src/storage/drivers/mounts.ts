/** The host's mounts as this process sees them (/proc/self/mountinfo), and `mount`/`umount`. */
import { readFile } from 'node:fs/promises';
import { run } from '../../host/exec.js';

export interface Mount {
  target: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export async function listMounts(): Promise<Mount[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || fields.length < dash + 3 || fields[4] === undefined) continue;
    out.push({ target: unescape(fields[4]), fsType: fields[dash + 1]!, source: unescape(fields[dash + 2]!) });
  }
  return out;
}

/** The mount on top at `target` (the last one mounted there), if any. */
export async function mountAt(target: string): Promise<Mount | undefined> {
  const at = (await listMounts()).filter((m) => m.target === target);
  return at[at.length - 1];
}

export async function mount(device: string, target: string, fsType: string): Promise<void> {
  await run('mount', ['-t', fsType, device, target]);
}

export async function unmount(target: string): Promise<void> {
  await run('umount', [target]);
}
