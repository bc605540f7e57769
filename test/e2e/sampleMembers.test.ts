import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleMembersCommand } from '../../scripts/sampleMembers';
import { ROOT } from '../support/offline';

// `npm run sample-members` as a newcomer types it: `--out FILE` writes a file of members only
// (npm's own banner lines go to stdout, so a redirect of stdout catches them too and the importer
// then rejects them as lines that are not JSON), with one summary line; stdout still works.

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function npm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NPM, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'sample-members-'));

describe('npm run sample-members -- --out FILE', () => {
  it('writes the members to the file and nothing else, and says so in one line', async () => {
    const file = join(dir, 'members.jsonl');
    const run = await npm(['run', 'sample-members', '--', '--count', '300', '--seed', '4', '--out', file]);
    expect(run.code).toBe(0);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(300);
    // The first line is a member, not npm's "> loyalty-customer-registration@0.1.0 sample-members".
    expect(JSON.parse(lines[0])).toHaveProperty('profiles');
    expect(lines.filter((line) => line.startsWith('> '))).toEqual([]);
    expect(run.stderr.trim()).toMatch(new RegExp(`^sample-members: wrote 300 members \\(jsonl, seed 4, \\d+ KB\\) to ${file}$`));
    expect(run.stdout).not.toMatch(/"profiles"/);
  }, 60_000);

  it('writes the same members as stdout does without --out, for the same seed; CSV under its header', async () => {
    const file = join(dir, 'members.csv');
    const written = await npm(['run', 'sample-members', '--', '--count', '50', '--format', 'csv', '--out', file]);
    expect(written.code).toBe(0);
    const printed = await npm(['run', '--silent', 'sample-members', '--', '--count', '50', '--format', 'csv']);
    expect(printed).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe(printed.stdout);
    expect(printed.stdout.split('\n')[0]).toMatch(/^firstName,lastName,source,/);
  }, 60_000);
});

describe('sample-members refusing what it cannot do, in one line', () => {
  async function refused(argv: string[]): Promise<{ code: number; errors: string[]; out: string[] }> {
    const errors: string[] = [];
    const out: string[] = [];
    const code = await sampleMembersCommand(argv, { err: (line) => errors.push(line), out: (line) => out.push(line) });
    return { code, errors, out };
  }

  it('documents --out in its help', async () => {
    const help = await refused(['--help']);
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/^usage: npm run sample-members -- --count N \[--seed N\] \[--format jsonl\|csv\] \[--out FILE\]/);
    expect(help.out.join('\n')).toMatch(/--out FILE/);
  });

  it.each([
    ['no --count', ['--out', 'x.jsonl'], 2, /^sample-members: --count N is required \(see --help\)$/],
    [
      'a count that is not a number',
      ['--count', 'many'],
      2,
      /^sample-members: --count must be a positive integer, not many \(see --help\)$/,
    ],
    [
      'a seed that is not a number',
      ['--count', '5', '--seed', '1.5'],
      2,
      /^sample-members: --seed must be an integer of 0 or more, not 1\.5 \(see --help\)$/,
    ],
    [
      'an unknown format',
      ['--count', '5', '--format', 'xml'],
      2,
      /^sample-members: --format must be jsonl or csv, not xml \(see --help\)$/,
    ],
    ['--out without a file', ['--count', '5', '--out'], 2, /^sample-members: Option '--out <value>' argument missing \(see --help\)$/],
    ['an unknown flag', ['--count', '5', '--output', 'x'], 2, /^sample-members: Unknown option '--output'.* \(see --help\)$/],
    [
      'a file in a directory that does not exist',
      ['--count', '5', '--out', '/no/such/dir/members.jsonl'],
      1,
      /^sample-members: cannot write \/no\/such\/dir\/members\.jsonl: no such directory$/,
    ],
    ['a directory for a file', ['--count', '5', '--out', dir], 1, /^sample-members: cannot write .*: it is a directory$/],
  ])('%s', async (_, argv, code, message) => {
    const result = await refused(argv);
    expect(result.code).toBe(code);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(message);
    expect(result.out).toEqual([]);
  });
});
