/**
 * The README's table of implemented EC2 actions, made from the dispatcher's own
 * modules (src/api/ec2/index.ts): one row per family, named for the file that
 * declares its module, with the family's actions in API order. `npm run gen:actions`
 * rewrites it between the markers; test/cli/actions-table.test.ts fails when it is
 * stale.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ApiModule } from '../src/api/context.js';
import { ec2Modules } from '../src/api/ec2/index.js';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const BEGIN = '<!-- ec2-actions:begin (npm run gen:actions) -->';
export const END = '<!-- ec2-actions:end -->';

const API_DIR = new URL('../src/api/ec2/', import.meta.url);

export interface Family {
  /** the file that declares the family's module, without `.ts` */
  file: string;
  actions: string[];
}

/** Every family the dispatcher serves, in the order of ec2Modules. */
export async function families(): Promise<Family[]> {
  const fileOf = new Map<ApiModule, string>();
  const files = readdirSync(API_DIR).filter((f) => f.endsWith('.ts')).sort();
  for (const f of files) {
    const exports = (await import(pathToFileURL(fileURLToPath(new URL(f, API_DIR))).href)) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      if (ec2Modules.includes(value as ApiModule)) fileOf.set(value as ApiModule, f.slice(0, -'.ts'.length));
    }
  }
  return ec2Modules.map((m) => {
    const file = fileOf.get(m);
    if (file === undefined) throw new Error('a module in ec2Modules is not exported by any file of src/api/ec2/');
    return { file, actions: Object.keys(m.actions).sort() };
  });
}

/** Words written in capitals, with their plurals (`vpcs` -> `VPCs`). */
const ACRONYMS = new Set(['vpc', 'acl', 'eni', 'ebs', 'nat', 'dhcp', 'ipam', 'tgw', 'eip', 'ami', 'vpn']);

/** `internet-gateways` -> `Internet gateways`, `network-acls` -> `Network ACLs` */
function title(file: string): string {
  const words = file.split('-').map((w) => {
    const singular = w.endsWith('s') ? w.slice(0, -1) : w;
    if (ACRONYMS.has(w)) return w.toUpperCase();
    if (ACRONYMS.has(singular)) return `${singular.toUpperCase()}s`;
    return w;
  });
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The table, markers included. */
export async function renderActionsTable(): Promise<string> {
  const fams = await families();
  const total = fams.reduce((n, f) => n + f.actions.length, 0);
  const rows = fams.map((f) => `| ${title(f.file)} (\`${f.file}.ts\`) | ${f.actions.length} | ${f.actions.map((a) => `\`${a}\``).join(', ')} |`);
  return [
    BEGIN,
    `${total} EC2 actions in ${fams.length} families (\`overcast --version\` prints the count).`,
    '',
    '| Family | Actions | Names |',
    '|---|---:|---|',
    ...rows,
    END,
  ].join('\n');
}

/** `readme` with its table replaced by `table`; throws when the markers are missing. */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${BEGIN} … ${END} section`);
  return readme.slice(0, start) + table + readme.slice(end + END.length);
}
