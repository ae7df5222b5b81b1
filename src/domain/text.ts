/**
 * Character rules for free text a call stores and later echoes (tag keys and
 * values, key pair names, descriptions). Whatever is stored ends up in every
 * later response that lists it, so a character XML 1.0 cannot carry would make
 * those responses ill-formed for good: such text is refused when it comes in.
 *
 * The rule, for every stored free-text member: no control characters (Unicode
 * general category Cc: U+0000–U+001F and U+007F–U+009F, which includes tab, CR
 * and LF), no lone surrogates, no U+FFFE / U+FFFF. EC2 documents no character
 * set for EC2 tags (the `Tag` type: "case-sensitive … a maximum of 256 Unicode
 * characters"), unlike services whose tags follow `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`,
 * so letters, symbols and spaces of any script stay allowed there. Members with
 * a documented set of their own (security group names, key pair names) are
 * checked against that set in their family's rules.
 */
import { Ec2Error } from './errors.js';

/** A character Overcast refuses in stored free text (see the module comment). */
const UNSAFE = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/u;
const UNSAFE_GLOBAL = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/gu;

/** Whether `s` holds a character stored text may not hold. */
export function hasUnsafeCharacters(s: string): boolean {
  return UNSAFE.test(s);
}

/**
 * `s` made safe to quote in an error message: each refused character shown as
 * `\uXXXX`, and at most `max` characters kept.
 */
export function quotable(s: string, max = 64): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(UNSAFE_GLOBAL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Refuses free text with a refused character, with InvalidParameterValue naming
 * the parameter (the value is quoted with those characters escaped).
 */
export function checkText(parameter: string, value: string): string {
  if (hasUnsafeCharacters(value)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${quotable(value)}) for parameter ${parameter} is invalid. Control characters, lone surrogates and U+FFFE/U+FFFF are not allowed.`,
    );
  }
  return value;
}
