/** The compact form of an AWS API model that scripts/gen-model.ts writes and protocol/ compiles. */

/** [member name, query (request) name, XML (response) name, shape index] */
export type MemberDef = [name: string, queryName: string, xmlName: string, shape: number];

export type ScalarKind = 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'blob' | 'double' | 'float';

export type CompactShape =
  | { k: 'structure'; m: MemberDef[]; r?: string[] }
  | { k: 'list'; m: number; n: string; f?: 1 }
  | { k: 'map'; key: number; value: number }
  | { k: ScalarKind };

export interface CompactModel {
  generated: string;
  apiVersion: string;
  xmlNamespace: string;
  /** operation name -> [input shape index, output shape index]; -1 when absent */
  operations: Record<string, [number, number]>;
  shapes: CompactShape[];
}
