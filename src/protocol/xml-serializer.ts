/**
 * XML response serialization (EC2's Query dialect and awsQuery), compiled from the API model. For each operation
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
 * A response as a string when it is small and pure ASCII (then its length is its byte
 * length, and it is written as latin1 together with the headers, with no Buffer
 * allocated for it); otherwise its bytes, in the slices they were made in (one for a
 * small response), to be written one after the other without being joined.
 */
export type Serialized = string | readonly Buffer[];

export type OutputSerializer = (output: Record<string, unknown>, requestId: string) => Serialized;

/** The whole text of a serialized response (for tests and tools; the endpoint writes the slices). */
export function serializedText(out: Serialized): string {
  return typeof out === 'string' ? out : Buffer.concat(out).toString('utf8');
}

/**
 * Helpers the generated code closes over: `esc` escapes XML text and notes, in `N`,
 * a value that is not ASCII, in the same pattern test (so an ASCII response needs no
 * scan of its own: its length is its byte length). That test also catches what XML 1.0
 * cannot carry at all (C0 controls but tab, LF and CR; U+FFFE, U+FFFF; unpaired
 * surrogates), which goes out as U+FFFD: whatever a record holds, the document is
 * well-formed. `F` moves the text into a Buffer
 * slice, as latin1 while everything so far is ASCII (the same bytes as UTF-8, without
 * UTF-8's pass to measure them).
 *
 * `T(o)` is true when `o` is frozen, holds only data properties and none of its strings
 * needs escaping or is non-ASCII. A frozen object cannot change, so that is checked once
 * per object (kept in a WeakMap) and its string members then go out as they are:
 * catalogue entries (regions, zones, instance types) and the store's frozen records are
 * such objects, shared by every response that shows them.
 *
 * `p` is markup not yet appended to the text: each tag is added to it and it is
 * appended just before the next value, so the markup between two values (say
 * `</regionEndpoint><regionName>`) goes into the text as one string instead of one per
 * tag. Where the generated code cannot know `p` (after an optional member, a loop or a
 * call), a merge site finds `p` followed by its tag among the site's last two results
 * (`M` makes a missing one, as a flat string, once), so a response is a rope of about
 * two pieces per value, which costs less to build and to flatten for the socket.
 */
const RUNTIME = `let C=[],N=false,p="";
const Q=/[&<>"'\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\u0080-\\uffff]/,X=/[&<>"'\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]/g,U=/[\\u0080-\\uffff]/,Z=/[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]/;
const XR=(c)=>c==="&"?"&amp;":c==="<"?"&lt;":c===">"?"&gt;":c==='"'?"&quot;":c==="'"?"&apos;":"\\ufffd";
function esc(v){let s=typeof v==="string"?v:String(v);if(!Q.test(s))return s;if(U.test(s)){N=true;if(!s.isWellFormed())s=s.toWellFormed();}else if(Z.test(s))N=true;return s.replace(X,XR);}
function num(v){return typeof v==="number"?String(v):esc(v);}
function ts(v){return v instanceof Date?v.toISOString():typeof v==="number"?new Date(v).toISOString():esc(v);}
function blob(v){return Buffer.isBuffer(v)?v.toString("base64"):esc(v);}
function F(w){C.push(Buffer.from(w,N?"utf8":"latin1"));return "";}
const V=new WeakMap();
function T(o){if(!Object.isFrozen(o))return false;let t=V.get(o);if(t===undefined){t=plain(o);V.set(o,t);}return t;}
function plain(o){const pr=Object.getPrototypeOf(o);if(pr!==Object.prototype&&pr!==null)return false;const d=Object.getOwnPropertyDescriptors(o);for(const k in d){const x=d[k];if(!("value" in x))return false;if(typeof x.value==="string"&&Q.test(x.value))return false;}return true;}
function M(s){const m=Buffer.from(p+s.t,"latin1").toString("latin1");s.b=s.a;s.B=s.A;s.a=p;s.A=m;return m;}
`;

/** Text is moved into a Buffer slice once it grows past this many characters. */
export const SLICE_CHARS = 64 * 1024;

/**
 * What the generated code knows of the pending markup at a point: its exact text, or
 * nothing (then it is in the runtime variable `p`).
 */
type Pending = { known: string } | null;

/** Generated source of one function of a serializer, built statement by statement. */
class Emitter {
  code = '';

  /**
   * @param sites declarations of the merge sites, shared by the functions of one serializer
   * @param pending what is known of the pending markup where the code starts
   */
  constructor(
    private readonly sites: string[],
    public pending: Pending,
  ) {}

  /** Markup `tag` follows whatever is pending. */
  tag(tag: string): void {
    if (this.pending) {
      this.pending.known += tag;
      return;
    }
    const site = `S${this.sites.length}`;
    this.sites.push(`const ${site}={a:null,A:"",b:null,B:"",t:${JSON.stringify(tag)}};`);
    this.code += `p=p===${site}.a?${site}.A:p===${site}.b?${site}.B:M(${site});`;
  }

  /** Appends the pending markup, then the value of expression `expr`. */
  value(expr: string): void {
    this.flush();
    this.code += `w+=${expr};`;
  }

  /** Appends the pending markup. */
  flush(): void {
    if (!this.pending) this.code += 'w+=p;';
    else if (this.pending.known !== '') this.code += `w+=${JSON.stringify(this.pending.known)};`;
    this.pending = { known: '' };
  }

  /** Puts pending markup the generated code knows into `p`, before a loop, a call or a return. */
  settle(): void {
    if (this.pending) this.code += `p=${JSON.stringify(this.pending.known)};`;
    this.pending = null;
  }

  /**
   * `if(condition){then}else{otherwise}`: each branch starts from what is known here
   * and leaves `p` as the truth.
   */
  when(condition: string, then: () => void, otherwise?: () => void): void {
    const before = this.pending;
    const arm = (body: () => void): void => {
      this.pending = before && { known: before.known };
      body();
      this.settle();
    };
    if (before && !otherwise) this.code += `p=${JSON.stringify(before.known)};`;
    this.code += `if(${condition}){`;
    arm(then);
    this.code += '}';
    if (otherwise) {
      this.code += 'else{';
      arm(otherwise);
      this.code += '}';
    }
    this.pending = null;
  }

  /** A loop: its body starts from `p` (what the last round left) and leaves `p` as the truth. */
  loop(head: string, body: () => void): void {
    this.settle();
    this.code += `${head}{`;
    body();
    this.settle();
    this.code += '}';
  }
}

/**
 * The XML dialects: EC2's (`<XResponse xmlns><requestId>…</requestId>members</XResponse>`, map
 * entries as `<item>`) and awsQuery's (`<XResponse xmlns><XResult>members</XResult>
 * <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></XResponse>`, map entries as
 * `<entry>`). Element names and list item names come from the model in both.
 */
export type XmlDialect = 'ec2' | 'query';

export class XmlSerializer {
  private readonly cache = new Map<string, OutputSerializer>();

  constructor(
    private readonly model: CompactModel,
    private readonly dialect: XmlDialect = 'ec2',
  ) {}

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
   * Shape functions take the text so far (`w`) and return it with their part appended
   * (their last markup left in `p`); past SLICE_CHARS the text is moved into `C` (Buffers).
   * The text is a local, never stored in the closure: a rope appended to a context slot
   * pays a write barrier on every append.
   */
  source(operation: string): string {
    const op = this.model.operations[operation];
    if (!op) throw new Error(`unknown operation ${operation}`);
    const outputIndex = op[1];
    const query = this.dialect === 'query';
    const wrapper = query && outputIndex >= 0 ? (op[2] ?? `${operation}Result`) : undefined;
    const open =
      `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${this.model.xmlNamespace}">` +
      (query ? (wrapper ? `<${wrapper}>` : '') : '<requestId>');
    const emitted = new Set<number>();
    const functions: string[] = [];
    const sites: string[] = [];
    const emit = (index: number): void => {
      if (emitted.has(index)) return;
      emitted.add(index);
      const shape = this.model.shapes[index]!;
      // A shape function starts with its caller's markup pending, in `p`.
      const e = new Emitter(sites, null);
      if (shape.k === 'structure') {
        // T(o) where the shape has three or more text members: for fewer, looking the object up
        // costs about what the pattern tests it saves (DescribeInstances' tags and group pairs).
        const checked = shape.m.filter(([, , , m]) => this.model.shapes[m]!.k === 'string').length >= 3;
        for (const [name, , xmlName, memberIndex] of shape.m) {
          e.code += `v=o[${JSON.stringify(name)}];`;
          e.when('v!=null', () => this.member(e, xmlName, memberIndex, 'v', emit, checked));
        }
        e.settle();
        functions.push(`function s${index}(o,w){let v;${checked ? 'const t=T(o);' : ''}${e.code}return w;}`);
      } else if (shape.k === 'map') {
        const entry = query ? 'entry' : 'item';
        e.loop('for(const k of Object.keys(o))', () => {
          e.code += 'const v=o[k];';
          e.tag(`<${entry}><key>`);
          e.value('esc(k)');
          e.tag('</key>');
          e.when('v!=null', () => this.member(e, 'value', shape.value, 'v', emit));
          e.tag(`</${entry}>`);
        });
        e.settle();
        functions.push(`function s${index}(o,w){${e.code}return w;}`);
      }
    };
    const e = new Emitter(sites, { known: '' });
    if (query) {
      if (outputIndex >= 0) this.value(e, 'o', outputIndex, emit);
      e.tag(`${wrapper ? `</${wrapper}>` : ''}<ResponseMetadata><RequestId>`);
      e.value('esc(requestId)');
      e.tag(`</RequestId></ResponseMetadata></${operation}Response>`);
    } else {
      e.value('esc(requestId)');
      e.tag('</requestId>');
      if (outputIndex >= 0) this.value(e, 'o', outputIndex, emit);
      e.tag(`</${operation}Response>`);
    }
    e.flush();
    const body = e.code;
    const shapeFunctions = functions.join('\n');
    // EC2's model has ASCII element names; were one not, no response could go out as latin1
    // (and the merge sites, which copy markup through latin1, would garble it).
    if (/[^\x00-\x7f]/.test(shapeFunctions + open)) throw new Error(`${operation}: the model has non-ASCII element names`);
    return (
      RUNTIME +
      sites.join('\n') +
      '\n' +
      shapeFunctions +
      `\nreturn function(o,requestId){C=[];N=false;p="";let w=${JSON.stringify(open)};${body}` +
      // Small and ASCII: the string itself. Otherwise the bytes.
      `if(C.length===0&&!N)return w;F(w);const r=C;C=[];return r;};`
    );
  }

  private compile(operation: string): OutputSerializer {
    const factory = new Function('Buffer', this.source(operation)) as (buf: typeof Buffer) => OutputSerializer;
    return factory(Buffer);
  }

  /**
   * Appends member value `name` under element `tag`; `checked`: it is a member of the
   * structure whose T(o) the generated function holds in `t`.
   */
  private member(e: Emitter, tag: string, index: number, name: string, emit: (i: number) => void, checked = false): void {
    const shape: CompactShape = this.model.shapes[index]!;
    if (shape.k === 'list') {
      const item = `${name}e`;
      const slice = `if(w.length>${SLICE_CHARS})w=F(w);`;
      const items = (itemTag: string): void =>
        e.loop(`for(const ${item} of ${name})`, () => {
          e.tag(`<${itemTag}>`);
          this.value(e, item, shape.m, emit);
          e.tag(`</${itemTag}>`);
          e.code += slice;
        });
      if (shape.f) {
        items(tag);
        return;
      }
      e.when(
        `${name}.length===0`,
        () => e.tag(`<${tag}/>`),
        () => {
          e.tag(`<${tag}>`);
          items(shape.n);
          e.tag(`</${tag}>`);
        },
      );
      return;
    }
    e.tag(`<${tag}>`);
    this.value(e, name, index, emit, checked);
    e.tag(`</${tag}>`);
  }

  /** Appends value `name` of shape `index` (markup around it is the caller's). */
  private value(e: Emitter, name: string, index: number, emit: (i: number) => void, checked = false): void {
    const shape = this.model.shapes[index]!;
    switch (shape.k) {
      case 'structure':
      case 'map':
        emit(index);
        e.settle();
        e.code += `w=s${index}(${name},w);`;
        return;
      case 'list':
        // A list directly inside a list (rare in EC2): items wrapped in <item>.
        this.member(e, 'item', index, name, emit);
        return;
      case 'boolean':
        return e.value(`(${name}?"true":"false")`);
      case 'integer':
      case 'long':
      case 'double':
      case 'float':
        return e.value(`num(${name})`);
      case 'timestamp':
        return e.value(`ts(${name})`);
      case 'blob':
        return e.value(`blob(${name})`);
      default:
        // A string of an object T(o) has checked needs no escaping.
        return e.value(checked ? `t&&typeof ${name}==="string"?${name}:esc(${name})` : `esc(${name})`);
    }
  }
}
