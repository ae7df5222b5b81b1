/**
 * awsJson request parsing by the API model: the JSON body becomes the operation's
 * input object keyed by the model's member names, with each value checked against its
 * shape (a type mismatch is a `SerializationException`, a missing required member a
 * `ValidationException`, as AWS's JSON services answer). Members the model does not know
 * are ignored, as those services do (a newer SDK may send members this model lacks).
 * Converters are made once per shape.
 */
import { Ec2Error } from '../domain/errors.js';
import { perShape, type CompactModel } from './model/compact.js';

type Converter = (value: unknown, path: string) => unknown;

/** Nesting deeper than this is refused (no model Overcast serves goes near it). */
const MAX_DEPTH = 64;

export const serializationError = (message: string): Ec2Error => new Ec2Error('SerializationException', message);

const mismatch = (path: string, expected: string): Ec2Error =>
  serializationError(`Value at '${path || '/'}' is not a valid ${expected}.`);

/** AWS's validation messages name members in lowerCamelCase. */
function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export class JsonParser {
  /** one converter per shape, compiled on first use */
  private readonly converter = perShape<Converter>((index) => this.compile(index));

  constructor(private readonly model: CompactModel) {}

  /** Parses the body of one request into the operation's input object. */
  parse(operation: string, body: Buffer): Record<string, unknown> {
    const op = this.model.operations[operation];
    let value: unknown = {};
    const text = body.toString('utf8').trim();
    if (text !== '') {
      try {
        value = JSON.parse(text);
      } catch {
        throw serializationError('Start of structure or map found where not expected.');
      }
    }
    if (value === null) value = {};
    if (typeof value !== 'object' || Array.isArray(value)) throw mismatch('', 'structure');
    if (depth(value, 0) > MAX_DEPTH) throw serializationError('The request is nested too deeply.');
    if (!op || op[0] < 0) return {};
    return this.converter(op[0])(value, '') as Record<string, unknown>;
  }


  private compile(index: number): Converter {
    const shape = this.model.shapes[index]!;
    switch (shape.k) {
      case 'structure': {
        const members = shape.m.map(([name, , wire, m]) => [name, wire, m] as const);
        const required = (shape.r ?? []).map((r) => shape.m.find((m) => m[0] === r)).filter((m) => m !== undefined);
        return (value, path) => {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) throw mismatch(path, 'structure');
          const input = value as Record<string, unknown>;
          const out: Record<string, unknown> = {};
          for (const [name, wire, m] of members) {
            const v = input[wire];
            if (v === undefined || v === null) continue;
            out[name] = this.converter(m)(v, path ? `${path}.${wire}` : wire);
          }
          const missing = required.filter(([name]) => out[name] === undefined);
          if (missing.length > 0) {
            const list = missing.map(([, , wire]) => `Value null at '${lowerFirst(path ? `${path}.${wire}` : wire)}' failed to satisfy constraint: Member must not be null`);
            throw new Ec2Error('ValidationException', `${list.length} validation error${list.length > 1 ? 's' : ''} detected: ${list.join('; ')}`);
          }
          return out;
        };
      }
      case 'list': {
        const member = shape.m;
        return (value, path) => {
          if (!Array.isArray(value)) throw mismatch(path, 'list');
          const convert = this.converter(member);
          return value.map((v, i) => (v === null ? null : convert(v, `${path}[${i}]`)));
        };
      }
      case 'map': {
        const valueShape = shape.value;
        return (value, path) => {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) throw mismatch(path, 'map');
          const convert = this.converter(valueShape);
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = convert(v, `${path}.${k}`);
          return out;
        };
      }
      case 'string':
        return (v, path) => {
          if (typeof v !== 'string') throw mismatch(path, 'string');
          return v;
        };
      case 'boolean':
        return (v, path) => {
          if (typeof v !== 'boolean') throw mismatch(path, 'boolean');
          return v;
        };
      case 'integer':
      case 'long':
        return (v, path) => {
          if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw mismatch(path, 'integer');
          return v;
        };
      case 'double':
      case 'float':
        return (v, path) => {
          if (typeof v === 'number') return v;
          if (v === 'NaN') return NaN;
          if (v === 'Infinity') return Infinity;
          if (v === '-Infinity') return -Infinity;
          throw mismatch(path, 'number');
        };
      case 'timestamp':
        return (v, path) => {
          // epoch seconds (the awsJson default); ISO 8601 text is accepted too
          const d = typeof v === 'number' ? new Date(v * 1000) : typeof v === 'string' ? new Date(v) : undefined;
          if (!d || Number.isNaN(d.getTime())) throw mismatch(path, 'timestamp');
          return d;
        };
      case 'blob':
        return (v, path) => {
          if (typeof v !== 'string' || !/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(v)) throw mismatch(path, 'blob');
          return Buffer.from(v, 'base64');
        };
      default:
        throw new Error(`unsupported shape ${(shape as { k: string }).k}`);
    }
  }
}

/** How deeply `v` nests (stops counting past MAX_DEPTH). */
function depth(v: unknown, d: number): number {
  if (d > MAX_DEPTH || typeof v !== 'object' || v === null) return d;
  let max = d;
  for (const x of Array.isArray(v) ? v : Object.values(v)) {
    if (typeof x === 'object' && x !== null) max = Math.max(max, depth(x, d + 1));
    if (max > MAX_DEPTH) break;
  }
  return max;
}
