import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHypervisor, driverNames } from '../../src/compute/drivers/index.js';
import { MockHypervisor } from '../../src/compute/drivers/mock.js';
import { HypervisorError } from '../../src/compute/hypervisor.js';
import { loadConfig } from '../../src/config.js';
import { runHypervisorConformance, testSpec } from './hypervisor.conformance.js';

const guestDisks = async (hv: unknown, id: string) => (hv as MockHypervisor).disksOf(id).map((d) => d.deviceName);
const guestResolvConf = async (hv: unknown, id: string) => (hv as MockHypervisor).specOf(id)?.resolvConf ?? '';
runHypervisorConformance('mock', () => new MockHypervisor(), { guestDisks, guestResolvConf });
runHypervisorConformance('mock with a delay', () => new MockHypervisor({ delayMs: 5 }), { guestDisks, guestResolvConf });

describe('mock driver specifics', () => {
  it('takes delayMs per transition and shows the old state meanwhile', async (t) => {
    // the timers are the test's: the delay is counted in ticks, not measured
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const settle = () => new Promise((r) => setImmediate(r));
    const hv = new MockHypervisor({ delayMs: 40 });
    const spec = testSpec('i-0000000000000000a');
    let launched = false;
    const launching = hv.launch(spec).then(() => (launched = true));
    await settle();
    t.mock.timers.tick(39);
    await settle();
    assert.equal(launched, false, 'not launched 1 ms before the delay');
    assert.equal(await hv.describe(spec.instanceId), undefined, 'no machine meanwhile');
    t.mock.timers.tick(1);
    await settle();
    assert.equal(launched, true, 'launched once the delay passed');
    await launching;
    const stopping = hv.stop(spec.instanceId);
    await settle();
    t.mock.timers.tick(39);
    await settle();
    assert.equal(await hv.describe(spec.instanceId), 'running', 'the old state while stopping');
    t.mock.timers.tick(1);
    await stopping;
    assert.equal(await hv.describe(spec.instanceId), 'stopped');
  });

  it('failNext makes one operation fail and leaves the state alone', async () => {
    const hv = new MockHypervisor();
    const spec = testSpec('i-0000000000000000b');
    hv.failNext('launch');
    await assert.rejects(hv.launch(spec), (e: unknown) => e instanceof HypervisorError && e.code === 'failed');
    assert.equal(await hv.describe(spec.instanceId), undefined);
    await hv.launch(spec);
    hv.failNext('stop', spec.instanceId, new Error('disk on fire'));
    await assert.rejects(hv.stop(spec.instanceId), /disk on fire/);
    assert.equal(await hv.describe(spec.instanceId), 'running');
    await hv.stop(spec.instanceId);
    assert.equal(await hv.describe(spec.instanceId), 'stopped');
  });

  it('a failure hook sees every operation', async () => {
    const seen: string[] = [];
    const hv = new MockHypervisor({
      failureHook: (op, id) => {
        seen.push(op);
        return op === 'reboot' ? new Error(`no reboot for ${id}`) : undefined;
      },
    });
    const spec = testSpec('i-0000000000000000c');
    await hv.launch(spec);
    await assert.rejects(hv.reboot(spec.instanceId), /no reboot/);
    await hv.terminate(spec.instanceId);
    assert.deepEqual(seen, ['launch', 'reboot', 'terminate']);
  });

  it('console output shows boot lines with the hostname, user data and a reboot', async () => {
    const hv = new MockHypervisor();
    const spec = testSpec('i-0000000000000000d');
    await hv.launch(spec);
    await hv.reboot(spec.instanceId);
    const out = await hv.consoleOutput(spec.instanceId);
    assert.match(out, new RegExp(`hostname ${spec.hostname.replace(/\./g, '\\.')}`));
    assert.match(out, /running user data \(\d+ bytes\)/);
    assert.match(out, /Restarting system/);
    assert.match(out, /boot #2/);
  });

  it('a closed driver refuses work', async () => {
    const hv = new MockHypervisor();
    await hv.close();
    await assert.rejects(hv.list(), HypervisorError);
  });

  it('is registered as "mock" and picks up mockDelayMs', () => {
    assert.ok(driverNames().includes('mock'));
    const hv = createHypervisor({ ...loadConfig([], {}), driver: 'mock', mockDelayMs: 7 });
    assert.ok(hv instanceof MockHypervisor);
    assert.equal(hv.delayMs, 7);
    assert.throws(() => createHypervisor({ ...loadConfig([], {}), driver: 'hyper-v' }), /unknown hypervisor driver 'hyper-v'/);
  });
});
