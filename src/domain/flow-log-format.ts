/**
 * VPC flow log records as text: the version 2 fields, the default format, a
 * custom `${field} ${field} …` format checked and compiled into a line
 * renderer, and the `file` destination's names (a relative path that stays
 * under the flow log directory).
 */
import { quotable } from './text.js';

/** The version 2 fields, in the default format's order. */
export const FLOW_LOG_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
] as const;

export type FlowLogField = (typeof FLOW_LOG_FIELDS)[number];

/** What EC2 uses when CreateFlowLogs has no LogFormat. */
export const DEFAULT_LOG_FORMAT = FLOW_LOG_FIELDS.map((f) => `\${${f}}`).join(' ');

const KNOWN: ReadonlySet<string> = new Set(FLOW_LOG_FIELDS);

/** The most EC2 takes in LogFormat. */
export const MAX_LOG_FORMAT_LENGTH = 4096;

export type ParsedFormat = { ok: true; fields: FlowLogField[] } | { ok: false; message: string };

/**
 * The fields of a LogFormat: `${name}` tokens separated by spaces, every name
 * one of the version 2 fields. Names outside them are listed in the message.
 */
export function parseLogFormat(format: string): ParsedFormat {
  if (format.length > MAX_LOG_FORMAT_LENGTH) return { ok: false, message: `LogFormat exceeds the maximum length of ${MAX_LOG_FORMAT_LENGTH} characters.` };
  const tokens = format.split(' ').filter((t) => t !== '');
  if (tokens.length === 0) return { ok: false, message: 'LogFormat must name at least one field.' };
  const fields: FlowLogField[] = [];
  const unknown: string[] = [];
  for (const token of tokens) {
    const m = /^\$\{([^${}\s]+)\}$/.exec(token);
    if (!m) return { ok: false, message: `LogFormat is malformed near '${quotable(token)}': fields are written \${field-name} and separated by spaces.` };
    const name = m[1]!;
    if (KNOWN.has(name)) fields.push(name as FlowLogField);
    else unknown.push(name);
  }
  if (unknown.length > 0) {
    return {
      ok: false,
      message: `Unknown fields provided: ${unknown.map((u) => quotable(u)).join(', ')}. Supported fields: ${FLOW_LOG_FIELDS.join(', ')}.`,
    };
  }
  return { ok: true, fields };
}

/** One record's values, by field. */
export type FlowLogValues = Readonly<Record<FlowLogField, string | number>>;

/** The record as one line of the format (no newline). */
export function renderFlowLogLine(fields: readonly FlowLogField[], values: FlowLogValues): string {
  return fields.map((f) => String(values[f])).join(' ');
}

/** The longest LogDestination a `file` flow log takes. */
export const MAX_FILE_DESTINATION_LENGTH = 512;

/**
 * Why a `file` LogDestination is refused, or undefined when it is good: a
 * relative path of segments made of letters, digits, `.`, `_` and `-`, none
 * of them `.` or `..`, separated by `/`.
 */
export function fileDestinationProblem(name: string): string | undefined {
  if (name === '') return 'LogDestination must not be empty.';
  if (name.length > MAX_FILE_DESTINATION_LENGTH) return `LogDestination exceeds the maximum length of ${MAX_FILE_DESTINATION_LENGTH} characters.`;
  if (name.startsWith('/')) return 'LogDestination must be a relative file name, not an absolute path.';
  const segments = name.split('/');
  for (const s of segments) {
    if (s === '..') return "LogDestination must not contain '..'.";
    if (s === '' || s === '.') return "LogDestination must not have empty or '.' path segments.";
    if (!/^[A-Za-z0-9._-]+$/.test(s)) return 'LogDestination may hold only letters, digits, ".", "_", "-" and "/" between names.';
  }
  return undefined;
}
