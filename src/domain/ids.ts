/** EC2 resource ids: `<prefix>-<17 hex digits>`; old-style 8-digit ids are accepted as well-formed. */
import { randomBytes } from 'node:crypto';

/** A fresh id such as `i-0a1b2c3d4e5f67890`. */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

const wellFormed = new Map<string, RegExp>();

/** Whether `id` looks like an id of this prefix (not whether it exists). */
export function isWellFormedId(prefix: string, id: string): boolean {
  let re = wellFormed.get(prefix);
  if (!re) wellFormed.set(prefix, (re = new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)));
  return re.test(id);
}

/** The prefix of an id (`i`, `vpc`, `eni-attach`, `tgw-rtb`…), or undefined. */
export function idPrefix(id: string): string | undefined {
  const m = /^([a-z]+(?:-attach|-rtb|-svc)?)-[0-9a-f]+$/.exec(id);
  return m ? m[1] : undefined;
}

