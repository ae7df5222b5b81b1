import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import type { KeyPairRecord } from './records.js';

/** The key pair called `name` in the caller's region, or undefined. */
export function findKeyPairByName(ctx: ResourceContext, name: string): KeyPairRecord | undefined {
  return ctx.store.collection(KINDS.keyPair).list(ctx.region).find((k) => k.KeyName === name);
}
