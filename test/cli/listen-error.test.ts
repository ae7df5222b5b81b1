/** A port that cannot be listened on gives one clear line and a non-zero exit, no stack trace. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { overcast } from './run.js';

describe('overcast server on a port it cannot have', () => {
  const dir = mkdtempSync(join(tmpdir(), 'overcast-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a port in use: one line naming the port, the cause and the option; exit 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await overcast(['server', '--port', String(port), '--data-dir', join(dir, 'data')]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `overcast: port ${port} on 127.0.0.1 is already in use (EADDRINUSE); choose another with --port or OVERCAST_PORT\n`,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.doesNotMatch(r.stdout, /listening on/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('the same through OVERCAST_PORT', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await overcast(['server', '--data-dir', join(dir, 'data-env')], { env: { OVERCAST_PORT: String(port) } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^overcast: port ${port} on 127\\.0\\.0\\.1 is already in use \\(EADDRINUSE\\)`));
      assert.equal(r.stderr.split('\n').length, 2);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('an address not on this machine: one line naming --host; exit 1', async () => {
    // 192.0.2.0/24 is TEST-NET-1, never assigned to a local interface
    const r = await overcast(['server', '--host', '192.0.2.1', '--port', '0', '--data-dir', join(dir, 'data-host')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `overcast: address 192.0.2.1 is not on this machine (EADDRNOTAVAIL); choose another with --host or OVERCAST_HOST\n`);
  });
});
