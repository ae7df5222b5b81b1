// Turns the official API models (aws-sdk v2 `apis/<service>-<version>.min.json`) of the
// services Overcast speaks (EC2, STS, SSM) into the compact models that src/protocol
// compiles its parsers and serializers from.
// aws-sdk v2's model stopped being updated in 2025; members added to EC2 since (such as
// SecurityGroupArn) are taken from the schemas @aws-sdk/client-ec2 ships, for the
// structures both models have. Run: npm run gen:model
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CompactModel, CompactShape, MemberDef } from '../src/protocol/model/compact.js';

const require = createRequire(import.meta.url);
interface RawShape {
  type?: string;
  shape?: string;
  locationName?: string;
  queryName?: string;
  flattened?: boolean;
  members?: Record<string, RawShape>;
  member?: RawShape;
  key?: RawShape;
  value?: RawShape;
  required?: string[];
  timestampFormat?: string;
  resultWrapper?: string;
}
interface RawModel {
  metadata: {
    apiVersion: string;
    xmlNamespace?: string;
    protocol: string;
    signingName?: string;
    endpointPrefix: string;
    targetPrefix?: string;
    jsonVersion?: string;
  };
  operations: Record<string, { input?: RawShape; output?: RawShape }>;
  shapes: Record<string, RawShape>;
}

/**
 * Smithy static schemas as @aws-sdk/client-ec2 exports them: an operation (`Name$`) is
 * [9, namespace, name, traits, input, output]; a structure [3, ns, name, traits,
 * memberNames, memberSchemas]; a list [1, ns, name, traits, member]; a map [2, ns, name,
 * traits, key, value]. A member schema is a type code, a lazy reference, or [either,
 * traits] with `xmlName` / `ec2QueryName`. Type codes: 0 string, 1 number, 2 boolean,
 * 4–7 timestamp, 21 blob.
 */
type Schema = unknown[];
type SchemaRef = number | (() => Schema) | Schema;

const SIMPLE_TYPES: Record<number, string> = { 0: 'string', 1: 'double', 2: 'boolean', 4: 'timestamp', 5: 'timestamp', 6: 'timestamp', 7: 'timestamp', 21: 'blob' };

/** Splits a member schema into its target (type code or schema) and its traits. */
function targetOf(ref: SchemaRef): { type?: number; schema?: Schema; traits: Record<string, string> } {
  if (typeof ref === 'number') return { type: ref, traits: {} };
  if (typeof ref === 'function') return { schema: ref(), traits: {} };
  // [target, traits] (a member) or a schema itself (its first element is its kind)
  if (ref.length === 2 && (typeof ref[0] === 'number' || typeof ref[0] === 'function') && typeof ref[1] === 'object') {
    const inner = targetOf(ref[0] as SchemaRef);
    return { ...inner, traits: (ref[1] ?? {}) as Record<string, string> };
  }
  return { schema: ref, traits: {} };
}

/**
 * Walks every operation's input and output in both models side by side (aws-sdk v2's
 * min.json names its shared shapes S1, S2…, so shapes are matched by position, not by
 * name) and adds the members only @aws-sdk/client-ec2 has.
 */
function addNewerMembers(model: RawModel, v3: Record<string, unknown>): number {
  let count = 0;
  const visited = new Set<RawShape>();
  const body = (node: RawShape): RawShape => (node.shape ? model.shapes[node.shape]! : node);
  const walk = (node: RawShape, ref: SchemaRef): void => {
    const t = targetOf(ref);
    if (!t.schema) return;
    const shape = body(node);
    if (visited.has(shape)) return;
    visited.add(shape);
    const kind = t.schema[0];
    if (kind === 3 && shape.type === 'structure') {
      shape.members ??= {};
      const names = t.schema[4] as string[];
      const refs = t.schema[5] as SchemaRef[];
      names.forEach((name, i) => {
        const existing = shape.members![name];
        if (existing) walk(existing, refs[i]!);
        else {
          const converted = convert(refs[i]!, new Set());
          if (converted) {
            shape.members![name] = converted;
            count++;
          }
        }
      });
    } else if (kind === 1 && shape.type === 'list' && shape.member) {
      walk(shape.member, t.schema[4] as SchemaRef);
    } else if (kind === 2 && shape.type === 'map' && shape.value) {
      walk(shape.value, t.schema[5] as SchemaRef);
    }
  };
  for (const [name, op] of Object.entries(model.operations)) {
    const schema = v3[`${name}$`];
    if (!Array.isArray(schema) || schema[0] !== 9) continue;
    if (op.input) walk(op.input, schema[4] as SchemaRef);
    if (op.output) walk(op.output, schema[5] as SchemaRef);
    else {
      // an output v2 did not know (DeleteSecurityGroup now answers Return and GroupId)
      const output = convert(schema[5] as SchemaRef, new Set());
      if (output?.type === 'structure' && Object.keys(output.members ?? {}).length > 0) {
        op.output = output;
        count += Object.keys(output.members!).length;
      }
    }
  }
  return count;
}

/** A member only @aws-sdk/client-ec2 has, as a v2 raw member (undefined for documents and cycles). */
function convert(ref: SchemaRef, seen: Set<Schema>): RawShape | undefined {
  const t = targetOf(ref);
  const naming: RawShape = {
    ...(t.traits.xmlName ? { locationName: t.traits.xmlName } : {}),
    ...(t.traits.ec2QueryName ? { queryName: t.traits.ec2QueryName } : {}),
  };
  if (t.type !== undefined) {
    const type = SIMPLE_TYPES[t.type];
    return type ? { type, ...naming } : undefined;
  }
  const schema = t.schema!;
  if (seen.has(schema)) return undefined;
  const inner = new Set(seen).add(schema);
  switch (schema[0]) {
    case 3: {
      const members: Record<string, RawShape> = {};
      const names = schema[4] as string[];
      const refs = schema[5] as SchemaRef[];
      names.forEach((name, i) => {
        const m = convert(refs[i]!, inner);
        if (m) members[name] = m;
      });
      return { type: 'structure', members, ...naming };
    }
    case 1: {
      const member = convert(schema[4] as SchemaRef, inner);
      return member ? { type: 'list', member, ...naming } : undefined;
    }
    case 2: {
      const key = convert(schema[4] as SchemaRef, inner);
      const value = convert(schema[5] as SchemaRef, inner);
      return key && value ? { type: 'map', key, value, ...naming } : undefined;
    }
    default: {
      // a simple type with traits of its own, e.g. [0, ns, name, traits, 0]
      const type = typeof schema[4] === 'number' ? SIMPLE_TYPES[schema[4]] : undefined;
      return type ? { type, ...naming } : undefined;
    }
  }
}

/** What one generated model is made from. */
interface Source {
  /** file name under src/protocol/model/: `<file>.generated.json` */
  file: string;
  /** the aws-sdk v2 model, `apis/<uid>.min.json` */
  uid: string;
  /** only these operations (and the shapes they reach); all when absent */
  operations?: readonly string[];
  /** a v3 client whose schemas add members aws-sdk v2 lacks */
  v3Client?: string;
}

const SOURCES: readonly Source[] = [
  { file: 'ec2', uid: 'ec2-2016-11-15', v3Client: '@aws-sdk/client-ec2' },
  { file: 'sts', uid: 'sts-2011-06-15', operations: ['GetCallerIdentity'] },
  // Only what Overcast implements: the whole SSM model is ~150 operations and would cost start-up time.
  { file: 'ssm', uid: 'ssm-2014-11-06', operations: ['GetParameter', 'GetParameters', 'GetParametersByPath'] },
];

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function generate(source: Source): string {
  const raw = require(`aws-sdk/apis/${source.uid}.min.json`) as RawModel;
  const added = source.v3Client ? addNewerMembers(raw, require(source.v3Client) as Record<string, unknown>) : 0;
  const protocol: 'ec2' | 'query' | 'json' =
    raw.metadata.protocol === 'ec2' ? 'ec2' : raw.metadata.protocol === 'query' ? 'query' : raw.metadata.protocol === 'json' ? 'json' : (() => {
      throw new Error(`${source.uid}: protocol ${raw.metadata.protocol} is not supported`);
    })();

  const shapes: CompactShape[] = [];
  const named = new Map<string, number>();
  const scalars = new Map<string, number>();

  const resolve = (node: RawShape): RawShape => (node.shape ? { ...raw.shapes[node.shape], ...node, shape: undefined } : node);

  const add = (node: RawShape): number => {
    // Named shape: one index shared by all users, reserved before recursion (recursive shapes).
    if (node.shape && !node.type) {
      const existing = named.get(node.shape);
      if (existing !== undefined) return existing;
      const idx = shapes.length;
      shapes.push({ k: 'string' });
      named.set(node.shape, idx);
      shapes[idx] = build(raw.shapes[node.shape]!);
      return idx;
    }
    const body = node.shape ? resolve(node) : node;
    const type = body.type ?? 'string';
    if (type !== 'structure' && type !== 'list' && type !== 'map') {
      const key = type + (body.timestampFormat ?? '');
      const existing = scalars.get(key);
      if (existing !== undefined) return existing;
      const idx = shapes.length;
      shapes.push(build(body));
      scalars.set(key, idx);
      return idx;
    }
    const idx = shapes.length;
    shapes.push({ k: 'string' });
    shapes[idx] = build(body);
    return idx;
  };

  const build = (body: RawShape): CompactShape => {
    const type = body.type ?? 'string';
    switch (type) {
      case 'structure': {
        const members: MemberDef[] = [];
        for (const [name, m] of Object.entries(body.members ?? {})) {
          // EC2 query names are the capitalized locationName (or queryName); awsQuery and JSON use locationName or the name.
          const queryName = protocol === 'ec2' ? (m.queryName ?? (m.locationName ? capitalize(m.locationName) : name)) : (m.locationName ?? name);
          const xmlName = m.locationName ?? name;
          members.push([name, queryName, xmlName, add(m)]);
        }
        return body.required?.length ? { k: 'structure', m: members, r: body.required } : { k: 'structure', m: members };
      }
      case 'list': {
        const member = body.member ?? {};
        const memberName = member.locationName ?? 'member';
        return { k: 'list', m: add(member), n: memberName, ...(body.flattened ? { f: 1 as const } : {}) };
      }
      case 'map': {
        return { k: 'map', key: add(body.key ?? {}), value: add(body.value ?? {}) };
      }
      case 'string': case 'integer': case 'long': case 'boolean': case 'timestamp':
      case 'blob': case 'double': case 'float':
        return { k: type };
      default:
        throw new Error(`unknown shape type ${type}`);
    }
  };

  const operations: CompactModel['operations'] = {};
  for (const [name, op] of Object.entries(raw.operations).sort(([a], [b]) => a.localeCompare(b))) {
    if (source.operations && !source.operations.includes(name)) continue;
    const input = op.input ? add(op.input) : -1;
    const output = op.output ? add(op.output) : -1;
    operations[name] = protocol === 'query' && op.output?.resultWrapper ? [input, output, op.output.resultWrapper] : [input, output];
  }
  for (const name of source.operations ?? []) if (!operations[name]) throw new Error(`${source.uid}: no operation ${name}`);

  const from = `aws-sdk/apis/${source.uid}.min.json${source.v3Client ? ` and ${source.v3Client} schemas` : ''}`;
  const ns = raw.metadata.xmlNamespace;
  const out: CompactModel = {
    generated: `GENERATED by scripts/gen-model.ts from ${from}. Do not edit.`,
    apiVersion: raw.metadata.apiVersion,
    xmlNamespace: ns === undefined ? '' : ns.endsWith('/') ? ns : `${ns}/`,
    operations,
    shapes,
  };
  // EC2's model keeps exactly the fields it always had; the other services say how they are spoken.
  if (protocol !== 'ec2') {
    out.protocol = protocol;
    out.signingName = raw.metadata.signingName ?? raw.metadata.endpointPrefix;
    if (raw.metadata.targetPrefix) out.targetPrefix = raw.metadata.targetPrefix;
    if (raw.metadata.jsonVersion) out.jsonVersion = raw.metadata.jsonVersion;
  }
  const target = fileURLToPath(new URL(`../src/protocol/model/${source.file}.generated.json`, import.meta.url));
  writeFileSync(target, JSON.stringify(out));
  return `wrote ${target}: ${Object.keys(operations).length} operations, ${shapes.length} shapes${source.v3Client ? `, ${added} members from ${source.v3Client}` : ''}`;
}

for (const source of SOURCES) console.log(generate(source));
