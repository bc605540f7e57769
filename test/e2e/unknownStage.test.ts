import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT, SERVERLESS } from '../support/offline';

// A mistyped `--stage` is one line naming the stages there are and a non-zero exit, whichever
// command it was given to: nothing is packaged, invoked or read.

const run = promisify(execFile);
const TSX = require.resolve('tsx/cli');
const STAGES = 'local, asia1, asia2, emea';

async function exit(args: string[]) {
  return run(process.execPath, args, { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

test.each([
  ['serverless package --stage nope', [SERVERLESS, 'package', '--stage', 'nope']],
  [
    'serverless invoke local --stage nope',
    [SERVERLESS, 'invoke', 'local', '--stage', 'nope', '-f', 'addCustomer', '-p', 'events/add-customer.json'],
  ],
])(
  '%s prints one line naming the known stages and exits 2',
  async (_name, args) => {
    expect(await exit(args)).toEqual({ code: 2, stdout: '', stderr: `serverless: unknown stage nope; one of ${STAGES}\n` });
  },
  60_000,
);

test.each([
  ['import', ['scripts/import.ts', '--stage', 'nope', '--org', '100', 'events/add-customer.json']],
  ['load-orgs', ['scripts/loadOrgs.ts', '--stage', 'nope', 'config/orgs/demo.json']],
  ['webhook-receiver', ['scripts/webhookReceiver.ts', '--stage', 'nope']],
])(
  'npm run %s -- --stage nope prints one line naming the known stages and exits 2',
  async (name, args) => {
    const result = await exit([TSX, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^${name}: unknown stage nope; one of ${STAGES}( \\(see --help\\))?\\n$`));
  },
  60_000,
);
