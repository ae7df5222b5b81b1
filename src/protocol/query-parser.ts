/**
 * Query protocol request parsing, compiled from the API model: flattened
 * parameters (`InstanceId.1`, `Filter.1.Value.2`, `TagSpecification.1.Tag.1.Key`)
 * become a plain object keyed by the model's member names. EC2's dialect numbers
 * list items directly under the list's name; awsQuery (STS, CloudWatch) puts them
 * under the list member's name (`Names.member.1`) unless the list is flattened, and
 * map entries under `entry` (`Attributes.entry.1.key`).
 */
import { Ec2Error, missingParameter } from '../domain/errors.js';
import { perShape, type CompactModel } from './model/compact.js';

/** Upper bounds that keep a hostile request from costing much. */
export const MAX_PARAMETERS = 20_000;
export const MAX_LIST_INDEX = 10_000;

interface Node {
  value?: string;
  children?: Map<string, Node>;
}

type Converter = (node: Node, path: string) => unknown;

const unknownParameter = (path: string): Ec2Error =>
  new Ec2Error('UnknownParameter', `The parameter ${path} is not recognized`);

const badValue = (path: string, value: string, expected: string): Ec2Error =>
  new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${path} is invalid. Expected: '${expected}'.`);

/** Reserved top-level parameters of the Query protocol and SigV4 query auth, never part of an input shape. */
const PROTOCOL_PARAMS = new Set([
  'Action', 'Version', 'AWSAccessKeyId', 'SignatureMethod', 'SignatureVersion', 'Signature', 'Timestamp', 'Expires',
  'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature',
  'X-Amz-Security-Token',
  // a presigner hoists the x-amz-content-sha256 header into the query under the name it was given
  'X-Amz-Content-Sha256', 'x-amz-content-sha256',
]);

export class QueryParser {
  /** one converter per shape, compiled on first use */
  private readonly converter = perShape<Converter>((index) => this.compile(index));

  constructor(
    private readonly model: CompactModel,
    private readonly style: 'ec2' | 'query' = 'ec2',
  ) {}

  /** Parses the flat parameters of one request into the operation's input object. */
  parse(operation: string, params: Iterable<[string, string]>): Record<string, unknown> {
    const op = this.model.operations[operation];
    const root: Node = { children: new Map() };
    let count = 0;
    for (const [key, value] of params) {
      if (PROTOCOL_PARAMS.has(key)) continue;
      if (++count > MAX_PARAMETERS) {
        throw new Ec2Error('InvalidParameterValue', `The request has more than ${MAX_PARAMETERS} parameters.`);
      }
      insert(root, key, value);
    }
    if (!op || op[0] < 0) {
      const first = root.children!.keys().next();
      if (!first.done) throw unknownParameter(first.value);
      return {};
    }
    return this.converter(op[0])(root, '') as Record<string, unknown>;
  }


  private compile(index: number): Converter {
    const shape = this.model.shapes[index]!;
    switch (shape.k) {
      case 'structure': {
        const byQueryName = new Map<string, [string, number]>();
        for (const [name, queryName, , memberShape] of shape.m) byQueryName.set(queryName, [name, memberShape]);
        const required = shape.r?.map((r) => shape.m.find((m) => m[0] === r)!).filter(Boolean) ?? [];
        return (node, path) => {
          if (node.value !== undefined && node.children === undefined) throw unknownParameter(path);
          const out: Record<string, unknown> = {};
          if (node.children) {
            for (const [key, child] of node.children) {
              const member = byQueryName.get(key);
              const childPath = path ? `${path}.${key}` : key;
              if (!member) throw unknownParameter(childPath);
              out[member[0]] = this.converter(member[1])(child, childPath);
            }
          }
          for (const [name, queryName] of required) {
            if (out[name] === undefined) throw missingParameter(path ? `${path}.${queryName}` : queryName);
          }
          return out;
        };
      }
      case 'list': {
        const memberIndex = shape.m;
        const wrapped = this.style === 'query' && !shape.f ? shape.n : undefined;
        return (outer, path) => {
          let node = outer;
          if (wrapped !== undefined && outer.children) {
            // awsQuery: Name.member.N
            const inner = outer.children.get(wrapped);
            if (!inner || outer.children.size !== 1) {
              const key = [...outer.children.keys()].find((k) => k !== wrapped)!;
              throw unknownParameter(`${path}.${key ?? wrapped}`);
            }
            node = inner;
            path = `${path}.${wrapped}`;
          }
          if (!node.children) {
            // `Name=` with an empty value is how the Query protocol sends an empty list.
            if (node.value === '') return [];
            throw unknownParameter(path);
          }
          const items: [number, Node][] = [];
          for (const [key, child] of node.children) {
            if (!/^[1-9]\d{0,5}$/.test(key) || Number(key) > MAX_LIST_INDEX) {
              throw new Ec2Error('InvalidParameterValue', `The parameter ${path}.${key} is not a valid list index.`);
            }
            items.push([Number(key), child]);
          }
          items.sort((a, b) => a[0] - b[0]);
          const convert = this.converter(memberIndex);
          return items.map(([i, child]) => convert(child, `${path}.${i}`));
        };
      }
      case 'map': {
        const wrapped = this.style === 'query';
        return (outer, path) => {
          // Query maps: Name.N.Key / Name.N.Value (awsQuery: Name.entry.N.key / Name.entry.N.value)
          const out: Record<string, unknown> = {};
          const value = this.converter(shape.value);
          const node = wrapped ? (outer.children?.get('entry') ?? outer) : outer;
          for (const [i, entry] of node.children ?? []) {
            const k = entry.children?.get('Key')?.value ?? entry.children?.get('key')?.value;
            const v = entry.children?.get('Value') ?? entry.children?.get('value');
            if (k === undefined || v === undefined) throw unknownParameter(`${path}.${i}`);
            out[k] = value(v, `${path}.${i}.Value`);
          }
          return out;
        };
      }
      default:
        return scalar(shape.k);
    }
  }
}

function scalar(kind: string): Converter {
  const text = (node: Node, path: string): string => {
    if (node.children !== undefined || node.value === undefined) throw unknownParameter(path);
    return node.value;
  };
  switch (kind) {
    case 'string':
      return text;
    case 'integer':
    case 'long':
      return (node, path) => {
        const v = text(node, path).trim();
        if (!/^-?\d{1,16}$/.test(v)) throw badValue(path, v, 'Integer');
        return Number(v);
      };
    case 'double':
    case 'float':
      return (node, path) => {
        const v = text(node, path).trim();
        const n = Number(v);
        if (v === '' || !Number.isFinite(n)) throw badValue(path, v, 'Double');
        return n;
      };
    case 'boolean':
      return (node, path) => {
        const v = text(node, path).trim().toLowerCase();
        if (v === 'true') return true;
        if (v === 'false') return false;
        throw badValue(path, v, 'Boolean');
      };
    case 'timestamp':
      return (node, path) => {
        const v = text(node, path).trim();
        const d = /^\d+(\.\d+)?$/.test(v) ? new Date(Number(v) * 1000) : new Date(v);
        if (Number.isNaN(d.getTime())) throw badValue(path, v, 'Timestamp');
        return d;
      };
    case 'blob':
      return (node, path) => {
        const v = text(node, path).trim();
        if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(v)) throw badValue(path, v.slice(0, 32), 'Base64');
        return Buffer.from(v, 'base64');
      };
    default:
      throw new Error(`unsupported scalar ${kind}`);
  }
}

function insert(root: Node, key: string, value: string): void {
  let node = root;
  let start = 0;
  for (;;) {
    const dot = key.indexOf('.', start);
    const part = dot < 0 ? key.slice(start) : key.slice(start, dot);
    if (part === '') throw unknownParameter(key);
    let children = node.children;
    if (!children) node.children = children = new Map();
    let child = children.get(part);
    if (!child) children.set(part, (child = {}));
    node = child;
    if (dot < 0) break;
    start = dot + 1;
  }
  node.value = value;
}
