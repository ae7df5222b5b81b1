/** EC2-style request throttling: a token bucket per action class, off by default. */
import type { ThrottleConfig } from '../config.js';

type ActionClass = 'describe' | 'mutate' | 'runInstances';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export function actionClass(action: string): ActionClass {
  if (action === 'RunInstances' || action === 'StartInstances') return 'runInstances';
  if (action.startsWith('Describe') || action.startsWith('Get') || action.startsWith('List')) return 'describe';
  return 'mutate';
}

export class Throttle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly config: ThrottleConfig) {}

  /** Takes a token for (account, action class); false means RequestLimitExceeded. */
  take(account: string, action: string, nowMs: number): boolean {
    if (!this.config.enabled) return true;
    const cls = actionClass(action);
    const { capacity, refillPerSecond } = this.config[cls];
    const key = `${account}/${cls}`;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: capacity, updatedAt: nowMs }));
    b.tokens = Math.min(capacity, b.tokens + ((nowMs - b.updatedAt) / 1000) * refillPerSecond);
    b.updatedAt = nowMs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
