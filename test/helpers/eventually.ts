/** Polls a read until its answer passes a test (state machines the reconciler moves on). */
export async function eventually<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, tries = 300): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${what}: never reached (last: ${JSON.stringify(last)})`);
}
