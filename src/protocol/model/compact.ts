/** The compact form of an AWS API model that scripts/gen-model.ts writes and protocol/ compiles. */

/** [member name, query (request) name, XML / JSON (wire) name, shape index] */
export type MemberDef = [name: string, queryName: string, xmlName: string, shape: number];

export type ScalarKind = 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'blob' | 'double' | 'float';

export type CompactShape =
  | { k: 'structure'; m: MemberDef[]; r?: string[] }
  | { k: 'list'; m: number; n: string; f?: 1 }
  | { k: 'map'; key: number; value: number }
  | { k: ScalarKind };

/** How a service is spoken: EC2's Query dialect, awsQuery (STS, CloudWatch), awsJson1_1 (SSM, ECS, ECR). */
export type WireProtocol = 'ec2' | 'query' | 'json';

export interface CompactModel {
  generated: string;
  apiVersion: string;
  /** the XML namespace of responses ('' for JSON services) */
  xmlNamespace: string;
  /**
   * operation name -> [input shape index, output shape index, awsQuery result wrapper];
   * -1 when absent
   */
  operations: Record<string, [number, number] | [number, number, string]>;
  shapes: CompactShape[];
  /** absent for EC2 (whose model predates the field): 'ec2' */
  protocol?: WireProtocol;
  /** the SigV4 service name (absent for EC2: 'ec2') */
  signingName?: string;
  /** awsJson: the X-Amz-Target prefix (`AmazonSSM`) */
  targetPrefix?: string;
  /** awsJson: '1.0' or '1.1' */
  jsonVersion?: string;
}

/**
 * One compiled function per shape index, made on first use. While a shape
 * compiles, a shape that refers back to it (recursive shapes) gets a forwarder
 * to the function being made.
 */
export function perShape<F extends (...args: never[]) => unknown>(compile: (index: number) => F): (index: number) => F {
  const made: F[] = [];
  return (index) => {
    const existing = made[index];
    if (existing) return existing;
    made[index] = ((...args: Parameters<F>) => made[index]!(...args)) as F;
    return (made[index] = compile(index));
  };
}
