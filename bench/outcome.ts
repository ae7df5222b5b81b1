/** What one bench case came to, and what the whole run comes to: the lines to print and the exit code. */
export interface Outcome {
  name: string;
  ratio: number;
  /** 0: a reference, no target */
  target: number;
  /** the ratio must stay at or below the target (a latency ratio) instead of reaching it */
  atMost?: boolean;
  /** requests that failed (errors, timeouts, non-2xx) over all of the case's runs */
  errors: number;
}

/** Why a case fails the run, or undefined when it passes: a ratio below its target, or any failed request. */
export function failure(o: Outcome): string | undefined {
  if (o.target > 0 && o.atMost && !(o.ratio <= o.target)) return `ratio ${o.ratio.toFixed(2)} > target ${o.target}`;
  if (o.target > 0 && !o.atMost && !(o.ratio >= o.target)) return `ratio ${o.ratio.toFixed(2)} < target ${o.target}`;
  if (o.errors > 0) return `${o.errors} failed requests`;
  return undefined;
}

/** The closing lines of a run and its exit code: 1 when any case failed, naming each. */
export function verdict(outcomes: readonly Outcome[], compare: boolean): { text: string; exitCode: number } {
  const failed = outcomes.flatMap((o) => {
    const why = failure(o);
    return why === undefined ? [] : [`  ${o.name}: ${why}`];
  });
  if (failed.length === 0) return { text: compare ? 'bench: done, no failed requests' : 'bench: all targets met', exitCode: 0 };
  const what = compare ? 'case(s) with failed requests' : 'case(s) missed a target or had failed requests';
  return { text: `bench: FAILED, ${failed.length} ${what}:\n${failed.join('\n')}`, exitCode: 1 };
}
