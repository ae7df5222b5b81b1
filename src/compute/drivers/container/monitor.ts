/**
 * Each instance's container runs under a small monitor process of its own
 * session (not a child of the server, so instances outlive a restart): a
 * fixed POSIX shell script that runs `crun run` in the foreground — crun stays
 * the parent of the guest's PID 1 and exits with its status — and records that
 * status in a file. The status says how the guest ended: 129 (SIGHUP) is a
 * reboot from inside, 130 (SIGINT) a power-off from inside (the kernel ends a
 * PID namespace's init that way on reboot(2)), 137 a kill, anything else a
 * crash. The guest's console is a FIFO the monitor drains into the console log,
 * so that what the guest writes to /dev/console (systemd, cloud-init) lands
 * there too, always appended.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MONITOR_SCRIPT = `#!/bin/sh
# Overcast instance monitor: runs one container in the foreground and records how it ended.
# usage: monitor.sh EXIT-FILE CONSOLE-LOG RUNTIME ARGS...
# The guest's console is a FIFO (bound at /dev/console inside, and PID 1's stdout and stderr);
# a reader appends whatever the guest writes there to the console log.
exitfile="$1"
console="$2"
shift 2
pipe="$console.pipe"
rm -f "$exitfile" "$pipe"
mkfifo -m 600 "$pipe"
cat "$pipe" >> "$console" &
"$@" > "$pipe" 2>&1
status=$?
wait
rm -f "$pipe"
echo "$status" > "$exitfile.tmp" && mv "$exitfile.tmp" "$exitfile"
`;

/** Writes the monitor script under `dir` (once per driver) and answers its path. */
export async function installMonitor(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'monitor.sh');
  let current: string | undefined;
  try {
    current = await readFile(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== MONITOR_SCRIPT) {
    await writeFile(`${path}.tmp`, MONITOR_SCRIPT);
    await chmod(`${path}.tmp`, 0o755);
    await rename(`${path}.tmp`, path);
  }
  return path;
}

export type GuestExit =
  /** reboot(2) from inside: the machine comes back */
  | 'reboot'
  /** power-off or halt from inside */
  | 'poweroff'
  /** killed (by the driver's stop or by someone else) */
  | 'killed'
  /** PID 1 exited by itself or the runtime failed */
  | 'crash';

export function exitKind(status: number): GuestExit {
  if (status === 129) return 'reboot';
  if (status === 130) return 'poweroff';
  if (status === 137 || status === 143) return 'killed';
  return 'crash';
}

/** The recorded exit status, or undefined while the monitor has not recorded one. */
export async function readExit(file: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
