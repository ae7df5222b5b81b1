/**
 * The EC2 instance lifecycle as explicit transition tables (Firecracker
 * style: a closed set of actions, and for every state exactly what each
 * action does there).
 *
 * Two inputs move an instance:
 *  - user actions arriving through the API (`applyAction`), which may be
 *    refused with an EC2 error;
 *  - runtime events reported by the reconciler (`applyEvent`), which are facts
 *    about the VM — an impossible one is a bug and throws.
 *
 * Pure: no I/O, no clock; times are parameters.
 */

export type InstanceStateName = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

export const INSTANCE_STATES: readonly InstanceStateName[] = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
];

/** The `InstanceState.Code` EC2 returns (low byte; the high byte is internal). */
export const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** The `InstanceState` structure for a state name. */
export function instanceState(name: InstanceStateName): { Code: number; Name: InstanceStateName } {
  return { Code: STATE_CODES[name], Name: name };
}

/** User actions (API). `hibernate` is StopInstances with Hibernate=true. */
export type InstanceAction = 'start' | 'stop' | 'hibernate' | 'reboot' | 'terminate';

export const INSTANCE_ACTIONS: readonly InstanceAction[] = ['start', 'stop', 'hibernate', 'reboot', 'terminate'];

/** What the runtime reports back (reconciler). */
export type RuntimeEvent = 'launched' | 'stopped' | 'terminated' | 'launch-failed' | 'crashed' | 'guest-shutdown';

export const RUNTIME_EVENTS: readonly RuntimeEvent[] = ['launched', 'stopped', 'terminated', 'launch-failed', 'crashed', 'guest-shutdown'];

/** The instance attribute InstanceInitiatedShutdownBehavior. */
export type ShutdownBehavior = 'stop' | 'terminate';

export type ActionErrorCode = 'IncorrectInstanceState' | 'UnsupportedOperation';

/**
 * `ok: true` — the call succeeds; `next` is the state to report as
 * CurrentState (equal to the previous state for a no-op, as EC2 does), and
 * `changed` says whether the state actually moved. A `reboot` of a running
 * instance is ok with `changed: false` — the caller still reboots the VM.
 */
export type ActionResult =
  | { ok: true; next: InstanceStateName; changed: boolean }
  | { ok: false; code: ActionErrorCode; message: string };

export interface ApplyActionOptions {
  /** Used in error messages; always pass it (falls back to "unknown"). */
  instanceId?: string;
  /** Default 'ebs'. */
  rootDeviceType?: 'ebs' | 'instance-store';
}

/** A cell of the action table. */
export type ActionRule =
  | { kind: 'to'; next: InstanceStateName }
  /** succeed, nothing changes */
  | { kind: 'noop' }
  /** IncorrectInstanceState */
  | { kind: 'refuse' };

const to = (next: InstanceStateName): ActionRule => ({ kind: 'to', next });
const NOOP: ActionRule = { kind: 'noop' };
const REFUSE: ActionRule = { kind: 'refuse' };

/**
 * state × action. Notes on the less obvious cells:
 *  - start on pending/running: success, CurrentState = PreviousState.
 *  - stop/hibernate on pending: allowed here. (Real EC2 refuses to stop an
 *    instance that has never reached 'running' — "Instance 'i-…' cannot be
 *    stopped as it has never reached the 'running' state." — but accepts a
 *    stop of a pending instance that is being *re*started; we don't track
 *    that distinction.)
 *  - stop/hibernate on stopping/stopped: success no-op.
 *  - reboot only does something on running; everywhere else it is refused.
 *  - terminate works from every live state, stopped included; on
 *    shutting-down/terminated it is a success no-op.
 */
export const ACTION_TABLE: Readonly<Record<InstanceStateName, Readonly<Record<InstanceAction, ActionRule>>>> = {
  pending: { start: NOOP, stop: to('stopping'), hibernate: to('stopping'), reboot: REFUSE, terminate: to('shutting-down') },
  running: { start: NOOP, stop: to('stopping'), hibernate: to('stopping'), reboot: NOOP, terminate: to('shutting-down') },
  stopping: { start: REFUSE, stop: NOOP, hibernate: NOOP, reboot: REFUSE, terminate: to('shutting-down') },
  stopped: { start: to('pending'), stop: NOOP, hibernate: NOOP, reboot: REFUSE, terminate: to('shutting-down') },
  'shutting-down': { start: REFUSE, stop: REFUSE, hibernate: REFUSE, reboot: REFUSE, terminate: NOOP },
  terminated: { start: REFUSE, stop: REFUSE, hibernate: REFUSE, reboot: REFUSE, terminate: NOOP },
};

/** The IncorrectInstanceState message EC2 gives for a refused action. */
export function incorrectStateMessage(action: InstanceAction, instanceId: string): string {
  switch (action) {
    case 'start':
      return `The instance '${instanceId}' is not in a state from which it can be started.`;
    case 'stop':
    case 'hibernate': // same API call (StopInstances), same message
      return `This instance '${instanceId}' is not in a state from which it can be stopped.`;
    case 'reboot':
      return `The instance '${instanceId}' is not in a state from which it can be rebooted.`;
    case 'terminate':
      return `The instance '${instanceId}' is not in a state from which it can be terminated.`;
  }
}

/** EC2's answer to StopInstances on an instance-store-backed instance (UnsupportedOperation). */
export function notEbsBackedMessage(instanceId: string): string {
  return `The instance '${instanceId}' does not have an 'ebs' root device type and cannot be stopped.`;
}

/**
 * What a user action does to an instance in state `current`.
 *
 * Stopping or hibernating an instance-store-backed instance fails with
 * UnsupportedOperation, as on AWS (not IncorrectInstanceState). A state that
 * refuses the action anyway (shutting-down, terminated) reports
 * IncorrectInstanceState first.
 */
export function applyAction(current: InstanceStateName, action: InstanceAction, opts: ApplyActionOptions = {}): ActionResult {
  const id = opts.instanceId ?? 'unknown';
  const rule = ACTION_TABLE[current][action];
  if (rule.kind === 'refuse') {
    return { ok: false, code: 'IncorrectInstanceState', message: incorrectStateMessage(action, id) };
  }
  if ((action === 'stop' || action === 'hibernate') && opts.rootDeviceType === 'instance-store') {
    return { ok: false, code: 'UnsupportedOperation', message: notEbsBackedMessage(id) };
  }
  return rule.kind === 'to' ? { ok: true, next: rule.next, changed: true } : { ok: true, next: current, changed: false };
}

/**
 * state × runtime event → next state; a missing cell is impossible.
 *  - launched:      pending → running
 *  - stopped:       stopping → stopped
 *  - terminated:    shutting-down → terminated
 *  - launch-failed: pending → terminated (the VM could not be created on
 *                   first launch; StateReason Server.InternalError). A
 *                   reconciler restarting a *stopped* instance should report
 *                   `crashed` instead, or the instance would be destroyed.
 *  - crashed:       the VM process exited without being asked to. Firecracker
 *                   exits when the guest shuts down or reboots itself, so this
 *                   is treated as an instance-initiated shutdown with the
 *                   default InstanceInitiatedShutdownBehavior=stop:
 *                   pending/running/stopping → stopped; while shutting-down it
 *                   simply completes the termination.
 *  - guest-shutdown: the guest powered itself off (`shutdown -h now`) and the
 *                   reconciler noticed (driver event or a look). What follows
 *                   depends on InstanceInitiatedShutdownBehavior: this table
 *                   holds the `stop` column — pending/running → stopping (the
 *                   reconciler then releases what a stop releases and reports
 *                   `stopped`); GUEST_SHUTDOWN_TERMINATE holds the cells where
 *                   `terminate` differs — pending/running → shutting-down.
 *                   A guest going down while stopping or shutting-down is
 *                   the shutdown the user asked for, not this event
 *                   (impossible there). StateReason:
 *                   Client.InstanceInitiatedShutdown.
 */
export const EVENT_TABLE: Readonly<Record<InstanceStateName, Readonly<Partial<Record<RuntimeEvent, InstanceStateName>>>>> = {
  pending: { launched: 'running', 'launch-failed': 'terminated', crashed: 'stopped', 'guest-shutdown': 'stopping' },
  running: { crashed: 'stopped', 'guest-shutdown': 'stopping' },
  stopping: { stopped: 'stopped', crashed: 'stopped' },
  stopped: {},
  'shutting-down': { terminated: 'terminated', crashed: 'terminated' },
  terminated: {},
};

/** Where `guest-shutdown` leads with InstanceInitiatedShutdownBehavior=terminate, when that differs from EVENT_TABLE. */
export const GUEST_SHUTDOWN_TERMINATE: Readonly<Partial<Record<InstanceStateName, InstanceStateName>>> = {
  pending: 'shutting-down',
  running: 'shutting-down',
};

export interface ApplyEventOptions {
  /** for guest-shutdown (default 'stop') */
  shutdownBehavior?: ShutdownBehavior;
}

export class ImpossibleTransitionError extends Error {
  constructor(
    readonly state: InstanceStateName,
    readonly event: RuntimeEvent,
  ) {
    super(`runtime event '${event}' is impossible in state '${state}'`);
    this.name = 'ImpossibleTransitionError';
  }
}

export function canApplyEvent(current: InstanceStateName, event: RuntimeEvent): boolean {
  return EVENT_TABLE[current][event] !== undefined;
}

/** Next state after a runtime event; throws ImpossibleTransitionError if the event cannot happen in `current`. */
export function applyEvent(current: InstanceStateName, event: RuntimeEvent, opts: ApplyEventOptions = {}): InstanceStateName {
  const next = EVENT_TABLE[current][event];
  if (next === undefined) throw new ImpossibleTransitionError(current, event);
  if (event === 'guest-shutdown' && opts.shutdownBehavior === 'terminate') return GUEST_SHUTDOWN_TERMINATE[current] ?? next;
  return next;
}

/** What the instance should be after a guest-shutdown in `current` (the record's `desired`). */
export function desiredAfterGuestShutdown(current: InstanceStateName, behavior: ShutdownBehavior): 'stopped' | 'terminated' {
  const next = applyEvent(current, 'guest-shutdown', { shutdownBehavior: behavior });
  return next === 'shutting-down' || next === 'terminated' ? 'terminated' : 'stopped';
}

/**
 * Whether the instance accrues compute charges: while running, and while
 * stopping for hibernation (EC2 bills the hibernate transition, not a plain
 * stop).
 */
export function isBilled(state: InstanceStateName, hibernating: boolean): boolean {
  return state === 'running' || (state === 'stopping' && hibernating);
}

/** Terminated instances stay visible in DescribeInstances for about an hour. */
export const TERMINATED_VISIBLE_MS = 3600_000;

/**
 * Whether DescribeInstances still lists the instance. Non-terminated
 * instances always are; a terminated one while strictly less than
 * TERMINATED_VISIBLE_MS has passed since it terminated (at exactly one hour
 * it is gone). A terminated instance with no recorded time stays visible
 * (hiding data on missing information is worse than showing it).
 */
export function isStillVisible(state: InstanceStateName, terminatedAtMs: number | undefined, nowMs: number): boolean {
  if (state !== 'terminated' || terminatedAtMs === undefined) return true;
  return nowMs - terminatedAtMs < TERMINATED_VISIBLE_MS;
}

/** "2024-01-01 12:00:00 GMT" */
function ec2ReasonTime(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ') + ' GMT';
}

/**
 * `StateTransitionReason` after a user action: "User initiated (YYYY-MM-DD
 * HH:MM:SS GMT)" for stop, hibernate and terminate; "" for start (a running
 * instance shows an empty reason) and reboot (no state change; the empty
 * string means "leave as is / nothing to show").
 */
export function transitionReason(action: InstanceAction, at: Date): string {
  switch (action) {
    case 'stop':
    case 'hibernate':
    case 'terminate':
      return `User initiated (${ec2ReasonTime(at)})`;
    case 'start':
    case 'reboot':
      return '';
  }
}

export interface StateReason {
  Code: string;
  Message: string;
}

const reason = (Code: string, text: string): StateReason => ({ Code, Message: `${Code}: ${text}` });

/**
 * The `StateReason` EC2 shows after an action or event, or undefined for none:
 *  - stop, terminate → Client.UserInitiatedShutdown: User initiated shutdown
 *  - hibernate       → Client.UserInitiatedHibernate: User initiated hibernate
 *  - start           → { Code: 'pending', Message: 'pending' } (what EC2 shows while pending)
 *  - reboot          → undefined (no state change)
 *  - launched        → undefined (a running instance has no StateReason)
 *  - stopped, terminated (events) → undefined: these complete a transition
 *    whose reason was set by the action that began it — see nextStateReason
 *  - launch-failed   → Server.InternalError: Internal error on launch
 *  - crashed, guest-shutdown → Client.InstanceInitiatedShutdown: Instance initiated shutdown
 */
export function stateReason(cause: InstanceAction | RuntimeEvent): StateReason | undefined {
  switch (cause) {
    case 'stop':
    case 'terminate':
      return reason('Client.UserInitiatedShutdown', 'User initiated shutdown');
    case 'hibernate':
      return reason('Client.UserInitiatedHibernate', 'User initiated hibernate');
    case 'start':
      return { Code: 'pending', Message: 'pending' };
    case 'launch-failed':
      return reason('Server.InternalError', 'Internal error on launch');
    case 'crashed':
    case 'guest-shutdown':
      return reason('Client.InstanceInitiatedShutdown', 'Instance initiated shutdown');
    case 'reboot':
    case 'launched':
    case 'stopped':
    case 'terminated':
      return undefined;
  }
}

/**
 * The StateReason to store after `cause` was applied to an instance whose
 * reason was `previous`. A no-op action (`changed: false` from applyAction)
 * keeps it, as do reboot and the events that complete a transition (stopped,
 * terminated); `launched` clears it; everything else sets `stateReason(cause)`.
 */
export function nextStateReason(
  previous: StateReason | undefined,
  cause: InstanceAction | RuntimeEvent,
  changed = true,
): StateReason | undefined {
  if (!changed) return previous;
  switch (cause) {
    case 'stopped':
    case 'terminated':
    case 'reboot':
      return previous;
    default:
      return stateReason(cause);
  }
}
