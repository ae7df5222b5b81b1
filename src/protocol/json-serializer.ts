/**
 * awsJson (1.0 / 1.1) response serialization, compiled from the API model like the
 * XML serializer: for each operation the output shape tree is turned once into
 * JavaScript source (one function per shape) and compiled with `new Function`, so a
 * request never walks the model.
 *
 * Member names are the model's wire names; members that are null or undefined are left
 * out; timestamps are epoch seconds (the awsJson default); blobs base64; non-finite
 * doubles the strings "NaN", "Infinity" and "-Infinity", as the protocol writes them.
 * Strings go out well-formed: controls escaped by JSON.stringify, unpaired surrogates as
 * U+FFFD (as the XML serializer writes them).
 */
import type { CompactModel } from './model/index.js';

export type JsonOutputSerializer = (output: Record<string, unknown>) => string;

const RUNTIME = `const J=JSON.stringify;
function str(v){const s=typeof v==="string"?v:String(v);return J(s.isWellFormed()?s:s.toWellFormed());}
function int(v){const n=typeof v==="number"?v:Number(v);return Number.isFinite(n)?String(Math.trunc(n)):"0";}
function dbl(v){const n=typeof v==="number"?v:Number(v);return Number.isFinite(n)?String(n):n!==n?'"NaN"':n>0?'"Infinity"':'"-Infinity"';}
function ts(v){const ms=v instanceof Date?v.getTime():typeof v==="number"?v:Date.parse(String(v));return Number.isFinite(ms)?String(ms/1000):"null";}
function blob(v){return J(Buffer.isBuffer(v)||v instanceof Uint8Array?Buffer.from(v).toString("base64"):String(v));}
`;

export class JsonSerializer {
  private readonly cache = new Map<string, JsonOutputSerializer>();

  constructor(private readonly model: CompactModel) {}

  serializer(operation: string): JsonOutputSerializer {
    let fn = this.cache.get(operation);
    if (!fn) {
      fn = this.compile(operation);
      this.cache.set(operation, fn);
    }
    return fn;
  }

  /** Generated source for an operation's serializer (exposed for tests and debugging). */
  source(operation: string): string {
    const op = this.model.operations[operation];
    if (!op) throw new Error(`unknown operation ${operation}`);
    const emitted = new Set<number>();
    const functions: string[] = [];
    const emit = (index: number): void => {
      if (emitted.has(index)) return;
      emitted.add(index);
      const shape = this.model.shapes[index]!;
      if (shape.k === 'structure') {
        let code = '';
        for (const [name, , wireName, memberIndex] of shape.m) {
          code += `v=o[${JSON.stringify(name)}];if(v!=null){w+=s+${JSON.stringify(`${JSON.stringify(wireName)}:`)}+${this.value('v', memberIndex, emit)};s=",";}`;
        }
        functions.push(`function s${index}(o){let v,s="",w="{";${code}return w+"}";}`);
      } else if (shape.k === 'list') {
        functions.push(
          `function s${index}(o){let w="[",s="";for(const v of o){w+=s+(v==null?"null":${this.value('v', shape.m, emit)});s=",";}return w+"]";}`,
        );
      } else if (shape.k === 'map') {
        functions.push(
          `function s${index}(o){let w="{",s="";for(const k of Object.keys(o)){const v=o[k];if(v==null)continue;w+=s+str(k)+":"+${this.value('v', shape.value, emit)};s=",";}return w+"}";}`,
        );
      }
    };
    const body = op[1] >= 0 ? `return ${this.value('o', op[1], emit)};` : 'return "{}";';
    return `${RUNTIME}${functions.join('\n')}\nreturn function(o){${body}};`;
  }

  private compile(operation: string): JsonOutputSerializer {
    const factory = new Function('Buffer', this.source(operation)) as (buf: typeof Buffer) => JsonOutputSerializer;
    return factory(Buffer);
  }

  /** An expression for value `name` of shape `index`, as JSON text. */
  private value(name: string, index: number, emit: (i: number) => void): string {
    const shape = this.model.shapes[index]!;
    switch (shape.k) {
      case 'structure':
      case 'list':
      case 'map':
        emit(index);
        return `s${index}(${name})`;
      case 'boolean':
        return `(${name}?"true":"false")`;
      case 'integer':
      case 'long':
        return `int(${name})`;
      case 'double':
      case 'float':
        return `dbl(${name})`;
      case 'timestamp':
        return `ts(${name})`;
      case 'blob':
        return `blob(${name})`;
      default:
        return `str(${name})`;
    }
  }
}
