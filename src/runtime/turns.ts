/**
 * Time slices of the event loop for the work the server does beside answering
 * requests: queued writes (api/write-queue.ts), reconcile steps and the
 * reconcile loop's commits (reconcile/loop.ts). Node runs every immediate
 * queued before its check phase, and every microtask they leave behind,
 * without polling for I/O in between: a thousand launches settling at once
 * would hold the loop for tens of milliseconds, and a DescribeRegions that
 * arrived meanwhile would wait for all of it.
 *
 * Background work asks for a slice before each unit (`slice()`). Waiters
 * queue in one FIFO; once per turn a pump resumes them one after another
 * until the turn's slice (SLICE_MS) is spent, then leaves the rest for the
 * next turn, after the poll phase has served what arrived. The first waiter
 * of a turn always runs, so nothing starves. `sliceUsed()` lets synchronous
 * batches (a commit of many writes) stop early.
 */

/** Background work one turn of the event loop may do before it polls for I/O again. */
export const SLICE_MS = 1;

let sliceStart: number | undefined;
const waiting: (() => void)[] = [];
let pumpScheduled = false;

function startSlice(now: number): void {
  sliceStart = now;
  setImmediate(() => (sliceStart = undefined));
}

/** True when this turn's slice is spent (the first call of a turn starts it). */
export function sliceUsed(): boolean {
  const now = performance.now();
  if (sliceStart === undefined) {
    startSlice(now);
    return false;
  }
  return now - sliceStart >= SLICE_MS;
}

/** True when a unit must wait for `slice()`: others wait before it, or this turn's slice is spent. */
export function mustWait(): boolean {
  return waiting.length > 0 || sliceUsed();
}

/** Resolves when the caller may run its next unit: at once when nobody waits and the slice has room. */
export function slice(): Promise<void> {
  if (!mustWait()) return Promise.resolve();
  return new Promise((resolve) => {
    waiting.push(resolve);
    schedulePump();
  });
}

/**
 * Resumes `fns` in slices: each is a callback that starts a unit of work (it
 * resolves a promise a chain of work awaits). They go behind the waiters
 * already queued; when none waits and the turn's slice has room they start at
 * once, one after another while the slice lasts, so that a batch settled
 * together (a reconcile commit of many writes) does not resume every waiter in
 * one stretch.
 */
export function resumeInSlices(fns: readonly (() => void)[]): void {
  if (fns.length === 0) return;
  const now = waiting.length === 0 && !sliceUsed();
  waiting.push(...fns);
  if (now) resumeWhileRoom();
  else schedulePump();
}

/** How many units wait for a slice (for tests and diagnostics). */
export function waitingUnits(): number {
  return waiting.length;
}

function schedulePump(): void {
  if (pumpScheduled) return;
  pumpScheduled = true;
  setImmediate(pump);
}

/**
 * Resumes waiters in order. A resumed waiter runs in the microtasks after its
 * resolve; the check for the next one waits until the microtasks have drained,
 * so it sees the time the whole unit took up to its first wait on I/O — its
 * continuations included (a write's response is serialized and written in
 * promise callbacks after its handler returns), not only its first step.
 */
function pump(): void {
  pumpScheduled = false;
  // the pump's turn: its slice starts now, whatever ran before in this check phase
  if (sliceStart === undefined) startSlice(performance.now());
  resumeWhileRoom();
}

/** Resumes the next waiter, and the one after it once that unit has run, while the slice has room. */
function resumeWhileRoom(): void {
  const next = waiting.shift();
  if (next === undefined) return;
  next();
  if (waiting.length === 0) return;
  afterMicrotasks(() => (sliceUsed() ? schedulePump() : resumeWhileRoom()));
}

/**
 * Runs `fn` once the microtask queue has drained. A tick queued from a microtask
 * runs only after the microtasks queued meanwhile, their own followers included
 * (node runs ticks between drains of the microtask queue, not inside one).
 */
function afterMicrotasks(fn: () => void): void {
  void Promise.resolve().then(() => process.nextTick(fn));
}
