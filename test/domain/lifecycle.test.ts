import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  ACTION_TABLE,
  EVENT_TABLE,
  INSTANCE_ACTIONS,
  INSTANCE_STATES,
  RUNTIME_EVENTS,
  STATE_CODES,
  TERMINATED_VISIBLE_MS,
  ImpossibleTransitionError,
  applyAction,
  applyEvent,
  canApplyEvent,
  desiredAfterGuestShutdown,
  instanceState,
  isBilled,
  isStillVisible,
  nextStateReason,
  stateReason,
  transitionReason,
  type ActionResult,
  type InstanceAction,
  type InstanceStateName,
  type RuntimeEvent,
  type ShutdownBehavior,
} from '../../src/domain/lifecycle.js';

const ID = 'i-0123456789abcdef0';

// Independent statement of the expected table. 'noop' = success, state unchanged;
// 'refuse' = IncorrectInstanceState; a state name = success, moves there.
type Expect = InstanceStateName | 'noop' | 'refuse';
const EXPECTED: Record<InstanceStateName, Record<InstanceAction, Expect>> = {
  pending: { start: 'noop', stop: 'stopping', hibernate: 'stopping', reboot: 'refuse', terminate: 'shutting-down' },
  running: { start: 'noop', stop: 'stopping', hibernate: 'stopping', reboot: 'noop', terminate: 'shutting-down' },
  stopping: { start: 'refuse', stop: 'noop', hibernate: 'noop', reboot: 'refuse', terminate: 'shutting-down' },
  stopped: { start: 'pending', stop: 'noop', hibernate: 'noop', reboot: 'refuse', terminate: 'shutting-down' },
  'shutting-down': { start: 'refuse', stop: 'refuse', hibernate: 'refuse', reboot: 'refuse', terminate: 'noop' },
  terminated: { start: 'refuse', stop: 'refuse', hibernate: 'refuse', reboot: 'refuse', terminate: 'noop' },
};

const REFUSAL_MESSAGES: Record<InstanceAction, string> = {
  start: `The instance '${ID}' is not in a state from which it can be started.`,
  stop: `This instance '${ID}' is not in a state from which it can be stopped.`,
  hibernate: `This instance '${ID}' is not in a state from which it can be stopped.`,
  reboot: `The instance '${ID}' is not in a state from which it can be rebooted.`,
  terminate: '(never refused)',
};

function expectedResult(state: InstanceStateName, action: InstanceAction): ActionResult {
  const e = EXPECTED[state][action];
  if (e === 'refuse') return { ok: false, code: 'IncorrectInstanceState', message: REFUSAL_MESSAGES[action] };
  if (e === 'noop') return { ok: true, next: state, changed: false };
  return { ok: true, next: e, changed: true };
}

describe('state names and codes', () => {
  it('lists every state exactly once', () => {
    assert.deepEqual([...INSTANCE_STATES].sort(), Object.keys(STATE_CODES).sort());
    assert.equal(new Set(INSTANCE_STATES).size, 6);
  });

  it('uses the EC2 codes', () => {
    assert.deepEqual(STATE_CODES, { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 });
    assert.deepEqual(instanceState('stopped'), { Code: 80, Name: 'stopped' });
    assert.deepEqual(instanceState('shutting-down'), { Code: 32, Name: 'shutting-down' });
  });

  it('lists every action and event exactly once', () => {
    assert.deepEqual([...INSTANCE_ACTIONS].sort(), ['hibernate', 'reboot', 'start', 'stop', 'terminate']);
    assert.deepEqual([...RUNTIME_EVENTS].sort(), ['crashed', 'guest-shutdown', 'launch-failed', 'launched', 'stopped', 'terminated']);
  });
});

describe('applyAction: every (state, action) pair, EBS-backed', () => {
  for (const state of INSTANCE_STATES) {
    for (const action of INSTANCE_ACTIONS) {
      const expected = expectedResult(state, action);
      const label = expected.ok ? (expected.changed ? `→ ${expected.next}` : 'no-op') : 'IncorrectInstanceState';
      it(`${state} + ${action} ${label}`, () => {
        assert.deepEqual(applyAction(state, action, { instanceId: ID }), expected);
        assert.deepEqual(applyAction(state, action, { instanceId: ID, rootDeviceType: 'ebs' }), expected);
      });
    }
  }

  it('the exported table agrees with the expectations', () => {
    for (const state of INSTANCE_STATES) {
      for (const action of INSTANCE_ACTIONS) {
        const rule = ACTION_TABLE[state][action];
        const e = EXPECTED[state][action];
        if (e === 'noop' || e === 'refuse') assert.equal(rule.kind, e, `${state}/${action}`);
        else assert.deepEqual(rule, { kind: 'to', next: e }, `${state}/${action}`);
      }
    }
  });

  it('terminate is never refused', () => {
    for (const state of INSTANCE_STATES) assert.equal(applyAction(state, 'terminate').ok, true);
  });

  it('falls back to a placeholder id in messages', () => {
    const r = applyAction('terminated', 'start');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.message, "The instance 'unknown' is not in a state from which it can be started.");
  });
});

describe('applyAction: instance-store root', () => {
  const opts = { instanceId: ID, rootDeviceType: 'instance-store' as const };
  const unsupported: ActionResult = {
    ok: false,
    code: 'UnsupportedOperation',
    message: `The instance '${ID}' does not have an 'ebs' root device type and cannot be stopped.`,
  };

  for (const state of INSTANCE_STATES) {
    for (const action of INSTANCE_ACTIONS) {
      const isStop = action === 'stop' || action === 'hibernate';
      const refusedAnyway = EXPECTED[state][action] === 'refuse';
      const expected = isStop && !refusedAnyway ? unsupported : expectedResult(state, action);
      it(`${state} + ${action} → ${expected.ok ? 'as EBS' : expected.code}`, () => {
        assert.deepEqual(applyAction(state, action, opts), expected);
      });
    }
  }
});

// Independent statement of the event table: undefined = impossible (throws).
const EXPECTED_EVENTS: Record<InstanceStateName, Partial<Record<RuntimeEvent, InstanceStateName>>> = {
  pending: { launched: 'running', 'launch-failed': 'terminated', crashed: 'stopped', 'guest-shutdown': 'stopping' },
  running: { crashed: 'stopped', 'guest-shutdown': 'stopping' },
  stopping: { stopped: 'stopped', crashed: 'stopped' },
  stopped: {},
  'shutting-down': { terminated: 'terminated', crashed: 'terminated' },
  terminated: {},
};

describe('applyEvent: every (state, event) pair', () => {
  for (const state of INSTANCE_STATES) {
    for (const event of RUNTIME_EVENTS) {
      const next = EXPECTED_EVENTS[state][event];
      it(`${state} + ${event} → ${next ?? 'throws'}`, () => {
        assert.equal(canApplyEvent(state, event), next !== undefined);
        assert.equal(EVENT_TABLE[state][event], next);
        if (next === undefined) {
          assert.throws(
            () => applyEvent(state, event),
            (e: unknown) => e instanceof ImpossibleTransitionError && e.state === state && e.event === event,
          );
        } else {
          assert.equal(applyEvent(state, event), next);
        }
      });
    }
  }

  it('nothing leaves terminated', () => {
    for (const event of RUNTIME_EVENTS) assert.equal(canApplyEvent('terminated', event), false);
    for (const action of INSTANCE_ACTIONS) {
      const r = applyAction('terminated', action);
      assert.ok(!r.ok || r.next === 'terminated');
    }
  });
});

describe('full paths', () => {
  it('launch → run → stop → start → terminate', () => {
    const step = (s: InstanceStateName, a: InstanceAction): InstanceStateName => {
      const r = applyAction(s, a, { instanceId: ID });
      assert.ok(r.ok, `${s}/${a}`);
      return r.next;
    };
    let s: InstanceStateName = 'pending';
    s = applyEvent(s, 'launched');
    assert.equal(s, 'running');
    s = step(s, 'stop');
    assert.equal(s, 'stopping');
    s = applyEvent(s, 'stopped');
    assert.equal(s, 'stopped');
    s = step(s, 'start');
    assert.equal(s, 'pending');
    s = applyEvent(s, 'launched');
    s = step(s, 'terminate');
    assert.equal(s, 'shutting-down');
    s = applyEvent(s, 'terminated');
    assert.equal(s, 'terminated');
  });

  it('every reachable state is reachable from pending', () => {
    const seen = new Set<InstanceStateName>(['pending']);
    const queue: InstanceStateName[] = ['pending'];
    while (queue.length) {
      const s = queue.shift()!;
      const nexts = [
        ...INSTANCE_ACTIONS.map((a) => applyAction(s, a)).flatMap((r) => (r.ok ? [r.next] : [])),
        ...RUNTIME_EVENTS.filter((e) => canApplyEvent(s, e)).map((e) => applyEvent(s, e)),
      ];
      for (const n of nexts) if (!seen.has(n)) (seen.add(n), queue.push(n));
    }
    assert.deepEqual([...seen].sort(), [...INSTANCE_STATES].sort());
  });
});

describe('isBilled', () => {
  const billed: Record<InstanceStateName, [plain: boolean, hibernating: boolean]> = {
    pending: [false, false],
    running: [true, true],
    stopping: [false, true],
    stopped: [false, false],
    'shutting-down': [false, false],
    terminated: [false, false],
  };
  for (const state of INSTANCE_STATES) {
    it(state, () => {
      assert.equal(isBilled(state, false), billed[state][0]);
      assert.equal(isBilled(state, true), billed[state][1]);
    });
  }
});

describe('isStillVisible', () => {
  const t0 = Date.UTC(2024, 0, 1, 12, 0, 0);

  it('is one hour', () => assert.equal(TERMINATED_VISIBLE_MS, 60 * 60 * 1000));

  it('non-terminated instances are always visible', () => {
    for (const s of INSTANCE_STATES.filter((x) => x !== 'terminated')) {
      assert.equal(isStillVisible(s, undefined, t0), true);
      assert.equal(isStillVisible(s, t0, t0 + 10 * TERMINATED_VISIBLE_MS), true);
    }
  });

  it('terminated: visible strictly less than an hour', () => {
    assert.equal(isStillVisible('terminated', t0, t0), true);
    assert.equal(isStillVisible('terminated', t0, t0 + 1), true);
    assert.equal(isStillVisible('terminated', t0, t0 + TERMINATED_VISIBLE_MS - 1), true);
    assert.equal(isStillVisible('terminated', t0, t0 + TERMINATED_VISIBLE_MS), false);
    assert.equal(isStillVisible('terminated', t0, t0 + TERMINATED_VISIBLE_MS + 1), false);
  });

  it('terminated without a time stays visible; clock skew backwards stays visible', () => {
    assert.equal(isStillVisible('terminated', undefined, t0), true);
    assert.equal(isStillVisible('terminated', t0, t0 - 5000), true);
  });
});

describe('transitionReason', () => {
  const at = new Date(Date.UTC(2024, 0, 1, 12, 0, 0, 789));

  it('user-initiated state changes carry a GMT timestamp', () => {
    for (const a of ['stop', 'hibernate', 'terminate'] as const) {
      assert.equal(transitionReason(a, at), 'User initiated (2024-01-01 12:00:00 GMT)');
    }
    assert.equal(transitionReason('stop', new Date(Date.UTC(1999, 11, 31, 23, 59, 59))), 'User initiated (1999-12-31 23:59:59 GMT)');
  });

  it('start and reboot leave it empty', () => {
    assert.equal(transitionReason('start', at), '');
    assert.equal(transitionReason('reboot', at), '');
  });
});

describe('stateReason', () => {
  const expected: Record<InstanceAction | RuntimeEvent, { Code: string; Message: string } | undefined> = {
    stop: { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' },
    terminate: { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' },
    hibernate: { Code: 'Client.UserInitiatedHibernate', Message: 'Client.UserInitiatedHibernate: User initiated hibernate' },
    start: { Code: 'pending', Message: 'pending' },
    reboot: undefined,
    launched: undefined,
    stopped: undefined,
    terminated: undefined,
    'launch-failed': { Code: 'Server.InternalError', Message: 'Server.InternalError: Internal error on launch' },
    crashed: { Code: 'Client.InstanceInitiatedShutdown', Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' },
    'guest-shutdown': { Code: 'Client.InstanceInitiatedShutdown', Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' },
  };
  for (const cause of [...INSTANCE_ACTIONS, ...RUNTIME_EVENTS]) {
    it(cause, () => assert.deepEqual(stateReason(cause), expected[cause]));
  }

  it('nextStateReason keeps the reason across completing events and no-ops', () => {
    const hib = stateReason('hibernate');
    assert.deepEqual(nextStateReason(undefined, 'hibernate'), hib);
    assert.deepEqual(nextStateReason(hib, 'stopped'), hib);
    assert.deepEqual(nextStateReason(hib, 'stop', false), hib); // stop of a stopped instance: no-op
    assert.deepEqual(nextStateReason(hib, 'start'), { Code: 'pending', Message: 'pending' });
    assert.equal(nextStateReason({ Code: 'pending', Message: 'pending' }, 'launched'), undefined);
    const term = nextStateReason(undefined, 'terminate');
    assert.deepEqual(nextStateReason(term, 'terminated'), term);
    assert.deepEqual(nextStateReason(term, 'reboot'), term);
    assert.deepEqual(nextStateReason(undefined, 'launch-failed'), stateReason('launch-failed'));
  });
});

describe('guest-shutdown: InstanceInitiatedShutdownBehavior decides', () => {
  const cases: [InstanceStateName, ShutdownBehavior, InstanceStateName | undefined][] = [
    ['pending', 'stop', 'stopping'],
    ['pending', 'terminate', 'shutting-down'],
    ['running', 'stop', 'stopping'],
    ['running', 'terminate', 'shutting-down'],
    ['stopping', 'stop', undefined],
    ['stopping', 'terminate', undefined],
    ['stopped', 'stop', undefined],
    ['stopped', 'terminate', undefined],
    ['shutting-down', 'stop', undefined],
    ['shutting-down', 'terminate', undefined],
    ['terminated', 'stop', undefined],
    ['terminated', 'terminate', undefined],
  ];
  for (const [state, behavior, next] of cases) {
    it(`${state} with ${behavior} → ${next ?? 'throws'}`, () => {
      if (next === undefined) {
        assert.throws(() => applyEvent(state, 'guest-shutdown', { shutdownBehavior: behavior }), ImpossibleTransitionError);
        assert.throws(() => desiredAfterGuestShutdown(state, behavior), ImpossibleTransitionError);
      } else {
        assert.equal(applyEvent(state, 'guest-shutdown', { shutdownBehavior: behavior }), next);
        assert.equal(desiredAfterGuestShutdown(state, behavior), behavior === 'stop' ? 'stopped' : 'terminated');
      }
    });
  }

  it("defaults to 'stop', and the other events ignore the behaviour", () => {
    assert.equal(applyEvent('running', 'guest-shutdown'), 'stopping');
    assert.equal(applyEvent('running', 'crashed', { shutdownBehavior: 'terminate' }), 'stopped');
    assert.equal(applyEvent('pending', 'launched', { shutdownBehavior: 'terminate' }), 'running');
  });

  it('a stop behaviour then completes like a user stop, keeping the instance-initiated reason', () => {
    let s: InstanceStateName = applyEvent('running', 'guest-shutdown');
    const why = nextStateReason(undefined, 'guest-shutdown');
    assert.equal(why?.Code, 'Client.InstanceInitiatedShutdown');
    s = applyEvent(s, 'stopped');
    assert.equal(s, 'stopped');
    assert.deepEqual(nextStateReason(why, 'stopped'), why);
    let t: InstanceStateName = applyEvent('running', 'guest-shutdown', { shutdownBehavior: 'terminate' });
    t = applyEvent(t, 'terminated');
    assert.equal(t, 'terminated');
  });
});
