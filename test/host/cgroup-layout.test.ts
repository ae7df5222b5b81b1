/**
 * The cgroup layout is shared by every Overcast process on the host: a reset
 * undoes it only when nothing uses it any more. The decision, from what a reset
 * observes; then the registrations of this process, in a directory of the
 * test's own (holding needs root, as the set-up does).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupLayout, decideLayoutReset, holdCgroupLayout, layoutUsers, observeLayout, releaseCgroupLayout, resetCgroups, type LayoutUser } from '../../src/host/cgroups.js';
import { isRoot } from '../../src/host/exec.js';
import { processStartTime } from '../../src/host/processes.js';

const server = (pid: number): LayoutUser => ({ pid, startTime: '100', what: `container driver of /srv/${pid}/machines` });

describe('when a reset may undo the cgroup layout', () => {
  it('nothing uses it: restored', () => {
    assert.deepEqual(decideLayoutReset({ users: [], populated: [], foreign: [] }), { restore: true, stale: [] });
  });

  it('another Overcast process that registered still runs: kept, and named', () => {
    const d = decideLayoutReset({ users: [{ user: server(4242), alive: true }], populated: [], foreign: [] });
    assert.deepEqual(d, { restore: false, usedBy: ['process 4242 (container driver of /srv/4242/machines)'], stale: [] });
  });

  it('a registered process that is gone is stale: removed, and it keeps nothing', () => {
    const d = decideLayoutReset({ users: [{ user: server(7), alive: false }], populated: [], foreign: [] });
    assert.deepEqual(d, { restore: true, stale: [server(7)] });
  });

  it('a machine runs under /overcast (of any prefix, its server gone or never registered): kept', () => {
    const d = decideLayoutReset({ users: [{ user: server(7), alive: false }], populated: ['overcast/i-0abc'], foreign: [] });
    assert.equal(d.restore, false);
    assert.deepEqual(d.restore === false && d.usedBy, ['cgroup overcast/i-0abc (a running machine)']);
    assert.deepEqual(d.stale, [server(7)], 'the stale registration goes all the same');
  });

  it("someone else's cgroups in the hierarchy it would unmount: kept", () => {
    const d = decideLayoutReset({ users: [], populated: [], foreign: ['hugetlb/docker'] });
    assert.equal(d.restore, false);
  });

  it('one of several users alive is enough to keep it', () => {
    const d = decideLayoutReset({ users: [{ user: server(1), alive: false }, { user: server(2), alive: true }, { user: server(3), alive: false }], populated: [], foreign: [] });
    assert.equal(d.restore, false);
    assert.deepEqual(d.stale.map((u) => u.pid), [1, 3]);
  });
});

const rootSkip = isRoot() ? undefined : 'registering a user of the cgroup layout applies it, which needs root';

describe('registrations of the processes that use the layout', { skip: rootSkip }, () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'overcast-layout-')), 'users');
  after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('one file per process however many drivers hold it, gone with the last release', async () => {
    await holdCgroupLayout('first driver', { usersDir: dir });
    await holdCgroupLayout('second driver', { usersDir: dir });
    assert.deepEqual(layoutUsers(dir), [{ pid: process.pid, startTime: processStartTime(process.pid)!, what: 'first driver' }]);
    assert.deepEqual(observeLayout({ usersDir: dir }).users.map((u) => u.alive), [true]);
    assert.notEqual(cgroupLayout().kind, 'hybrid', 'the layout is one crun accepts');
    await releaseCgroupLayout({ usersDir: dir });
    assert.equal(layoutUsers(dir).length, 1, 'one driver still holds it');
    await releaseCgroupLayout({ usersDir: dir });
    assert.deepEqual(readdirSync(dir), []);
    await releaseCgroupLayout({ usersDir: dir }); // more releases than holds: nothing
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a reset while this process holds the layout keeps it, says why, and drops the registration of a process that is gone', async () => {
    // a process that ran and ended: its pid names nothing now (or another process, started later)
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(gone.stdout);
    writeFileSync(join(dir, String(deadPid)), JSON.stringify({ pid: deadPid, startTime: '1', what: 'a server killed long ago' }));
    await holdCgroupLayout('this test', { usersDir: dir });
    const before = cgroupLayout().kind;
    try {
      const r = await resetCgroups({ usersDir: dir });
      assert.equal(r.restored, false);
      assert.ok(r.usedBy.includes(`process ${process.pid} (this test)`), r.usedBy.join(', '));
      assert.deepEqual(r.left, []);
      assert.deepEqual(readdirSync(dir), [String(process.pid)], 'the dead registration is gone, the live one stays');
      assert.equal(cgroupLayout().kind, before, 'the layout is as it was');
    } finally {
      await releaseCgroupLayout({ usersDir: dir });
    }
  });
});
