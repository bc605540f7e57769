import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { importFile, type ImportOptions, type ImportSummary } from '../../lib/import/importFile';
import { hashOfFile } from '../../lib/import/job';
import { takeImportLock, type LockHolder } from '../../lib/store/importLocks';
import { keys } from '../../lib/store/keys';
import { sampleMembers } from '../../scripts/sampleMembers';
import { resultRows } from '../support/importResults';
import { allItems, customerItems, useDemoTable } from '../support/table';

// The importer's edges (SPEC section 9) over DynamoDB Local: bytes that are not UTF-8 are
// rejected as they were and never registered; a byte order mark does not cost the first line;
// a rejected line's row says why; a replayed 409 counts as replayed; one importer runs a job at
// a time, a lock left by a process that is gone is taken over, and a job is for one file; and
// results files torn by an earlier run are repaired by the next.

useDemoTable();
const dir = mkdtempSync(join(tmpdir(), 'import-edges-'));

const run = (file: string, options: Partial<ImportOptions> = {}): Promise<ImportSummary> =>
  importFile({ file, orgId: 100, rate: 100_000, concurrency: 16, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 }, ...options });

function fileOf(name: string, lines: (string | Buffer)[]): string {
  const path = join(dir, `${randomUUID().slice(0, 8)}-${name}`);
  writeFileSync(path, Buffer.concat(lines.map((line) => Buffer.concat([Buffer.from(line), Buffer.from('\n')]))));
  return path;
}

const rowsOf = resultRows;

const body = (identifiers: Record<string, unknown>[], source = 'INSTORE') => JSON.stringify({ profiles: [{ source, identifiers }] });
const mobileBody = (mobile: string) => body([{ type: 'mobile', value: mobile }]);
let nextMobile = 0;
const uniqueMobile = () => `95${String(Date.now() % 1e6).padStart(6, '0')}${String(nextMobile++).padStart(2, '0')}`;

describe('bytes that are not UTF-8', () => {
  it('rejects a line that is not valid UTF-8 as it was, byte for byte, and registers nothing for it', async () => {
    // Two members whose externalIds differ only in one undecodable byte: decoded with U+FFFD they would be one.
    const before = '{"profiles": [{"source": "INSTORE", "identifiers": [{"type": "externalId", "value": "EXT-';
    const line = (byte: number) => Buffer.concat([Buffer.from(before), Buffer.from([byte]), Buffer.from('-1"}]}]}')]);
    const valid = mobileBody(uniqueMobile());
    const file = fileOf('bytes.jsonl', [line(0xff), line(0xfe), valid]);
    const itemsBefore = await customerItems();
    const summary = await run(file);

    expect(summary.complete).toBe(true);
    const rows = rowsOf(summary);
    expect(rows.map((r) => [r.line, r.status, r.codes, r.outcome])).toEqual([
      [1, 400, '400', 'rejected'],
      [2, 400, '400', 'rejected'],
      [3, 200, '', 'created'],
    ]);
    expect(rows[0].reason).toBe(`line is not valid UTF-8 (byte ${before.length + 1} of the line)`);
    expect(
      Buffer.compare(readFileSync(summary.paths.rejects), Buffer.concat([line(0xff), Buffer.from('\n'), line(0xfe), Buffer.from('\n')])),
    ).toBe(0);
    const added = (await customerItems()).filter((item) => !itemsBefore.some((b) => b.pk === item.pk && b.sk === item.sk));
    expect(added.filter((i) => String(i.pk).includes('#ID#externalId#'))).toEqual([]);
  });

  it('rejects a CSV row that is not valid UTF-8 under the header, byte for byte', async () => {
    const header = Buffer.from('firstName,source,mobile\r\n');
    const bad = Buffer.concat([
      Buffer.from('Ren'),
      Buffer.from([0xe9]),
      Buffer.from(',INSTORE,'),
      Buffer.from(uniqueMobile()),
      Buffer.from('\r\n'),
    ]);
    const good = Buffer.from(`Asha,INSTORE,${uniqueMobile()}\r\n`);
    const file = join(dir, `${randomUUID().slice(0, 8)}-bytes.csv`);
    writeFileSync(file, Buffer.concat([header, bad, good]));
    const summary = await run(file);
    expect(rowsOf(summary).map((r) => [r.line, r.status, r.reason])).toEqual([
      [2, 400, 'line is not valid UTF-8 (byte 4 of the line)'],
      [3, 200, ''],
    ]);
    expect(Buffer.compare(readFileSync(summary.paths.rejects), Buffer.concat([header, bad]))).toBe(0);
  });

  it('goes through a file of random bytes registering nothing, every line rejected and copied as it was', async () => {
    // Deterministic noise with a line break every 60 bytes or so.
    let seed = 7;
    const noise = Buffer.from(
      Buffer.alloc(16 * 1024, 0).map(() => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % 61 === 0 ? 0x0a : seed % 256;
      }),
    );
    const file = join(dir, `${randomUUID().slice(0, 8)}-noise.jsonl`);
    writeFileSync(file, noise);
    const before = await customerItems();
    const summary = await run(file);

    expect(summary.complete).toBe(true);
    expect(summary.total).toMatchObject({ created: 0, merged: 0, replayed: 0 });
    const rows = rowsOf(summary);
    expect(rows.length).toBeGreaterThan(100);
    expect(rows.every((r) => r.status === 400 || r.status === 413)).toBe(true);
    expect(rows.some((r) => r.reason.startsWith('line is not valid UTF-8'))).toBe(true);
    // The rejects file is exactly the bytes of those lines, in order.
    const lines: Buffer[] = [];
    for (let start = 0; start < noise.length;) {
      const end = noise.indexOf(0x0a, start);
      lines.push(noise.subarray(start, end === -1 ? noise.length : end + 1));
      start = end === -1 ? noise.length : end + 1;
    }
    const expected = Buffer.concat(
      rows.map((r) => lines[r.line - 1]).map((b) => (b[b.length - 1] === 0x0a ? b : Buffer.concat([b, Buffer.from('\n')]))),
    );
    expect(Buffer.compare(readFileSync(summary.paths.rejects), expected)).toBe(0);
    expect(await customerItems()).toEqual(before);
  });

  it('keeps the first line of a JSON Lines file that starts with a byte order mark', async () => {
    const first = mobileBody(uniqueMobile());
    const file = fileOf('bom.jsonl', [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(first)]), mobileBody(uniqueMobile())]);
    const summary = await run(file);
    expect(rowsOf(summary).map((r) => [r.line, r.status, r.outcome])).toEqual([
      [1, 200, 'created'],
      [2, 200, 'created'],
    ]);
  });
});

describe('the reason of a rejected line', () => {
  it('tells a line that is not JSON from a body the schema refuses, and says where', async () => {
    const file = fileOf('reasons.jsonl', ['{"profiles": [', JSON.stringify({ profiles: [{ identifiers: [] }] }), mobileBody('12')]);
    const rows = rowsOf(await run(file));
    expect(rows.map((r) => [r.status, r.codes])).toEqual([
      [400, '400'],
      [400, expect.any(String)],
      [400, '8014 8005'],
    ]);
    expect(rows[0].reason).toBe('line is not JSON');
    expect(rows[1].reason).not.toBe('line is not JSON');
    expect(rows[1].reason).toMatch(/\/profiles\/0/);
    expect(rows[2].reason).toMatch(/^invalid mobile: .* \(at \/profiles\/0\/identifiers\/0\/value\)$/);
    for (const row of rows) expect(row.reason).not.toMatch(/\n/);
  });

  it('leaves out any value of the line that the message quotes (a card number already issued)', async () => {
    const cardNumber = `77${Date.now()}`.slice(0, 14);
    const card = { type: 'card', value: cardNumber, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE' };
    const file = fileOf('card.jsonl', [
      body([{ type: 'mobile', value: uniqueMobile() }, card]),
      body([{ type: 'mobile', value: uniqueMobile() }, card]),
    ]);
    const summary = await run(file);
    const rows = rowsOf(summary);
    expect(rows.map((r) => [r.status, r.codes])).toEqual([
      [200, ''],
      [409, '3009'],
    ]);
    expect(rows[1].reason).toMatch(/^the card number is already issued to a customer \(at \/profiles\/0\)$/);
    expect(readFileSync(summary.paths.results, 'utf8')).not.toContain(cardNumber);
  });

  it('counts a replayed 409 as replayed, as its row says, with the reason first answered', async () => {
    const line = mobileBody(uniqueMobile());
    const file = fileOf('replayed409.jsonl', [line, line]);
    const first = await run(file);
    expect(rowsOf(first).map((r) => [r.status, r.codes, r.outcome])).toEqual([
      [200, '', 'created'],
      [409, '8006', 'rejected'],
    ]);
    expect(first.total).toMatchObject({ created: 1, rejected: 1, rejectedByCode: { 8006: 1 } });
    // Forget the checkpoint: both lines replay from their records.
    writeFileSync(first.paths.checkpoint, '{}');
    const again = await run(file);
    const rows = rowsOf(again);
    expect(rows.map((r) => [r.status, r.codes, r.outcome])).toEqual([
      [200, '', 'replayed'],
      [409, '8006', 'replayed'],
    ]);
    expect(rows[1].reason).toBe(rowsOf(first)[1].reason);
    expect(again.total).toEqual({ created: 0, merged: 0, replayed: 2, rejected: 0, rejectedByCode: {} });
  });
});

/** A process of this host that has exited: its pid is gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

async function holdLock(file: string, holder: Partial<LockHolder>, job?: string): Promise<{ job: string; holder: LockHolder }> {
  const fileHash = await hashOfFile(file);
  const theJob = job ?? fileHash.slice(0, 24);
  const full: LockHolder = {
    host: hostname(),
    pid: process.pid,
    token: randomUUID(),
    since: '2026-01-01T00:00:00.000Z',
    leaseUntil: Date.now() + 60_000,
    ...holder,
  };
  const taken = await takeImportLock({ orgId: 100, job: theJob, fileHash, till: 'demo.till' }, full);
  expect(taken.written).toBe(true);
  return { job: theJob, holder: full };
}

async function jobItem(job: string): Promise<Record<string, unknown> | undefined> {
  const { pk, sk } = keys.importJob(100, job);
  return (await allItems()).find((item) => item.pk === pk && item.sk === sk);
}

const members = (count: number, seed: number) => [...sampleMembers({ count, seed })];

/** Every row's line, once each, in order, for each line of the file that is not blank. */
function expectOneRowPerLine(summary: ImportSummary, lines: string[]): void {
  expect(rowsOf(summary).map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
}

describe('one importer at a time per job', () => {
  it('refuses a second importer of the running job at once, naming the running one; the first completes, one row per line', async () => {
    const lines = members(300, 41);
    const file = fileOf('twice.jsonl', lines);
    const outcomes = await Promise.allSettled([run(file, { rate: 600 }), run(file, { rate: 600 })]);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    const done = outcomes.filter((o): o is PromiseFulfilledResult<ImportSummary> => o.status === 'fulfilled');
    expect(refused).toHaveLength(1);
    expect(done).toHaveLength(1);
    expect(refused[0].reason).toMatchObject({
      name: 'ImportError',
      message: expect.stringMatching(
        new RegExp(
          `^job \\w+ is already running: pid ${process.pid} on host ${hostname()}, since \\S+Z; run it again once that one has stopped$`,
        ),
      ),
    });
    expect(done[0].value.complete).toBe(true);
    expectOneRowPerLine(done[0].value, lines);
    // Released at the end: the job's item stays, with no holder, remembering its file.
    const item = await jobItem(done[0].value.job);
    expect(item).toMatchObject({ entity: 'importJob', fileHash: await hashOfFile(file), till: 'demo.till' });
    expect(item?.holderToken).toBeUndefined();
  });

  it('takes over the lock of a process of this host that is gone, at once, and says so', async () => {
    const lines = members(40, 42);
    const file = fileOf('gone.jsonl', lines);
    const pid = await deadPid();
    const { job } = await holdLock(file, { pid });
    const notices: string[] = [];
    const summary = await run(file, { notice: (message) => notices.push(message) });
    expect(summary.complete).toBe(true);
    expect(notices).toEqual([
      `took over job ${job} from pid ${pid} on host ${hostname()} (running since 2026-01-01T00:00:00.000Z), which is gone`,
    ]);
    expectOneRowPerLine(summary, lines);
  });

  it('refuses while a holder on another host is within its lease, and takes the lock once the lease has passed', async () => {
    const lines = members(20, 43);
    const file = fileOf('elsewhere.jsonl', lines);
    await holdLock(file, { host: 'other-host.example', pid: 4242, leaseUntil: Date.now() + 60_000 });
    await expect(run(file)).rejects.toThrow(/^job \w+ is already running: pid 4242 on host other-host\.example, since /);
    expect(existsSync(`${file}.results.csv`)).toBe(false);

    const file2 = fileOf('elsewhere-expired.jsonl', members(20, 44));
    await holdLock(file2, { host: 'other-host.example', pid: 4242, leaseUntil: Date.now() - 1 });
    expect((await run(file2)).complete).toBe(true);
  });

  it('lets exactly one of two importers take over a gone holder’s lock', async () => {
    const lines = members(200, 45);
    const file = fileOf('race.jsonl', lines);
    await holdLock(file, { pid: await deadPid() });
    const outcomes = await Promise.allSettled([run(file, { rate: 500 }), run(file, { rate: 500 })]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const done = outcomes.find((o): o is PromiseFulfilledResult<ImportSummary> => o.status === 'fulfilled')!;
    expect((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason.message).toMatch(/is already running: pid \d+/);
    expectOneRowPerLine(done.value, lines);
  });

  it('stops writing once its lease runs out unrenewed, and the importer that takes the job over finishes it, one row per line', async () => {
    const lines = members(300, 46);
    const file = fileOf('lease.jsonl', lines);
    // A lease of 600 ms that is never renewed: the first importer may write for 500 ms only.
    const first = run(file, { rate: 150, lock: { leaseMs: 600, renewEveryMs: 3_600_000 } }).catch((error: Error) => error);
    await sleep(900);
    const second = await run(file);
    const stopped = await first;
    expect(stopped).toMatchObject({
      name: 'ImportError',
      message: expect.stringMatching(/^could not renew the lock of job \w+ before its lease ran out/),
    });
    expect(second.complete).toBe(true);
    expectOneRowPerLine(second, lines);
    // Nothing written by the first after the second took over.
    await sleep(200);
    expectOneRowPerLine(second, lines);
  });
});

describe('a job is for one file', () => {
  it('refuses a --job already run with another till, before any line is sent', async () => {
    const job = `till-${randomUUID().slice(0, 8)}`;
    const file = fileOf('till.jsonl', [mobileBody(uniqueMobile())]);
    await run(file, { job });
    await expect(run(file, { job, till: 'store2.till' })).rejects.toThrow(
      `job ${job} was run with till demo.till, not store2.till; run it with --till demo.till, or give it another --job`,
    );
  });
});

describe('results files torn by an earlier run', () => {
  const lines = members(60, 47);
  lines.splice(10, 0, '{"not": "finished"');

  async function tornAndRerun(tear: (results: string) => string, checkpoint?: (c: Record<string, unknown>) => void) {
    const file = fileOf('torn.jsonl', lines);
    const first = await run(file);
    const results = readFileSync(first.paths.results, 'utf8');
    const rejects = readFileSync(first.paths.rejects);
    writeFileSync(first.paths.results, tear(results));
    if (checkpoint) {
      const c = JSON.parse(readFileSync(first.paths.checkpoint, 'utf8'));
      checkpoint(c);
      writeFileSync(first.paths.checkpoint, JSON.stringify(c));
    }
    writeFileSync(first.paths.rejects, Buffer.concat([rejects.subarray(0, 20), rejects]));
    const again = await run(file);
    expect(again.complete).toBe(true);
    expectOneRowPerLine(again, lines);
    // The same answers; rows after the tear are replayed from their records.
    const asFirst = rowsOf(first).map((r) => [r.line, r.status, r.customerId, r.codes, r.reason]);
    expect(rowsOf(again).map((r) => [r.line, r.status, r.customerId, r.codes, r.reason])).toEqual(asFirst);
    expect(Buffer.compare(readFileSync(again.paths.rejects), rejects)).toBe(0);
    const { created, merged, replayed, rejected } = again.total;
    expect(created + merged + replayed + rejected).toBe(lines.length);
    return { first, again };
  }

  it('rebuilds a finished job whose rows were cut mid-line, repeated and lost, keeping the rows before the tear', async () => {
    const { first, again } = await tornAndRerun((results) => {
      const rows = results.split('\n');
      // Header and rows 1-19 kept; row 20 cut short; rows 21-30 lost; rows 31-40 twice.
      return [...rows.slice(0, 20), rows[20].slice(0, 5) + rows[45], ...rows.slice(31, 41), ...rows.slice(31)].join('\n');
    });
    expect(rowsOf(again).slice(0, 19)).toEqual(rowsOf(first).slice(0, 19));
    expect(
      rowsOf(again)
        .slice(19)
        .every((r) => r.outcome === 'replayed' || r.status === 400),
    ).toBe(true);
  });

  it('rebuilds an unfinished job whose checkpoint counts rows the results file does not hold', async () => {
    await tornAndRerun(
      (results) => results.split('\n').slice(0, 30).join('\n') + '\n',
      (c) => Object.assign(c, { complete: false, prefixLine: 45 }),
    );
  });
});
