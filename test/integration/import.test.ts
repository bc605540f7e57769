import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { handler as importWorker } from '../../handlers/importWorker';
import { ImportError } from '../../lib/import/errors';
import { importFile, type ImportOptions, type ImportSummary } from '../../lib/import/importFile';
import { silentProgress } from '../../lib/import/progress';
import { captureStdoutLines } from '../support/logLines';
import { documentClient } from '../../lib/store/client';
import { Entity } from '../../lib/store/keys';
import { sampleMembers } from '../../scripts/sampleMembers';
import { addCustomer, getCustomer } from '../support/customers';
import { codes, lambdaContext, warningCodes } from '../support/http';
import { resultRows } from '../support/importResults';
import { recordOperations } from '../support/operations';
import { customerItems, inTable, useDemoTable } from '../support/table';

// The importer (SPEC section 9) over DynamoDB Local: the same per-line core as a single add, so a
// file gives the same table as the same bodies sent one by one through POST /v2/customers; a
// job stopped in the middle and run again finishes with no duplicate and no line lost; CSV
// columns map to the body; a file the job cannot go through fails before anything is written;
// and the Step Functions worker registers Distributed Map batches through the same core.

const table = useDemoTable();
const dir = mkdtempSync(join(tmpdir(), 'import-test-'));

function fileOf(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((line) => `${line}\n`).join(''));
  return path;
}

const run = (file: string, options: Partial<ImportOptions> = {}): Promise<ImportSummary> =>
  importFile({ file, orgId: 100, rate: 100_000, concurrency: 16, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 }, ...options });

const resultsOf = resultRows;

/**
 * What the registrations left in the table, independent of random customer ids and of clocks:
 * each customer is named by the identifiers it owns, and times and write tokens are left out.
 */
async function tableShape(): Promise<string[]> {
  const items = await customerItems();
  const owned = new Map<number, string[]>();
  for (const item of items.filter((i) => i.entity === Entity.identifier)) {
    const id = Number(item.customerId);
    owned.set(id, [...(owned.get(id) ?? []), String(item.pk).replace(/^ORG#\d+#ID#/, '')]);
  }
  const label = (id: number) => `customer(${(owned.get(id) ?? []).sort().join(' ')})`;
  const ids = [...owned.keys()];
  const normalise = (value: unknown, key = ''): unknown => {
    if (Array.isArray(value)) return value.map((v) => normalise(v));
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          // `origin`: an import's items say so, for the events derived from them (events.test.ts);
          // `recordKeys`: an import's lines carry idempotency keys, the sequential adds none;
          // `changedBy`, `requestId`: which request made the item, different for every request.
          .filter(
            ([k]) =>
              ![
                'writtenBy',
                'createDate',
                'issuedDate',
                'expiresAt',
                'origin',
                'changedAt',
                'changedBy',
                'requestId',
                'recordKeys',
              ].includes(k),
          )
          .map(([k, v]) => [k, normalise(v, k)]),
      );
    }
    if (typeof value === 'number' && ids.includes(value) && ['id', 'customerId'].includes(key)) return label(value);
    if (typeof value === 'string') return value.replace(/CUSTOMER#(\d+)/, (_, id: string) => `CUSTOMER#${label(Number(id))}`);
    return value;
  };
  return items.map((item) => JSON.stringify(normalise(item))).sort();
}

/** The codes a reply carries as the results file writes them: errors, then warnings, each once. */
const replyCodes = (reply: { body: unknown }) => [...new Set([...codes(reply as never), ...warningCodes(reply as never)])].join(' ');

// A sample of org 100's members with every kind of line the importer must get right, and a line
// cut short by a broken export in the middle.
const SAMPLE = [...sampleMembers({ count: 220, seed: 11 })];
SAMPLE.splice(100, 0, '{"profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "val');

describe('a JSON Lines file with duplicates, merges, placeholders and invalid lines', () => {
  const file = fileOf('sample.jsonl', SAMPLE);
  let summary: ImportSummary;
  let sequentialShape: string[];
  const sequential: { status: number; codes: string }[] = [];

  beforeAll(async () => {
    summary = await run(file);
    sequentialShape = await inTable(`${table.name()}-sequential`, async () => {
      for (const line of SAMPLE) {
        const reply = await addCustomer(undefined, { rawBody: line });
        sequential.push({ status: reply.status, codes: replyCodes(reply) });
      }
      return tableShape();
    });
  }, 120_000);

  it('holds every kind of line the importer must get right', () => {
    const all = sequential.map((s) => s.codes).join(' ');
    expect(sequential.filter((s) => s.status === 200).length).toBeGreaterThan(150);
    for (const code of ['8006', '8050', '8014', '400']) expect(all.split(' ')).toContain(code);
  });

  it('goes through the whole file and counts every line once', () => {
    expect(summary.complete).toBe(true);
    const { created, merged, replayed, rejected } = summary.total;
    expect(created + merged + replayed + rejected).toBe(SAMPLE.length);
    expect(replayed).toBe(0);
  });

  it('answers each line what a single add of its body answers, in file order', () => {
    const rows = resultsOf(summary);
    expect(rows.map((r) => r.line)).toEqual(SAMPLE.map((_, i) => i + 1));
    expect(rows.map((r) => ({ status: r.status, codes: r.codes }))).toEqual(sequential);
    for (const row of rows) expect(row.customerId === '').toBe(row.status !== 200);
  });

  it('leaves the same customers, identifiers and owners as sequential single adds of the same bodies', async () => {
    expect(await tableShape()).toEqual(sequentialShape);
  });

  it('writes every line not answered 200 to the rejects file, verbatim and in order', () => {
    const rejected = resultsOf(summary)
      .filter((r) => r.status !== 200)
      .map((r) => `${SAMPLE[r.line - 1]}\n`)
      .join('');
    expect(readFileSync(summary.paths.rejects, 'utf8')).toBe(rejected);
  });

  it('puts no name or identifier value in the results file', () => {
    const results = readFileSync(summary.paths.results, 'utf8');
    for (const row of results.trimEnd().split('\n')) expect(row.split(',').slice(0, 5).join(',')).toMatch(/^[\w, ]+$/);
    expect(results).not.toMatch(/@|\+91/);
    const values = SAMPLE.flatMap((line) => {
      try {
        const profiles = (JSON.parse(line) as { profiles?: { firstName?: string; identifiers?: { value?: unknown }[] }[] }).profiles ?? [];
        return profiles.flatMap((p) => [p.firstName, ...(p.identifiers ?? []).map((i) => i.value)]);
      } catch {
        return [];
      }
    });
    // As a whole token: a short value (an invalid mobile's digits) may occur inside a random customer id.
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const value of values) {
      if (typeof value === 'string' && value.length >= 3) expect(results).not.toMatch(new RegExp(`(^|[^\\w])${escape(value)}($|[^\\w])`));
    }
  });

  it('sends only GetItem, PutItem, DeleteItem and TransactWriteItems of Puts and Updates (what the worker role allows)', async () => {
    const recorder = recordOperations();
    try {
      const again = await run(fileOf('commands.jsonl', [...sampleMembers({ count: 60, seed: 12 })]));
      expect(again.complete).toBe(true);
    } finally {
      recorder.stop();
    }
    for (const command of recorder.sent) {
      expect(['GetItem', 'PutItem', 'DeleteItem', 'TransactWriteItems', 'Transact/Put', 'Transact/Update']).toContain(command);
    }
  });

  it('run again on the finished job, writes nothing and keeps its results as they were', async () => {
    const before = await customerItems();
    const results = readFileSync(summary.paths.results, 'utf8');
    const again = await run(file);
    expect(again.complete).toBe(true);
    expect(again.skipped).toBe(SAMPLE.length);
    expect(again.total).toEqual(summary.total);
    expect(readFileSync(summary.paths.results, 'utf8')).toBe(results);
    expect(await customerItems()).toEqual(before);
  });
});

describe('a job stopped in the middle', () => {
  it('run again finishes with no duplicate customer and no line lost or written twice', async () => {
    const file = fileOf('stopped.jsonl', SAMPLE);
    const shapes = await inTable(`${table.name()}-stopped`, async () => {
      const stop = new AbortController();
      let written = 0;
      // Few in flight, so that most of the file is still unread when the stop comes.
      const first = await run(file, {
        concurrency: 2,
        signal: stop.signal,
        onLine: () => {
          if (++written === 60) stop.abort();
        },
      });
      expect(first.complete).toBe(false);
      expect(first.prefixLine).toBeGreaterThanOrEqual(60);
      expect(first.prefixLine).toBeLessThan(SAMPLE.length);
      const checkpoint = JSON.parse(readFileSync(first.paths.checkpoint, 'utf8'));
      expect(checkpoint).toMatchObject({ prefixLine: first.prefixLine, complete: false });

      // As if the process died after writing more results than the checkpoint records.
      appendFileSync(first.paths.results, '999,200,1,,created\n');
      appendFileSync(first.paths.rejects, 'not a line of the file\n');

      const second = await run(file);
      expect(second.complete).toBe(true);
      expect(second.skipped).toBe(first.prefixLine);
      const rows = resultsOf(second);
      expect(rows.map((r) => r.line)).toEqual(SAMPLE.map((_, i) => i + 1));
      const rejected = rows.filter((r) => r.status !== 200).map((r) => `${SAMPLE[r.line - 1]}\n`);
      expect(readFileSync(second.paths.rejects, 'utf8')).toBe(rejected.join(''));
      const { created, merged, replayed, rejected: refused } = second.total;
      expect(created + merged + replayed + refused).toBe(SAMPLE.length);
      return { rows, shape: await tableShape() };
    });
    const uninterrupted = await inTable(`${table.name()}-uninterrupted`, async () => {
      const summary = await run(fileOf('uninterrupted.jsonl', SAMPLE));
      return { rows: resultsOf(summary), shape: await tableShape() };
    });
    expect(shapes.shape).toEqual(uninterrupted.shape);
    expect(shapes.rows.map((r) => [r.line, r.status, r.codes])).toEqual(uninterrupted.rows.map((r) => [r.line, r.status, r.codes]));
  }, 120_000);

  it('replays the lines it had finished after the prefix from their records, each written once', async () => {
    await inTable(`${table.name()}-replay`, async () => {
      const lines = [...sampleMembers({ count: 80, seed: 13 })];
      const file = fileOf('replay.jsonl', lines);
      await run(file);
      // Forget the checkpoint: every line is then finished after the (empty) prefix.
      writeFileSync(`${file}.checkpoint.json`, '{}');
      const before = await customerItems();
      const again = await run(file);
      expect(await customerItems()).toEqual(before);
      const rows = resultsOf(again);
      expect(rows.map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
      expect(again.total.created + again.total.merged).toBe(0);
      expect(again.total.replayed).toBeGreaterThan(0);
    });
  });

  it('refuses a --job already run for another file before any line is sent, and registers nothing for it', async () => {
    const body = (mobile: string) =>
      JSON.stringify({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: mobile }] }] });
    const job = `changed-${randomUUID().slice(0, 8)}`;
    const first = await run(fileOf('job-a.jsonl', [body('9123400001')]), { job });
    expect(resultsOf(first)[0]).toMatchObject({ status: 200, outcome: 'created' });
    const before = await customerItems();
    const other = fileOf('job-b.jsonl', [body('9123400002')]);
    await expect(run(other, { job })).rejects.toThrow(new RegExp(`^job ${job} was run for another file`));
    expect(existsSync(`${other}.results.csv`)).toBe(false);
    expect(await customerItems()).toEqual(before);
  });
});

/** Makes the service's client answer a throttling error for transactions while `throttled()` says so. */
function throttleTransactions(throttled: () => boolean): () => void {
  const name = `importThrottle${randomUUID()}`;
  const client = documentClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (/^TransactWrite/.test(context.commandName ?? '') && throttled()) {
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $retryable: { throttling: true },
          $metadata: { httpStatusCode: 400 },
        });
      }
      return next(args);
    },
    { step: 'initialize', name, priority: 'high' },
  );
  return () => client.middlewareStack.remove(name);
}

describe('DynamoDB throttling an import', () => {
  it('backs off and retries a line DynamoDB throttled, and the line is registered once', async () => {
    let refusals = 0;
    const restore = throttleTransactions(() => ++refusals <= 3);
    try {
      const lines = [...sampleMembers({ count: 30, seed: 31 })];
      const summary = await run(fileOf('throttled.jsonl', lines), { retry: { attempts: 6, baseDelayMs: 5, maxDelayMs: 20 } });
      expect(summary.complete).toBe(true);
      expect(refusals).toBeGreaterThan(3);
      expect(resultsOf(summary).map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
      expect(resultsOf(summary).filter((r) => r.status === 503)).toEqual([]);
    } finally {
      restore();
    }
  });

  it('stops when DynamoDB stays throttled, keeps the finished prefix, and a rerun finishes the job', async () => {
    await inTable(`${table.name()}-throttled`, async () => {
      const lines = [...sampleMembers({ count: 120, seed: 32 })];
      const file = fileOf('outage.jsonl', lines);
      let transactions = 0;
      const restore = throttleTransactions(() => ++transactions > 40);
      let first;
      try {
        first = await run(file, { concurrency: 2 }).catch((error: Error) => error);
      } finally {
        restore();
      }
      expect(first).toMatchObject({
        name: 'ImportUnavailable',
        message: expect.stringMatching(/stayed unavailable at line \d+.*run the job again/),
      });
      const checkpoint = JSON.parse(readFileSync(`${file}.checkpoint.json`, 'utf8'));
      expect(checkpoint.complete).toBe(false);
      expect(checkpoint.prefixLine).toBeGreaterThan(0);
      expect(checkpoint.prefixLine).toBeLessThan(lines.length);

      const second = await run(file);
      expect(second.complete).toBe(true);
      expect(resultsOf(second).map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
      const uninterrupted = await inTable(`${table.name()}-throttled-reference`, async () => {
        await run(fileOf('outage-reference.jsonl', lines));
        return tableShape();
      });
      expect(await tableShape()).toEqual(uninterrupted);
    });
  });
});

describe('a stop while DynamoDB is unavailable', () => {
  it('ends the pause before a retry at once, writes no result for the waiting lines, and a rerun finishes with each line once', async () => {
    await inTable(`${table.name()}-stopped-in-pause`, async () => {
      const lines = [...sampleMembers({ count: 150, seed: 33 })];
      const file = fileOf('stopped-in-pause.jsonl', lines);
      let transactions = 0;
      const restore = throttleTransactions(() => ++transactions > 30);
      const stop = new AbortController();
      const pauses: { pauseMs: number; attempt: number; attempts: number }[] = [];
      let first: ImportSummary;
      try {
        // A pause of ten minutes before every retry: the job ends only if the stop cuts it short.
        first = await run(file, {
          concurrency: 4,
          signal: stop.signal,
          retry: { attempts: 8, baseDelayMs: 600_000, maxDelayMs: 600_000 },
          progress: {
            ...silentProgress,
            retrying: (pauseMs, attempt, attempts) => {
              pauses.push({ pauseMs, attempt, attempts });
              stop.abort();
            },
          },
        });
      } finally {
        restore();
      }
      expect(pauses[0]).toEqual({ pauseMs: expect.any(Number), attempt: 1, attempts: 8 });
      expect(pauses[0].pauseMs).toBeGreaterThanOrEqual(300_000);
      expect(first.complete).toBe(false);
      expect(first.prefixLine).toBeLessThan(lines.length);
      expect(resultsOf(first).map((r) => r.line)).toEqual(lines.slice(0, first.prefixLine).map((_, i) => i + 1));
      expect(resultsOf(first).filter((r) => r.status === 503)).toEqual([]);
      expect(JSON.parse(readFileSync(first.paths.checkpoint, 'utf8'))).toMatchObject({ prefixLine: first.prefixLine, complete: false });

      const second = await run(file);
      expect(second.complete).toBe(true);
      expect(second.skipped).toBe(first.prefixLine);
      expect(resultsOf(second).map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
      const uninterrupted = await inTable(`${table.name()}-stopped-in-pause-reference`, async () => {
        await run(fileOf('stopped-in-pause-reference.jsonl', lines));
        return tableShape();
      });
      expect(await tableShape()).toEqual(uninterrupted);
    });
  });
});

/** Makes the service's client hold transactions unanswered while `hung()` says so, until `release` is called. */
function hangTransactions(hung: () => boolean): { release: () => void; held: () => number } {
  const name = `importHang${randomUUID()}`;
  const client = documentClient();
  const waiting: (() => void)[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (/^TransactWrite/.test(context.commandName ?? '') && hung()) await new Promise<void>((resolve) => waiting.push(resolve));
      return next(args);
    },
    { step: 'initialize', name, priority: 'high' },
  );
  return {
    held: () => waiting.length,
    release: () => {
      client.middlewareStack.remove(name);
      waiting.splice(0).forEach((resolve) => resolve());
    },
  };
}

describe('a stop while tries hang', () => {
  it('waits a few seconds for the tries under way, then stops without their results, and a rerun finishes with each line once', async () => {
    await inTable(`${table.name()}-stopped-hung`, async () => {
      const lines = [...sampleMembers({ count: 120, seed: 34 })];
      const file = fileOf('stopped-hung.jsonl', lines);
      let transactions = 0;
      const hang = hangTransactions(() => ++transactions > 30);
      const stop = new AbortController();
      let first: ImportSummary;
      try {
        const running = run(file, { concurrency: 4, signal: stop.signal });
        while (hang.held() < 4) await new Promise((resolve) => setTimeout(resolve, 20));
        stop.abort();
        // The tries never answer until the test lets them: the job ends all the same.
        first = await running;
        expect(first.complete).toBe(false);
        expect(resultsOf(first).map((r) => r.line)).toEqual(lines.slice(0, first.prefixLine).map((_, i) => i + 1));
        expect(JSON.parse(readFileSync(first.paths.checkpoint, 'utf8'))).toMatchObject({ prefixLine: first.prefixLine, complete: false });
      } finally {
        hang.release();
      }
      // The abandoned tries go on and register their lines: the rerun replays those, and writes each once.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const resultsBefore = readFileSync(first.paths.results, 'utf8');
      expect(resultsOf(first)).toHaveLength(first.prefixLine);
      expect(resultsBefore.trimEnd().split('\n')).toHaveLength(first.prefixLine + 1);
      const second = await run(file);
      expect(second.complete).toBe(true);
      expect(resultsOf(second).map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
      const uninterrupted = await inTable(`${table.name()}-stopped-hung-reference`, async () => {
        await run(fileOf('stopped-hung-reference.jsonl', lines));
        return tableShape();
      });
      expect(await tableShape()).toEqual(uninterrupted);
    });
  });
});

describe('a CSV file with a header row', () => {
  const header =
    'firstName,lastName,source,accountId,mobile,email,externalId,cardSeriesId,cardStatus,field.favourite_brand,ext.city,ext.household_size,createDate';
  const full = 'Asha,Rao,INSTORE,,98765 01234,Asha.Rao@Example.com,POS-CSV-1,501,ACTIVE,Acme,Pune,3,2026-01-05T10:00:00+05:30';
  const quoted = '"Ravi, Jr.","Kumar",WECHAT,wx-main,9876501235,,,,,"likes ""Zenith""\nand Lotus",,,';
  const malformed = 'Bad"Quote,Row,INSTORE,,9876501236,,,,,,,,';
  const shortRow = 'Too,Few,INSTORE';
  const noSource = 'No,Source,,,9876501237,,,,,,,,';

  it('maps the documented columns to a body, keeps multi-line quoted fields, and rejects bad rows verbatim under the header', async () => {
    const file = join(dir, 'members.csv');
    writeFileSync(file, [header, full, '', quoted, malformed, shortRow, noSource].join('\r\n') + '\r\n');
    const summary = await run(file);
    expect(summary.complete).toBe(true);
    const rows = resultsOf(summary);
    // Physical line numbers: the header is line 1, a blank line is skipped, the quoted record spans lines 4-5.
    expect(rows.map((r) => [r.line, r.status, r.codes])).toEqual([
      [2, 200, ''],
      [4, 200, ''],
      [6, 400, '400'],
      [7, 400, '400'],
      [8, 400, '8004'],
    ]);
    expect(readFileSync(summary.paths.rejects, 'utf8')).toBe([header, malformed, shortRow, noSource].join('\r\n') + '\r\n');
    expect(summary.paths.rejects).toBe(`${file}.rejects.csv`);

    const asha = (await getCustomer(rows[0].customerId)).body;
    expect(asha.profiles[0]).toMatchObject({
      source: 'INSTORE',
      firstName: 'Asha',
      lastName: 'Rao',
      fields: { favourite_brand: 'Acme' },
    });
    const identifiers = asha.profiles[0].identifiers.map((i: { type: string; value: string }) => `${i.type}:${i.value}`);
    expect(identifiers).toEqual(expect.arrayContaining(['mobile:919876501234', 'email:asha.rao@example.com', 'externalId:POS-CSV-1']));
    expect(JSON.stringify(asha)).toMatch(/"seriesId":501/);
    expect(asha.extendedFields).toMatchObject({ city: 'Pune', household_size: 3 });

    const ravi = (await getCustomer(rows[1].customerId)).body;
    expect(ravi.profiles[0]).toMatchObject({ source: 'WECHAT', accountId: 'wx-main', firstName: 'Ravi, Jr.', lastName: 'Kumar' });
    expect(ravi.profiles[0].fields).toEqual({ favourite_brand: 'likes "Zenith"\nand Lotus' });
  });

  it.each([
    ['without source', 'firstName,mobile', /lacks the required column source/],
    ['without an identifier column', 'firstName,source', /has no identifier column/],
    ['with an unknown column', 'firstName,source,mobile,emial', /unknown columns emial/],
    ['with a column twice', 'source,mobile,Mobile', /has the column Mobile twice/],
  ])('fails clearly for a header %s, before anything is written', async (_, csvHeader, message) => {
    const file = join(dir, `header-${randomUUID()}.csv`);
    writeFileSync(file, `${csvHeader}\nAsha,INSTORE,9876501299\n`);
    const before = await customerItems();
    await expect(run(file)).rejects.toThrow(message);
    await expect(run(file)).rejects.toBeInstanceOf(ImportError);
    expect(existsSync(`${file}.results.csv`)).toBe(false);
    expect(await customerItems()).toEqual(before);
  });
});

describe('a job that cannot go through its file', () => {
  const file = fileOf('one.jsonl', [SAMPLE[0]]);

  it('fails clearly for an unknown org', async () => {
    await expect(run(file, { orgId: 999 })).rejects.toThrow(new ImportError(`org 999 does not exist in table ${table.name()}`));
  });

  it('fails clearly for a till that is not the org’s', async () => {
    await expect(run(file, { till: 'other.till' })).rejects.toThrow('till other.till is not a till of org 100');
  });

  it('fails clearly for a stage whose table does not exist', async () => {
    const previous = process.env.TABLE_NAME;
    process.env.TABLE_NAME = `no-such-table-${randomUUID()}`;
    try {
      await expect(run(file)).rejects.toThrow(/^table no-such-table-.* does not exist$/);
    } finally {
      process.env.TABLE_NAME = previous;
    }
  });

  it('fails clearly for a file that cannot be read', async () => {
    await expect(run(join(dir, 'missing.jsonl'))).rejects.toThrow(/^cannot read .*missing\.jsonl: no such file$/);
    await expect(run(dir)).rejects.toThrow(/it is a directory/);
  });
});

describe('the Step Functions worker', () => {
  const context = () => lambdaContext() as Context;
  const lines = [...sampleMembers({ count: 40, seed: 21 })];
  const job = `worker-${randomUUID().slice(0, 8)}`;
  const batch = (items: unknown[], batchInput: Record<string, unknown> = { orgId: 100, job }) => ({ Items: items, BatchInput: batchInput });

  it('registers a Distributed Map batch of {line, text} items as the importer does, one result per item in order', async () => {
    const before = (await customerItems()).length;
    const output = await importWorker(batch(lines.map((text, i) => ({ line: i + 1, text }))), context());
    expect(output).toMatchObject({ orgId: 100, job });
    expect(output.results.map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
    const local = await run(fileOf('worker.jsonl', lines), { job: `${job}-cli` });
    // The same lines through the CLI against the same table meet the worker's customers: 8006 where the worker created.
    expect(resultsOf(local).filter((r) => r.status === 200 && r.outcome === 'created')).toEqual([]);
    expect((await customerItems()).length).toBeGreaterThan(before);
    for (const result of output.results) expect(result.customerId === undefined).toBe(result.status !== 200);
    expect(output.counts.created).toBeGreaterThan(0);
  });

  it('replays a batch run again (a Step Functions retry): no new customer, the first answers', async () => {
    const event = batch(lines.map((text, i) => ({ line: i + 1, text })));
    const first = await importWorker(event, context());
    const before = await customerItems();
    const again = await importWorker(event, context());
    expect(await customerItems()).toEqual(before);
    expect(again.results.map((r) => [r.line, r.status, r.customerId])).toEqual(first.results.map((r) => [r.line, r.status, r.customerId]));
    expect(again.counts.created + again.counts.merged).toBe(0);
  });

  it('takes the items as the state machine selects them ({line, body}) and as the JSONL reader gives them (parsed lines)', async () => {
    const mobile = (n: number) => `93456${String(n).padStart(5, '0')}`;
    const body = (n: number) => ({ profiles: [{ source: 'ECOMMERCE', identifiers: [{ type: 'mobile', value: mobile(n) }] }] });
    const selected = await importWorker(
      batch([{ line: 7, body: body(1) }], { orgId: '100', job: `${job}-selected`, till: 'store2.till' }),
      context(),
    );
    expect(selected.results).toEqual([{ line: 7, status: 200, customerId: expect.any(Number), codes: [], outcome: 'created' }]);
    expect((await getCustomer(selected.results[0].customerId!)).body.associatedWith).toBe('store2.till');

    const raw = await importWorker(batch([body(2), body(3), 'not a body'], { orgId: 100, job: `${job}-raw` }), context());
    expect(raw.results.map((r) => [r.line, r.status, r.outcome])).toEqual([
      [null, 200, 'created'],
      [null, 200, 'created'],
      [null, 400, 'rejected'],
    ]);
    const rawAgain = await importWorker(batch([body(2), body(3)], { orgId: 100, job: `${job}-raw` }), context());
    expect(rawAgain.results.map((r) => r.outcome)).toEqual(['replayed', 'replayed']);
  });

  it('logs one line per batch with counts and codes, never a name or an identifier value', async () => {
    const logged = await captureStdoutLines(() =>
      importWorker(batch([{ line: 1, text: lines[0] }], { orgId: 100, job: `${job}-log` }), context()),
    );
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      message: 'import batch',
      orgId: 100,
      job: `${job}-log`,
      lines: 1,
      function_name: expect.any(String),
    });
    const text = JSON.stringify(logged);
    const profile = JSON.parse(lines[0]).profiles[0];
    for (const value of [profile.firstName, profile.lastName, ...profile.identifiers.map((i: { value: string }) => i.value)]) {
      expect(text).not.toContain(value);
    }
  });

  it('throws ImportUnavailable, for the state machine to retry the batch, when DynamoDB stays throttled', async () => {
    const restore = throttleTransactions(() => true);
    try {
      const event = batch([{ line: 1, text: lines[1] }], { orgId: 100, job: `${job}-throttled` });
      // Retries stop before the function's deadline (its remaining time less the margin to answer).
      const shortLived = { ...context(), getRemainingTimeInMillis: () => 4000 } as Context;
      const started = Date.now();
      await expect(importWorker(event, shortLived)).rejects.toMatchObject({ name: 'ImportUnavailable' });
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      restore();
    }
  });

  it.each([
    ['no Items', { BatchInput: { orgId: 100, job: 'j' } }, /no Items array/],
    ['no orgId', { Items: [], BatchInput: { job: 'j' } }, /orgId must be a positive integer/],
    ['a bad job id', { Items: [], BatchInput: { orgId: 100, job: 'a b' } }, /must be 1 to 64 letters/],
    ['an unknown org', { Items: [], BatchInput: { orgId: 999, job: 'j' } }, /org 999 does not exist/],
  ])('refuses a batch with %s as ImportInvalidInput (not retried)', async (_, event, message) => {
    await expect(importWorker(event as never, context())).rejects.toMatchObject({
      name: 'ImportInvalidInput',
      message: expect.stringMatching(message),
    });
  });
});
