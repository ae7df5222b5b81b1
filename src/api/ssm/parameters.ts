/**
 * Parameter Store reads: GetParameter, GetParameters, GetParametersByPath, over the
 * public AMI parameters (public-parameters.ts). Overcast has no parameters of the
 * account's own yet, so every other name is ParameterNotFound.
 */
import type {
  GetParameterRequest,
  GetParameterResult,
  GetParametersByPathRequest,
  GetParametersByPathResult,
  GetParametersRequest,
  GetParametersResult,
  ParameterStringFilter,
} from '@aws-sdk/client-ssm';
import { Ec2Error } from '../../domain/errors.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { PUBLIC_PARAMETERS, resolvePublicParameters, type PublicParameter } from './public-parameters.js';

const MAX_NAMES = 10;
const MAX_RESULTS = 10;
/** A parameter name hierarchy has at most 15 levels. */
const MAX_LEVELS = 15;

const validation = (message: string): Ec2Error => new Ec2Error('ValidationException', message);

function oneValidationError(value: string, field: string, constraint: string): Ec2Error {
  return validation(`1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`);
}

/**
 * Parameter names as Parameter Store reads them: surrounding spaces are dropped; a
 * space inside is a ValidationException.
 */
function cleanName(name: string): string {
  const trimmed = name.trim();
  if (/\s/.test(trimmed)) {
    throw validation(`Parameter name: can't contain spaces. The parameter name "${trimmed}" is not valid.`);
  }
  return trimmed;
}

/**
 * A name as GetParameter(s) take it: the parameter's name or its ARN (in the caller's
 * region), optionally followed by a selector (`:<version>` or `:<label>`).
 */
function parseName(ctx: RequestContext, asked: string): { name: string; selector?: string } {
  let name = cleanName(asked);
  const arn = `arn:aws:ssm:${ctx.region}:`;
  if (name.startsWith(arn)) {
    // arn:aws:ssm:<region>:<account, empty for public parameters>:parameter/<name>
    const rest = name.slice(arn.length);
    const at = rest.indexOf(':parameter/');
    if (at >= 0) name = rest.slice(at + ':parameter'.length);
  }
  const colon = name.indexOf(':');
  return colon < 0 ? { name } : { name: name.slice(0, colon), selector: name.slice(colon + 1) };
}

/** The parameter found, with the selector asked for applied; undefined when there is none (or not that version). */
function lookUp(found: PublicParameter | undefined, selector: string | undefined): PublicParameter | undefined {
  if (!found || selector === undefined) return found;
  // Public parameters here have one version and no labels.
  if (selector !== String(found.Version)) {
    if (/^\d+$/.test(selector)) {
      throw new Ec2Error('ParameterVersionNotFound', `Systems Manager could not find version ${selector} of ${found.Name}. Verify the version and try again.`);
    }
    return undefined;
  }
  return { ...found, Selector: `:${selector}` };
}

const getParameter = action((ctx, input: GetParameterRequest): GetParameterResult => {
  const { name, selector } = parseName(ctx, input.Name!);
  const [found] = resolvePublicParameters(ctx, [name]);
  const parameter = lookUp(found, selector);
  if (!parameter) throw new Ec2Error('ParameterNotFound', `Parameter ${input.Name!.trim()} not found.`);
  return { Parameter: parameter };
});

const getParameters = action((ctx, input: GetParametersRequest): GetParametersResult => {
  const names = input.Names!;
  if (names.length < 1 || names.length > MAX_NAMES) {
    throw oneValidationError(
      `[${names.join(', ')}]`,
      'names',
      names.length < 1 ? 'Member must have length greater than or equal to 1' : `Member must have length less than or equal to ${MAX_NAMES}`,
    );
  }
  const unique = [...new Set(names.map(cleanName))];
  const parsed = unique.map((asked) => parseName(ctx, asked));
  const resolved = resolvePublicParameters(ctx, parsed.map((p) => p.name));
  const found: PublicParameter[] = [];
  const invalid: string[] = [];
  unique.forEach((asked, i) => {
    let p: PublicParameter | undefined;
    try {
      p = lookUp(resolved[i], parsed[i]!.selector);
    } catch {
      // a version that does not exist: GetParameters lists it as invalid
    }
    if (p) found.push(p);
    else invalid.push(asked);
  });
  return { Parameters: found, InvalidParameters: invalid };
});

/** The ParameterFilters GetParametersByPath supports (Type, KeyId, Label; Equals only). */
function filterTest(filters: readonly ParameterStringFilter[] | undefined): (p: PublicParameter) => boolean {
  const tests: ((p: PublicParameter) => boolean)[] = [];
  for (const f of filters ?? []) {
    const key = f.Key!;
    if (key !== 'Type' && key !== 'KeyId' && key !== 'Label') {
      throw new Ec2Error('InvalidFilterKey', `The following filter key is not valid: ${key}. Valid filter keys include: [Type, KeyId, Label].`);
    }
    if (f.Option !== undefined && f.Option !== 'Equals') {
      throw new Ec2Error('InvalidFilterOption', `The following filter option is not valid: ${f.Option}. Valid options include: [Equals].`);
    }
    const values = f.Values ?? [];
    if (values.length === 0) throw new Ec2Error('InvalidFilterValue', `The following filter values are missing : null for filter key ${key}.`);
    if (key === 'Type') tests.push((p) => values.includes(p.Type));
    // Public parameters are plain Strings: no KMS key, no labels.
    else tests.push(() => false);
  }
  return (p) => tests.every((t) => t(p));
}

/** NextToken: where the next page starts, bound to the path and recursion it was made for. */
function encodeToken(path: string, recursive: boolean, start: number): string {
  return Buffer.from(JSON.stringify({ p: path, r: recursive, s: start })).toString('base64');
}

function decodeToken(token: string, path: string, recursive: boolean): number {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { p?: unknown; r?: unknown; s?: unknown };
    if (t.p === path && t.r === recursive && typeof t.s === 'number' && Number.isSafeInteger(t.s) && t.s >= 0) return t.s;
  } catch {
    // not ours
  }
  throw new Ec2Error('InvalidNextToken', 'The specified token isn\'t valid.');
}

const getParametersByPath = action((ctx, input: GetParametersByPathRequest): GetParametersByPathResult => {
  let path = cleanName(input.Path!);
  if (!path.startsWith('/')) {
    throw validation('The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".');
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (path.split('/').length - 1 > MAX_LEVELS) {
    throw validation(`A parameter name can't have more than ${MAX_LEVELS} levels of hierarchy.`);
  }
  const max = input.MaxResults ?? MAX_RESULTS;
  if (max < 1 || max > MAX_RESULTS) {
    throw oneValidationError(
      String(max),
      'maxResults',
      max < 1 ? 'Member must have value greater than or equal to 1' : `Member must have value less than or equal to ${MAX_RESULTS}`,
    );
  }
  const recursive = input.Recursive === true;
  const prefix = path === '/' ? '/' : `${path}/`;
  // Recursive: everything below the path; otherwise only the path's direct children.
  const names = [...PUBLIC_PARAMETERS.keys()].filter(
    (n) => n.startsWith(prefix) && (recursive || !n.includes('/', prefix.length)),
  );
  const test = filterTest(input.ParameterFilters);
  const all = resolvePublicParameters(ctx, names).filter((p): p is PublicParameter => p !== undefined && test(p));
  const start = input.NextToken === undefined ? 0 : decodeToken(input.NextToken, path, recursive);
  const page = all.slice(start, start + max);
  const next = start + max;
  return { Parameters: page, NextToken: next < all.length ? encodeToken(path, recursive, next) : undefined };
});

export const parametersModule: ApiModule = {
  actions: {
    GetParameter: getParameter,
    GetParameters: getParameters,
    GetParametersByPath: getParametersByPath,
  },
};
