/**
 * EC2 response serialization, compiled from the API model. For each operation
 * the output shape tree is turned once into JavaScript source (one function per
 * shape, string concatenation only) and compiled with `new Function`, so a
 * request never walks the model.
 */
import type { CompactModel, CompactShape } from './model/index.js';

export type OutputSerializer = (output: Record<string, unknown>, requestId: string) => string;

const ESCAPE_TEST = /[&<>"']/;
function esc(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  if (!ESCAPE_TEST.test(s)) return s;
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}
function ts(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number') return new Date(v).toISOString();
  return esc(v);
}
function blob(v: unknown): string {
  return Buffer.isBuffer(v) ? v.toString('base64') : esc(v);
}

export class XmlSerializer {
  private readonly cache = new Map<string, OutputSerializer>();

  constructor(private readonly model: CompactModel) {}

  serializer(operation: string): OutputSerializer {
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
    const outputIndex = op[1];
    const open = `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${this.model.xmlNamespace}">`;
    const emitted = new Set<number>();
    const functions: string[] = [];
    const emit = (index: number): void => {
      if (emitted.has(index)) return;
      emitted.add(index);
      const shape = this.model.shapes[index]!;
      if (shape.k === 'structure') {
        let body = `function s${index}(o){let x="",v;`;
        for (const [name, , xmlName, memberIndex] of shape.m) {
          body += `v=o[${JSON.stringify(name)}];if(v!=null){${this.member(xmlName, memberIndex, emit)}}`;
        }
        functions.push(body + 'return x;}');
      } else if (shape.k === 'map') {
        functions.push(
          `function s${index}(o){let x="";for(const k of Object.keys(o)){const v=o[k];x+="<item><key>"+esc(k)+"</key>";if(v!=null){${this.member('value', shape.value, emit)}}x+="</item>";}return x;}`,
        );
      }
    };
    let body = '';
    if (outputIndex >= 0) {
      emit(outputIndex);
      body = `x+=s${outputIndex}(o);`;
    }
    return (
      functions.join('\n') +
      `\nreturn function(o,requestId){let x=${JSON.stringify(open)}+"<requestId>"+requestId+"</requestId>";${body}return x+${JSON.stringify(`</${operation}Response>`)};};`
    );
  }

  private compile(operation: string): OutputSerializer {
    const factory = new Function('esc', 'ts', 'blob', this.source(operation)) as (
      e: typeof esc,
      t: typeof ts,
      b: typeof blob,
    ) => OutputSerializer;
    return factory(esc, ts, blob);
  }

  /** Code that appends member value `v` under element `tag`. */
  private member(tag: string, index: number, emit: (i: number) => void): string {
    const shape: CompactShape = this.model.shapes[index]!;
    const open = JSON.stringify(`<${tag}>`);
    const close = JSON.stringify(`</${tag}>`);
    if (shape.k === 'list') {
      const item = this.value('e', shape.m, emit);
      if (shape.f) return `for(const e of v){x+=${open}+${item}+${close};}`;
      const itemOpen = JSON.stringify(`<${shape.n}>`);
      const itemClose = JSON.stringify(`</${shape.n}>`);
      return `if(v.length===0){x+=${JSON.stringify(`<${tag}/>`)};}else{x+=${open};for(const e of v){x+=${itemOpen}+${item}+${itemClose};}x+=${close};}`;
    }
    return `x+=${open}+${this.value('v', index, emit)}+${close};`;
  }

  /** Expression rendering value `name` of shape `index`. */
  private value(name: string, index: number, emit: (i: number) => void): string {
    const shape = this.model.shapes[index]!;
    switch (shape.k) {
      case 'structure':
      case 'map':
        emit(index);
        return `s${index}(${name})`;
      case 'list':
        // A list directly inside a list (rare in EC2): wrap items in <item>.
        return `(()=>{let x="";const v=${name};${this.member('item', index, emit).replace(/^/, '')}return x;})()`;
      case 'boolean':
        return `(${name}?"true":"false")`;
      case 'integer':
      case 'long':
      case 'double':
      case 'float':
        return `String(${name})`;
      case 'timestamp':
        return `ts(${name})`;
      case 'blob':
        return `blob(${name})`;
      default:
        return `esc(${name})`;
    }
  }
}
