/**
 * Managed prefix list entries as EC2 validates them: an address family
 * (IPv4 | IPv6), MaxEntries 1–1000, entries of a CIDR of that family (host
 * bits cleared, as security group rules store them) and an optional
 * description of up to 255 characters, no CIDR twice, and the changes of a
 * ModifyManagedPrefixList call (removals, then additions) applied to a version.
 *
 * Pure: no I/O. Which version a list is at and what refers to it is the
 * resources layer's business.
 */
import { Ec2Error, invalidParameterValue, missingParameter } from './errors.js';
import { normalizeCidr4, normalizeCidr6 } from './security-group-rules.js';
import { quotable } from './text.js';

export type AddressFamily = 'IPv4' | 'IPv6';

export interface PrefixListEntryInput {
  Cidr?: string;
  Description?: string;
}

/** A stored entry: a canonical CIDR and its description, if any. */
export interface PrefixListEntryRecord {
  Cidr: string;
  Description?: string;
}

/** EC2's bounds on MaxEntries. */
export const MIN_MAX_ENTRIES = 1;
export const MAX_MAX_ENTRIES = 1000;
/** Entries (or additions, or removals) one request may carry (EC2: 100). */
export const MAX_ENTRIES_PER_REQUEST = 100;
export const MAX_NAME_LENGTH = 255;
export const MAX_ENTRY_DESCRIPTION = 255;

export function checkAddressFamily(v: string | undefined): AddressFamily {
  if (v === undefined || v === '') throw missingParameter('AddressFamily');
  if (v === 'IPv4' || v === 'IPv6') return v;
  throw invalidParameterValue(`Invalid value (${quotable(v)}) for parameter AddressFamily. Valid values are: IPv4, IPv6.`);
}

export function checkMaxEntries(v: number | undefined, required = true): number | undefined {
  if (v === undefined) {
    if (required) throw missingParameter('MaxEntries');
    return undefined;
  }
  if (!Number.isInteger(v) || v < MIN_MAX_ENTRIES || v > MAX_MAX_ENTRIES) {
    throw invalidParameterValue(
      `Value (${String(v)}) for parameter MaxEntries is invalid. Expecting a value between ${MIN_MAX_ENTRIES} and ${MAX_MAX_ENTRIES}.`,
    );
  }
  return v;
}

/** A prefix list name: 1–255 characters, not starting with `com.amazonaws.` (reserved for AWS's lists). */
export function checkPrefixListName(v: string | undefined): string {
  if (v === undefined) throw missingParameter('PrefixListName');
  if (v.trim() === '') throw invalidParameterValue('The prefix list name cannot be empty.');
  if (v.length > MAX_NAME_LENGTH) {
    throw invalidParameterValue(`The prefix list name '${quotable(v, 32)}' is longer than ${MAX_NAME_LENGTH} characters.`);
  }
  if (v.toLowerCase().startsWith('com.amazonaws')) {
    throw invalidParameterValue('The prefix list name cannot start with com.amazonaws.');
  }
  return v;
}

/** One entry's CIDR in canonical form, refused unless it is of the list's family. */
export function normalizeEntryCidr(cidr: string | undefined, family: AddressFamily): string {
  if (cidr === undefined || cidr === '') throw missingParameter('Cidr');
  const isV6 = cidr.includes(':');
  if (isV6 !== (family === 'IPv6')) {
    throw invalidParameterValue(`The CIDR '${quotable(cidr)}' does not match the address family of the prefix list (${family}).`);
  }
  return family === 'IPv4' ? normalizeCidr4(cidr) : normalizeCidr6(cidr);
}

function checkDescription(d: string | undefined): string | undefined {
  if (d === undefined || d === '') return undefined;
  if (d.length > MAX_ENTRY_DESCRIPTION) {
    throw invalidParameterValue(`The description of a prefix list entry may be at most ${MAX_ENTRY_DESCRIPTION} characters long.`);
  }
  return d;
}

const duplicateCidr = (cidr: string): Ec2Error =>
  invalidParameterValue(`The CIDR '${cidr}' is specified more than once in the request.`);

function checkRequestSize(n: number, what: string): void {
  if (n > MAX_ENTRIES_PER_REQUEST) {
    throw invalidParameterValue(`The request cannot contain more than ${MAX_ENTRIES_PER_REQUEST} entry ${what}.`);
  }
}

/** The entries of a CreateManagedPrefixList call: valid, of the family, no CIDR twice, at most MaxEntries. */
export function normalizeEntries(
  entries: readonly PrefixListEntryInput[] | undefined,
  family: AddressFamily,
  maxEntries: number,
): PrefixListEntryRecord[] {
  const list = entries ?? [];
  checkRequestSize(list.length, 'additions');
  const out: PrefixListEntryRecord[] = [];
  const seen = new Set<string>();
  for (const e of list) {
    const Cidr = normalizeEntryCidr(e.Cidr, family);
    if (seen.has(Cidr)) throw duplicateCidr(Cidr);
    seen.add(Cidr);
    const Description = checkDescription(e.Description);
    out.push(Description === undefined ? { Cidr } : { Cidr, Description });
  }
  if (out.length > maxEntries) {
    throw invalidParameterValue(`The number of entries (${out.length}) exceeds the maximum number of entries (${maxEntries}) of the prefix list.`);
  }
  return out;
}

/**
 * The entries after a ModifyManagedPrefixList call: removals first (each must be
 * an entry of the list: InvalidPrefixListModification), then additions (each new
 * to the list as it then is; a CIDR may not be both removed and added). The
 * result may not exceed maxEntries (PrefixListMaxEntriesExceeded).
 */
export function applyEntryChanges(
  current: readonly PrefixListEntryRecord[],
  add: readonly PrefixListEntryInput[] | undefined,
  remove: readonly { Cidr?: string }[] | undefined,
  family: AddressFamily,
  maxEntries: number,
): PrefixListEntryRecord[] {
  const adds = add ?? [];
  const removes = remove ?? [];
  checkRequestSize(adds.length, 'additions');
  checkRequestSize(removes.length, 'removals');
  const byCidr = new Map(current.map((e) => [e.Cidr, e]));
  const removed = new Set<string>();
  for (const r of removes) {
    const cidr = normalizeEntryCidr(r.Cidr, family);
    if (removed.has(cidr)) throw duplicateCidr(cidr);
    if (!byCidr.has(cidr)) throw new Ec2Error('InvalidPrefixListModification', `The prefix list entry ${cidr} does not exist.`);
    removed.add(cidr);
    byCidr.delete(cidr);
  }
  const added = new Set<string>();
  for (const a of adds) {
    const Cidr = normalizeEntryCidr(a.Cidr, family);
    if (added.has(Cidr)) throw duplicateCidr(Cidr);
    if (removed.has(Cidr)) {
      throw invalidParameterValue(`The CIDR '${Cidr}' cannot be both added to and removed from the prefix list in one request.`);
    }
    if (byCidr.has(Cidr)) throw new Ec2Error('InvalidPrefixListModification', `The prefix list entry ${Cidr} already exists.`);
    added.add(Cidr);
    const Description = checkDescription(a.Description);
    byCidr.set(Cidr, Description === undefined ? { Cidr } : { Cidr, Description });
  }
  const out = [...byCidr.values()];
  if (out.length > maxEntries) {
    throw new Ec2Error(
      'PrefixListMaxEntriesExceeded',
      `The prefix list would have ${out.length} entries, more than its maximum of ${maxEntries}.`,
    );
  }
  return out;
}
