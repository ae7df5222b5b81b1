/** Making an ext4 filesystem image from a directory tree, without mounting anything. */
import { open } from 'node:fs/promises';
import { run } from '../../host/exec.js';

export const MIB = 1024 * 1024;

/**
 * Writes `file` (a new sparse file of `bytes`) holding an ext4 filesystem whose
 * contents are the tree at `rootDir`, owners and modes as they are there.
 */
export async function makeExt4(rootDir: string, file: string, bytes: number, label: string): Promise<void> {
  const fh = await open(file, 'wx', 0o644);
  try {
    await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
  await run('mkfs.ext4', [
    '-q',
    '-F',
    '-L', label,
    // 4 KiB blocks whatever the size (mke2fs picks 1 KiB for small images), as distributions' cloud images
    '-b', '4096',
    // no blocks reserved for root (an instance's volume is grown to its size anyway)
    '-m', '0',
    '-E', 'nodiscard,root_owner=0:0',
    '-d', rootDir,
    file,
  ]);
}
