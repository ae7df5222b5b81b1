/** Serializes async work per key within this process (one volume's or snapshot's steps at a time). */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async with<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    if (keys.length === 0) return fn();
    const [first, ...rest] = keys;
    return this.one(first!, () => this.with(rest, fn));
  }

  private async one<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
