/** Runs the real AWS CLI v2 (Debian awscli) and boto3 (Debian python3-boto3) against a test server. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DEFAULT_CREDENTIAL } from '../../src/config.js';

/** Debian's binaries, not whatever a pyenv shim puts first on PATH. */
export const AWS_CLI = '/usr/bin/aws';
export const PYTHON = '/usr/bin/python3';

export function haveAwsCli(): boolean {
  return existsSync(AWS_CLI);
}

export function clientEnv(region: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIAL.secretAccessKey,
    AWS_DEFAULT_REGION: region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    AWS_RETRY_MODE: 'standard',
    AWS_MAX_ATTEMPTS: '1',
    ...extra,
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** An `aws ec2 …` call against `endpoint`; JSON output parsed. Throws with stderr on failure. */
export function awsCli(endpoint: string, region = 'us-east-1') {
  const env = clientEnv(region);
  const raw = (args: string[]) => run(AWS_CLI, ['--endpoint-url', endpoint, '--output', 'json', 'ec2', ...args], env);
  return {
    raw,
    async json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
      const r = await raw(args);
      if (r.code !== 0) throw new Error(`aws ec2 ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as T;
    },
    async text(...args: string[]): Promise<string> {
      const r = await run(AWS_CLI, ['--endpoint-url', endpoint, '--output', 'text', 'ec2', ...args], env);
      if (r.code !== 0) throw new Error(`aws ec2 ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout.trim();
    },
  };
}
