/** boto3's STS and SSM clients (Debian `python3-boto3`) against Overcast. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { clientEnv, PYTHON, run } from './cli.js';

const script = fileURLToPath(new URL('./boto3_sts_ssm.py', import.meta.url));
const haveBoto3 = existsSync('/usr/lib/python3/dist-packages/boto3');

describe('boto3 sts and ssm', { skip: haveBoto3 ? false : 'Debian python3-boto3 is not installed (.ci/run installs it)' }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('runs the scripted session end to end', async () => {
    const r = await run(PYTHON, [script, t.url], clientEnv('eu-central-1'), 120_000);
    assert.equal(r.code, 0, `boto3 sts/ssm session failed:\n${r.stdout}\n${r.stderr}`);
    const m = /boto3 sts\/ssm OK: (\d+) checks/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m[1]), 11);
  });
});
