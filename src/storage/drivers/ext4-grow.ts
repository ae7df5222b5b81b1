/** Telling an ext4 filesystem in a file, and growing it to the file's size (unmounted, before attach). */
import { open } from 'node:fs/promises';
import { run } from '../../host/exec.js';

/** Whether `file` holds an ext2/3/4 filesystem (the superblock's magic 0xEF53 at byte 1080). */
export async function holdsExt4(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 1080);
    return bytesRead === 2 && buf.readUInt16LE(0) === 0xef53;
  } finally {
    await fh.close();
  }
}

/** Checks the filesystem in `file` (replaying its journal) and grows it to fill the file. */
export async function growExt4(file: string): Promise<void> {
  // 1: errors corrected, 2: corrected, "reboot" (meaningless for a file)
  await run('e2fsck', ['-f', '-p', file], { okCodes: [1, 2] });
  await run('resize2fs', [file]);
}
