/**
 * How often an EBS volume may be modified (ModifyVolume), as EC2 documents it
 * today: a modification may start only once the previous one is `completed`,
 * and at most MODIFICATIONS_PER_WINDOW may start within a rolling
 * MODIFICATION_WINDOW_MS. Past that EC2 answers VolumeModificationRateExceeded
 * with the time the next one may start. (The older rule, one modification per
 * six hours, is what the error's first sentence still recalls.)
 *
 * Pure: the caller passes the start times it recorded and the call's clock.
 */
import { Ec2Error } from './errors.js';

/** The most modifications that may start within one window. */
export const MODIFICATIONS_PER_WINDOW = 4;
/** The rolling window: 24 hours. */
export const MODIFICATION_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface ModificationState {
  ModificationState: 'modifying' | 'optimizing' | 'completed' | 'failed';
}

/**
 * Checks that a new modification of the volume may start at `now`, given its
 * last modification and the start times (ISO) of those accepted before.
 * Returns the start times to keep (those still in the window) followed by
 * `now`; throws EC2's error otherwise.
 */
export function admitModification(volumeId: string, last: ModificationState | undefined, starts: readonly string[], now: Date): string[] {
  // a failed one may be retried at once (EC2: "retry the volume modification")
  if (last && last.ModificationState !== 'completed' && last.ModificationState !== 'failed') {
    throw new Ec2Error('IncorrectModificationState', `Volume ${volumeId} cannot be modified in modification state ${last.ModificationState.toUpperCase()}`);
  }
  const t = now.getTime();
  const kept = starts.filter((s) => {
    const at = Date.parse(s);
    return Number.isFinite(at) && at >= t - MODIFICATION_WINDOW_MS;
  });
  kept.sort();
  if (kept.length >= MODIFICATIONS_PER_WINDOW) {
    // the oldest of the last MODIFICATIONS_PER_WINDOW leaves the window first
    const next = new Date(Date.parse(kept[kept.length - MODIFICATIONS_PER_WINDOW]!) + MODIFICATION_WINDOW_MS);
    throw new Ec2Error(
      'VolumeModificationRateExceeded',
      `You've reached the maximum modification rate per volume limit: ${MODIFICATIONS_PER_WINDOW} modifications in 24 hours. ` +
        `You can modify volume ${volumeId} again after ${next.toISOString()}.`,
    );
  }
  return [...kept, now.toISOString()];
}
