/**
 * EC2 response serialization, compiled from the API model. For each operation
 * the output shape tree is turned once into JavaScript source (one function per
 * shape, appending to one text buffer) and compiled with `new Function`, so a
 * request never walks the model.
 *
 * The text is turned into bytes in slices of about 64 KiB as list items are
 * written: a multi-megabyte response built as one concatenated string becomes a
 * deep rope that is very slow to flatten and encode.
 */
import type { CompactModel, CompactShape } from './model/index.js';

/**
 * A response as bytes, or as a string when it is small and pure ASCII (then its
 * length is its byte length, and it is written as latin1 together with the
 * headers, with no Buffer allocated for it).
 */
export type OutputSerializer = (output: Record<string, unknown>, requestId: string) => string | Buffer;

/**
 * Helpers the generated code closes over: `esc` escapes XML text and notes, in `N`,
 * a value that is not ASCII, in the same pattern test (so an ASCII response needs no
 * scan of its own: its length is its byte length).
 */
const RUNTIME = `let C=[],N=false;
const Q=/[&<>"'\\u0080-\\uffff]/,X=/[&<>"']/g,U=/[\\u0080-\\uffff]/;
const XR=(c)=>c==="&"?"&amp;":c==="<"?"&lt;":c===">"?"&gt;":c==='"'?"&quot;":"&apos;";
function esc(v){const s=typeof v==="string"?v:String(v);if(!Q.test(s))return s;if(U.test(s))N=true;return s.replace(X,XR);}
function num(v){return typeof v==="number"?String(v):esc(v);}
function ts(v){return v instanceof Date?v.toISOString():typeof v==="number"?new Date(v).toISOString():esc(v);}
function blob(v){return Buffer.isBuffer(v)?v.toString("base64"):esc(v);}
function F(w){C.push(Buffer.from(w,"utf8"));return "";}
`;

/** Text is moved into a Buffer slice once it grows past this many characters. */
export const SLICE_CHARS = 64 * 1024;

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

  /**
   * Generated source for an operation's serializer (exposed for tests and debugging).
   * Shape functions take the text so far (`w`) and return it with their part appended; past
   * SLICE_CHARS the text is moved into `C` (Buffers). The text is a local, never stored in
   * the closure: a rope appended to a context slot pays a write barrier on every append.
   */
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
        let body = `function s${index}(o,w){let v;`;
        for (const [name, , xmlName, memberIndex] of shape.m) {
          body += `v=o[${JSON.stringify(name)}];if(v!=null){${this.member(xmlName, memberIndex, 'v', emit)}}`;
        }
        functions.push(body + 'return w;}');
      } else if (shape.k === 'map') {
        functions.push(
          `function s${index}(o,w){for(const k of Object.keys(o)){const v=o[k];w+="<item><key>"+esc(k)+"</key>";if(v!=null){${this.member('value', shape.value, 'v', emit)}}w+="</item>";}return w;}`,
        );
      }
    };
    let body = '';
    if (outputIndex >= 0) {
      emit(outputIndex);
      body = `w=s${outputIndex}(o,w);`;
    }
    const shapeFunctions = functions.join('\n');
    // EC2's model has ASCII element names; were one not, no response could go out as latin1.
    const nonAscii = /[^\x00-\x7f]/.test(shapeFunctions + open);
    return (
      RUNTIME +
      shapeFunctions +
      `\nreturn function(o,requestId){C=[];N=${nonAscii};let w=${JSON.stringify(open)}+"<requestId>"+esc(requestId)+"</requestId>";${body}` +
      `w+=${JSON.stringify(`</${operation}Response>`)};` +
      // Small and ASCII: the string itself. Otherwise the bytes.
      `if(C.length===0&&!N)return w;F(w);const r=C.length===1?C[0]:Buffer.concat(C);C=[];return r;};`
    );
  }

  private compile(operation: string): OutputSerializer {
    const factory = new Function('Buffer', this.source(operation)) as (buf: typeof Buffer) => OutputSerializer;
    return factory(Buffer);
  }

  /** Statements that append member value `name` under element `tag`. */
  private member(tag: string, index: number, name: string, emit: (i: number) => void): string {
    const shape: CompactShape = this.model.shapes[index]!;
    const open = JSON.stringify(`<${tag}>`);
    const close = JSON.stringify(`</${tag}>`);
    if (shape.k === 'list') {
      const e = `${name}e`;
      const item = this.value(e, shape.m, emit);
      const slice = `if(w.length>${SLICE_CHARS})w=F(w);`;
      if (shape.f) return `for(const ${e} of ${name}){w+=${open};${item}w+=${close};${slice}}`;
      const itemOpen = JSON.stringify(`<${shape.n}>`);
      const itemClose = JSON.stringify(`</${shape.n}>`);
      return `if(${name}.length===0){w+=${JSON.stringify(`<${tag}/>`)};}else{w+=${open};for(const ${e} of ${name}){w+=${itemOpen};${item}w+=${itemClose};${slice}}w+=${close};}`;
    }
    const scalar = this.scalar(name, shape);
    // A scalar member is one append (`w+="<tag>"+value+"</tag>"`): fewer pieces in the text rope.
    if (scalar !== undefined) return `w+=${open}+${scalar}+${close};`;
    return `w+=${open};${this.value(name, index, emit)}w+=${close};`;
  }

  /** Expression rendering a scalar value, or undefined for structures, maps and lists. */
  private scalar(name: string, shape: CompactShape): string | undefined {
    switch (shape.k) {
      case 'structure':
      case 'map':
      case 'list':
        return undefined;
      case 'boolean':
        return `(${name}?"true":"false")`;
      case 'integer':
      case 'long':
      case 'double':
      case 'float':
        return `num(${name})`;
      case 'timestamp':
        return `ts(${name})`;
      case 'blob':
        return `blob(${name})`;
      default:
        return `esc(${name})`;
    }
  }

  /** Statements that append value `name` of shape `index`. */
  private value(name: string, index: number, emit: (i: number) => void): string {
    const shape = this.model.shapes[index]!;
    switch (shape.k) {
      case 'structure':
      case 'map':
        emit(index);
        return `w=s${index}(${name},w);`;
      case 'list':
        // A list directly inside a list (rare in EC2): items wrapped in <item>.
        return this.member('item', index, name, emit);
      default:
        return `w+=${this.scalar(name, shape)};`;
    }
  }
}
