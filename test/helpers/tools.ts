/** Real command-line tools (openssl, ssh-keygen) that tests check key material against. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

/** Runs a tool with stdin closed after `input`; one that hangs (waiting on a terminal, say) is killed after a minute and fails the test. */
export function run(cmd: string, args: string[], input?: Buffer | string): Buffer {
  return execFileSync(cmd, args, { input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
}

export const runText = (cmd: string, args: string[], input?: Buffer | string): string => run(cmd, args, input).toString('utf8');

/** `openssl <digest> -c` output "(stdin)= aa:bb:…" → "aa:bb:…". */
export function opensslDigestColon(digest: 'sha1' | 'md5', data: Buffer): string {
  const out = runText('openssl', [digest, '-c'], data).trim();
  const m = /= ([0-9a-f:]+)$/.exec(out);
  assert.ok(m, `unexpected openssl output ${out}`);
  return m[1]!;
}
