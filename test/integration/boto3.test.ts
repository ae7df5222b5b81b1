/** A scripted session with boto3 (Debian `python3-boto3`) against Overcast. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { clientEnv, PYTHON, run } from './cli.js';

const script = fileURLToPath(new URL('./boto3_session.py', import.meta.url));
const haveBoto3 = existsSync('/usr/lib/python3/dist-packages/boto3');

describe('boto3 session', { skip: haveBoto3 ? false : 'Debian python3-boto3 is not installed (.ci/run installs it)' }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('runs the scripted session end to end', async () => {
    const r = await run(PYTHON, [script, t.url], clientEnv('ap-northeast-2'), 120_000);
    assert.equal(r.code, 0, `boto3 session failed:\n${r.stdout}\n${r.stderr}`);
    const m = /boto3 session OK: (\d+) checks/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(Number(m[1]) >= 15);
  });
});
