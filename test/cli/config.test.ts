/** The store durability option: --store-sync / OVERCAST_STORE_SYNC. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_OPTIONS, ConfigError, loadConfig } from '../../src/config.js';
import { overcast } from './run.js';

describe('--store-sync', () => {
  it("defaults to 'normal'", () => {
    assert.equal(loadConfig([], {}).storeSync, 'normal');
    const row = CONFIG_OPTIONS.find((o) => o.flag === '--store-sync');
    assert.deepEqual([row?.env, row?.default], ['OVERCAST_STORE_SYNC', 'normal']);
  });

  it('is read from the flag and the environment; the flag wins', () => {
    assert.equal(loadConfig(['--store-sync', 'full'], {}).storeSync, 'full');
    assert.equal(loadConfig(['--store-sync=full'], {}).storeSync, 'full');
    assert.equal(loadConfig([], { OVERCAST_STORE_SYNC: 'full' }).storeSync, 'full');
    assert.equal(loadConfig(['--store-sync', 'normal'], { OVERCAST_STORE_SYNC: 'full' }).storeSync, 'normal');
  });

  it('rejects any other value with a clear message', () => {
    for (const bad of ['FULL', 'off', 'extra', '1']) {
      assert.throws(() => loadConfig(['--store-sync', bad], {}), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.message, `--store-sync must be 'full' or 'normal', got '${bad}'`);
        return true;
      });
    }
    assert.throws(() => loadConfig([], { OVERCAST_STORE_SYNC: 'sometimes' }), /--store-sync must be 'full' or 'normal', got 'sometimes'/);
  });

  it('a bad value stops overcast server with one line and exit 2', async () => {
    const r = await overcast(['server', '--store-sync', 'always']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "overcast: --store-sync must be 'full' or 'normal', got 'always'\n");
  });
});

describe('--credentials', () => {
  it('takes KEY:SECRET, and KEY:SECRET:ACCOUNT for a key of another account', () => {
    const c = loadConfig(['--credentials', 'K1:s/e+c1,K2:sec2:210987654321'], {});
    assert.deepEqual(c.credentials, [
      { accessKeyId: 'K1', secretAccessKey: 's/e+c1' },
      { accessKeyId: 'K2', secretAccessKey: 'sec2', accountId: '210987654321' },
    ]);
  });

  it('refuses an account that is not 12 digits', () => {
    assert.throws(() => loadConfig(['--credentials', 'K2:sec2:1234'], {}), (e: unknown) => e instanceof ConfigError && /12 digits/.test(e.message));
  });
});
