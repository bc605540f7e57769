import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_TABLE, prepareLocalTable, ROOT } from '../support/offline';

// `npm run import` as an operator runs it (SPEC section 9): a file of 10,000 members from
// `npm run sample-members` into the local stage's table of the run's DynamoDB Local, as a child
// process. The import needs no API: it runs the registration core against the table itself.

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const LINES = 10_000;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function npm(args: string[], stdoutFile?: string, started?: (pid: number) => void): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const out = stdoutFile ? openSync(stdoutFile, 'w') : 'pipe';
    const child = spawn(NPM, ['run', '--silent', ...args], {
      cwd: ROOT,
      env: { ...process.env, TABLE_NAME: LOCAL_TABLE, LOG_LEVEL: 'silent' },
      stdio: ['ignore', out, 'pipe'],
      // Its own process group, so that a test can kill -9 npm and the importer under it at once.
      detached: started !== undefined,
    });
    if (started) started(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (typeof out === 'number') closeSync(out);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run import on a generated file of 10,000 members', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-e2e-'));
  const file = join(dir, 'members.jsonl');
  let run: Finished;

  beforeAll(async () => {
    await prepareLocalTable();
    const sample = await npm(['sample-members', '--', '--count', String(LINES), '--seed', '42'], file);
    expect(sample).toMatchObject({ code: 0, stderr: '' });
    run = await npm(['import', '--', '--stage', 'local', '--org', '100', '--rate', '50000', '--concurrency', '16', file]);
  }, 120_000);

  it('goes through the whole file and exits 0', () => {
    expect(run.stderr).not.toMatch(/^import: (?!\d+ lines, \d+% of the file)/m);
    expect(run.code).toBe(0);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(LINES);
  });

  it('ends with a summary of created, merged, replayed and rejected lines by code, rate and elapsed time', () => {
    const [summary, thisRun, outputs] = run.stdout.trim().split('\n');
    const match =
      /^import complete: (\d+) lines of members\.jsonl \(job \w+\): created (\d+), merged (\d+), replayed (\d+), rejected (\d+) \((.+)\)$/.exec(
        summary,
      );
    expect(match).not.toBeNull();
    const [total, created, merged, replayed, rejected] = match!.slice(1, 6).map(Number);
    expect(total).toBe(LINES);
    expect(created + merged + replayed + rejected).toBe(LINES);
    expect(merged).toBeGreaterThan(0);
    expect(replayed).toBe(0);
    // Rejected by code: exact repeats (8006), invalid mobiles (8014), lines that are not JSON (400).
    const byCode: Record<number, number> = Object.fromEntries(match![6].split(', ').map((entry) => entry.split(': ').map(Number)));
    for (const code of [8006, 8014, 400]) expect(byCode[code]).toBeGreaterThan(0);
    expect(Object.values(byCode).reduce((sum: number, n: number) => sum + n, 0)).toBe(rejected);
    expect(thisRun).toMatch(/^this run: 10000 lines in \d+\.\d s, \d+\/s; peak memory \d+ MB$/);
    expect(outputs).toBe(`results: ${file}.results.csv; rejects: ${file}.rejects.jsonl`);
    // Plain progress lines on stderr when it is not a terminal.
    expect(run.stderr).toMatch(/^import: \d+ lines, \d+% of the file, \d+\/s, ETA \S+/m);
  });

  it('writes one result per line, and every line not answered 200 to the rejects file: together all 10,000', () => {
    const rows = readFileSync(`${file}.results.csv`, 'utf8').trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(LINES);
    expect(rows.map((row) => Number(row.split(',')[0]))).toEqual(Array.from({ length: LINES }, (_, i) => i + 1));
    const answered200 = rows.filter((row) => row.split(',')[1] === '200').length;
    const rejects = readFileSync(`${file}.rejects.jsonl`, 'utf8').split('\n').filter(Boolean);
    expect(answered200 + rejects.length).toBe(LINES);
    const checkpoint = JSON.parse(readFileSync(`${file}.checkpoint.json`, 'utf8'));
    expect(checkpoint).toMatchObject({ prefixLine: LINES, complete: true });
  });

  it('run again, skips the finished job at once and exits 0 with the same counts', async () => {
    const again = await npm(['import', '--', '--stage', 'local', '--org', '100', file]);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n')[0]).toBe(run.stdout.split('\n')[0]);
    expect(again.stdout).toMatch(/this run: 0 lines .* after 10000 lines done before/);
  });
});

describe('npm run import refusing a job it cannot do, in one line', () => {
  it('prints its usage for --help', async () => {
    const help = await npm(['import', '--', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run import -- --stage <stage> --org <orgId>/);
  });

  it.each([
    ['an unknown flag', ['--org', '100', '--sped', '9', 'x.jsonl'], 2, /^import: Unknown option '--sped'.* \(see --help\)$/],
    ['a bad rate', ['--org', '100', '--rate', 'fast', 'x.jsonl'], 2, /^import: --rate must be a positive number, not fast \(see --help\)$/],
    [
      'an unknown stage',
      ['--stage', 'mars', '--org', '100', 'x.jsonl'],
      2,
      /^import: unknown stage mars; one of local, asia1, asia2, emea/,
    ],
    [
      'a file that cannot be read',
      ['--stage', 'local', '--org', '100', '/no/such/members.jsonl'],
      1,
      /^import: cannot read \/no\/such\/members\.jsonl: no such file$/,
    ],
  ])('%s', async (_, args, code, message) => {
    const refused = await npm(['import', '--', ...args]);
    expect(refused.code).toBe(code);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr.trim()).toMatch(message);
  });

  it('an unknown org', async () => {
    await prepareLocalTable();
    const dir = mkdtempSync(join(tmpdir(), 'import-e2e-org-'));
    const file = join(dir, 'one.jsonl');
    await npm(['sample-members', '--', '--count', '1'], file);
    const refused = await npm(['import', '--', '--stage', 'local', '--org', '999', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(`import: org 999 does not exist in table ${LOCAL_TABLE}`);
  });
});

/** The line numbers of a results file's rows, in order. */
const resultLines = (file: string) =>
  readFileSync(`${file}.results.csv`, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((row) => Number(row.split(',')[0]));

const everyLine = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

describe('npm run import run twice at once, and killed with SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-e2e-twice-'));

  beforeAll(() => prepareLocalTable(), 60_000);

  it('two copies of one command at once: one runs the job, the other refuses in one line (exit 1); one row per line', async () => {
    const file = join(dir, 'twice.jsonl');
    await npm(['sample-members', '--', '--count', '3000', '--seed', '7'], file);
    const command = ['import', '--', '--stage', 'local', '--org', '100', '--rate', '1000', file];
    const [a, b] = await Promise.all([npm(command), npm(command)]);
    const [ran, refused] = a.code === 0 ? [a, b] : [b, a];
    expect([ran.code, refused.code]).toEqual([0, 1]);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr.trim()).toMatch(
      /^import: job \w+ is already running: pid \d+ on host \S+, since \S+; run it again once that one has stopped$/,
    );
    expect(resultLines(file)).toEqual(everyLine(3000));
  }, 120_000);

  it('killed with SIGKILL mid-file, the same command again takes the job over at once and finishes it; one row per line', async () => {
    const file = join(dir, 'killed.jsonl');
    await npm(['sample-members', '--', '--count', '4000', '--seed', '8'], file);
    const command = ['import', '--', '--stage', 'local', '--org', '100', '--rate', '400', file];
    let group = 0;
    const killed = npm(command, undefined, (pid) => (group = pid));
    // Wait until it has written some rows, then kill the whole process group without warning.
    for (let waited = 0; waited < 60_000; waited += 200) {
      if (existsSync(`${file}.results.csv`) && resultLines(file).length >= 300) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    process.kill(-group, 'SIGKILL');
    expect((await killed).code).not.toBe(0);
    const done = resultLines(file).length;
    expect(done).toBeLessThan(4000);

    const rerun = await npm(['import', '--', '--stage', 'local', '--org', '100', '--rate', '50000', file]);
    expect(rerun.code).toBe(0);
    // Nothing on stderr but the notice and the progress lines.
    expect(rerun.stderr).not.toMatch(/^import: (?!\d+ lines, \d+% of the file|took over job)/m);
    expect(rerun.stderr).toMatch(/^import: took over job \w+ from pid \d+ on host \S+ \(running since \S+\), which is gone$/m);
    expect(resultLines(file)).toEqual(everyLine(4000));
    const summary = /created (\d+), merged (\d+), replayed (\d+), rejected (\d+)/.exec(rerun.stdout)!.slice(1).map(Number);
    expect(summary.reduce((sum, n) => sum + n, 0)).toBe(4000);
  }, 180_000);
});
