/**
 * Slow and many clients cannot hold the server: a request that stalls (headers only, or
 * half a body) has its connection closed after --request-timeout-ms, and at most
 * --max-connections are held at once.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { formBody, send, signedRequest } from '../helpers/sign.js';

/** Resolves with what the server wrote once it closes the connection; rejects if it has not within `boundMs`. */
function closed(socket: Socket, boundMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${boundMs} ms`));
    }, boundMs);
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

describe('request timeout and connection limit', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ requestTimeoutMs: 300, maxConnections: 3 });
  });
  after(() => t.close());

  it('closes a connection that sent its headers and then stalls', async () => {
    const s = await open(t.server.port);
    const done = closed(s, 10_000);
    s.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n');
    await done;
  });

  it('closes a connection that sent half its body and then stalls', async () => {
    const s = await open(t.server.port);
    const done = closed(s, 10_000);
    s.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nAction=Desc');
    const answer = await done;
    // node answers 408 when it can
    if (answer !== '') assert.match(answer, /^HTTP\/1\.1 408/);
  });

  it('holds at most maxConnections connections; the server still answers once they go', async () => {
    const held = await Promise.all([open(t.server.port), open(t.server.port), open(t.server.port)]);
    // give the server a moment to accept all three
    await new Promise((r) => setTimeout(r, 50));
    const extra = await open(t.server.port);
    await closed(extra, 5_000);
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const r = await send(t.url, await signedRequest(t.url, formBody({ Action: 'DescribeRegions' })));
    assert.equal(r.status, 200);
  });

  it('a prompt request is unaffected by the short timeout', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await send(t.url, await signedRequest(t.url, formBody({ Action: 'DescribeRegions' })));
      assert.equal(r.status, 200);
    }
  });
});

describe('--request-timeout-ms and --max-connections', () => {
  it('have generous defaults, and are read from flags and OVERCAST_* variables', () => {
    const d = loadConfig([], {});
    assert.equal(d.requestTimeoutMs, 60_000);
    assert.equal(d.maxConnections, 4096);
    const env = loadConfig([], { OVERCAST_REQUEST_TIMEOUT_MS: '1500', OVERCAST_MAX_CONNECTIONS: '20' });
    assert.deepEqual([env.requestTimeoutMs, env.maxConnections], [1500, 20]);
    const flags = loadConfig(['--request-timeout-ms', '2500', '--max-connections=7'], { OVERCAST_REQUEST_TIMEOUT_MS: '1500' });
    assert.deepEqual([flags.requestTimeoutMs, flags.maxConnections], [2500, 7]);
  });

  it('refuse what is not a whole positive number', () => {
    for (const bad of ['0', '-1', 'abc', '1.5', '1e9x']) {
      assert.throws(() => loadConfig(['--request-timeout-ms', bad], {}), ConfigError, bad);
      assert.throws(() => loadConfig(['--max-connections', bad], {}), ConfigError, bad);
    }
  });
});
