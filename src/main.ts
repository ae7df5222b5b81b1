#!/usr/bin/env node
/** The `overcast` command line. */
import packageJson from '../package.json' with { type: 'json' };
import { ec2Modules } from './api/ec2/index.js';
import { CONFIG_OPTIONS, ConfigError, loadConfig } from './config.js';
import { HOST_USAGE, runHostCommand } from './host-reset.js';
import { IMAGE_USAGE, runImageCommand } from './images-command.js';
import { RuntimeUnavailable } from './reconcile/index.js';
import { ListenError, startServer } from './server.js';

const USAGE = `overcast — a self-hosted, EC2-compatible compute cloud

Usage:
  overcast server [options]   start the EC2 endpoint
  overcast server --help      this text
${IMAGE_USAGE}${HOST_USAGE}  overcast help               this text
  overcast --version          the version and the number of EC2 actions served

Options (flag, environment variable, default); a flag wins over its variable:
${CONFIG_OPTIONS.map((o) => `  ${o.flag.padEnd(18)} ${o.env.padEnd(26)} default: ${o.default}\n      ${o.description}`).join('\n')}
`;

const isHelp = (arg: string): boolean => arg === '--help' || arg === '-h';

/** `overcast 0.1.0 (EC2: 131 actions)`: the package's version and the actions the EC2 dispatcher serves. */
function versionLine(): string {
  const actions = ec2Modules.reduce((n, m) => n + Object.keys(m.actions).length, 0);
  return `overcast ${packageJson.version} (EC2: ${actions} actions)\n`;
}

/** Whether `--help` or `-h` stands where a flag is expected (not as the value of the flag before it). */
function wantsHelp(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (isHelp(arg)) return true;
    if (!arg.includes('=') && CONFIG_OPTIONS.some((o) => o.flag === arg)) i++; // skip the flag's value
  }
  return false;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || isHelp(command)) {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(versionLine());
    return 0;
  }
  if (command === 'image') return runImageCommand(rest);
  if (command === 'host') {
    try {
      return await runHostCommand(rest, loadConfig);
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`overcast: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
  }
  if (command !== 'server' && command !== 'up') {
    process.stderr.write(`unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(USAGE);
    return 0;
  }
  let config;
  try {
    config = loadConfig(rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`overcast: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let server;
  try {
    server = await startServer(config, (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
  } catch (e) {
    if (e instanceof ListenError || e instanceof RuntimeUnavailable) {
      process.stderr.write(`overcast: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const keys =
    config.auth === 'any'
      ? '  auth: any access key is accepted (signatures are not checked)'
      : config.credentials.map((c) => `  AWS_ACCESS_KEY_ID=${c.accessKeyId}\n  AWS_SECRET_ACCESS_KEY=${c.secretAccessKey}`).join('\n');
  process.stdout.write(
    `Overcast EC2 endpoint listening on ${server.url}\n` +
      `  data dir: ${config.dataDir}\n  account: ${config.accountId}  regions: ${config.regions.length}  runtime: ${server.runtime === 'container' ? 'container (real instances)' : 'mock (records only)'}\n` +
      `${keys}\n` +
      `Try: aws --endpoint-url ${server.url} --region ${config.defaultRegion} ec2 describe-regions\n`,
  );
  const shutdown = (): void => {
    process.stdout.write('shutting down\n');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
