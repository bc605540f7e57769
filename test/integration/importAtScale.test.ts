import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { handler as importWorker } from '../../handlers/importWorker';
import { importFile } from '../../lib/import/importFile';
import { planImport } from '../../lib/import/planner';
import type { WorkerOutput } from '../../lib/import/worker';
import { DirectoryImportObjects } from '../../lib/ports/importObjects';
import { Entity } from '../../lib/store/keys';
import { sampleMembers } from '../../scripts/sampleMembers';
import { lambdaContext } from '../support/http';
import { resultRows } from '../support/importResults';
import { customerItems, inTable, useDemoTable } from '../support/table';

// An import at scale as the importMembers state machine runs it (SPEC section 9), its states
// played here in order against DynamoDB Local: the planner cuts the members' object into
// batches of whole lines; the Distributed Map hands each planned batch to the worker as
// {"Items": [batch], "BatchInput": {orgId, job, till, key, tag}}; the worker reads the batch's
// bytes and registers its lines. Every byte a file can hold gives the same answers line by line
// as the CLI import of the same file, and the outputs (what ResultWriter writes to S3) hold no
// member's data. The bucket is a directory laid out like it.

useDemoTable();
const bucket = mkdtempSync(join(tmpdir(), 'import-bucket-'));
const objects = new DirectoryImportObjects(bucket);
const context = () => lambdaContext() as Context;

function putObject(name: string, bytes: Buffer): string {
  mkdirSync(join(bucket, 'imports'), { recursive: true });
  writeFileSync(join(bucket, 'imports', name), bytes);
  return `imports/${name}`;
}

/**
 * The run: plan, then every planned batch through the worker, as the map would: one at a time
 * (a map of MaxConcurrency 1, so lines meet in file order as in the CLI), or all at once.
 */
async function runMap(key: string, job: string, limits = { lines: 7, bytes: 4096 }, parallel = false): Promise<WorkerOutput[]> {
  const plan = await planImport({ key, job, run: `${job}-${randomUUID().slice(0, 8)}` }, objects, limits);
  const items = readFileSync(join(bucket, plan.key), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  expect(items).toHaveLength(plan.batches);
  process.env.IMPORT_OBJECTS_DIR = bucket;
  const batchOf = (item: unknown) =>
    importWorker({ Items: [item], BatchInput: { orgId: 100, job, till: null, key, tag: plan.tag } }, context());
  if (parallel) return Promise.all(items.map(batchOf));
  const outputs: WorkerOutput[] = [];
  for (const item of items) outputs.push(await batchOf(item));
  return outputs;
}

// Lines of every kind: members (some sharing identifiers), a BOM on the first line, blank lines,
// CRLF, a line cut short, a line that is not JSON, bytes that are not UTF-8 (two that differ
// only there: never one member), a NUL, and a last line with no newline.
function hostileFile(): { bytes: Buffer; values: string[] } {
  const members = [...sampleMembers({ count: 30, seed: 5 })];
  const mobileLine = (last: number) =>
    Buffer.concat([
      Buffer.from('{"profiles":[{"source":"INSTORE","identifiers":[{"type":"mobile","value":"98450'),
      Buffer.from([0xc3, last]),
      Buffer.from('12345"}]}]}\n'),
    ]);
  const parts = [
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(`${members[0]}\n`),
    Buffer.from('\n'),
    Buffer.from(`${members[1]}\r\n`),
    Buffer.from('{"profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "val\n'),
    Buffer.from('not json at all\n'),
    mobileLine(0x28),
    mobileLine(0x29),
    Buffer.from('{"profiles":[{"source":"INSTORE","firstName":"a\u0000b","identifiers":[{"type":"externalId","value":"nul-1"}]}]}\n'),
    ...members.slice(2, -1).map((line) => Buffer.from(`${line}\n`)),
    Buffer.from(`   \n${members[3]}\n`),
    Buffer.from(members.at(-1)!),
  ];
  const values = members.flatMap((line) => {
    const body = JSON.parse(line) as { profiles: { identifiers: { value: string }[]; firstName?: string }[] };
    return body.profiles.flatMap((p) => [...p.identifiers.map((i) => i.value), ...(p.firstName ? [p.firstName] : [])]);
  });
  return { bytes: Buffer.concat(parts), values };
}

describe('an import at scale: planner, then the worker on each planned batch', () => {
  const { bytes, values } = hostileFile();
  const job = `scale-${randomUUID().slice(0, 8)}`;
  let outputs: WorkerOutput[];
  let cli: { line: number; status: number; codes: string; outcome: string }[];

  beforeAll(async () => {
    const key = putObject(`${job}.jsonl`, bytes);
    outputs = await runMap(key, job);
    const file = join(bucket, key);
    cli = await inTable(`test-cli-${randomUUID()}`, async () => {
      const summary = await importFile({
        file,
        orgId: 100,
        rate: 100_000,
        concurrency: 16,
        job,
        retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      });
      return resultRows(summary).map(({ line, status, codes, outcome }) => ({ line, status, codes, outcome }));
    });
  }, 120_000);

  const rows = () =>
    outputs
      .flatMap((output) => output.results)
      .map((r) => ({ line: r.line as number, status: r.status, codes: r.codes.join(' '), outcome: r.outcome }))
      .sort((a, b) => a.line - b.line);

  it('answers every line as the CLI import of the same file does, numbered as the file', () => {
    expect(rows()).toEqual(cli);
    expect(rows().find((r) => r.line === 1)).toMatchObject({ status: 200 });
  });

  it('rejects the broken lines one by one, never the run: not JSON, not UTF-8 (two such lines stay two rejects)', () => {
    const byLine = new Map(rows().map((r) => [r.line, r]));
    for (const line of [4, 5, 6, 7]) expect(byLine.get(line)).toMatchObject({ status: 400, outcome: 'rejected' });
    const reasons = outputs.flatMap((o) => o.results).filter((r) => r.line === 6 || r.line === 7);
    for (const r of reasons) expect(r.reason).toMatch(/not valid UTF-8/);
    // Blank lines are not results.
    expect(byLine.has(2)).toBe(false);
  });

  it('writes outputs with line numbers, statuses, customer ids, codes and reasons only: no member data', () => {
    const text = JSON.stringify(outputs);
    for (const value of values) expect(text).not.toContain(value);
    for (const result of outputs.flatMap((o) => o.results)) {
      expect(Object.keys(result).sort()).toEqual(expect.arrayContaining(['codes', 'line', 'outcome', 'status']));
      for (const key of Object.keys(result)) expect(['line', 'status', 'customerId', 'codes', 'outcome', 'reason']).toContain(key);
    }
  });

  it('a run started again for the same job, with other batches all at once, replays every line: no new customer', async () => {
    const before = (await customerItems()).filter((i) => i.entity === Entity.customer).length;
    const again = await runMap(`imports/${job}.jsonl`, job, { lines: 3, bytes: 100 }, true);
    const results = again.flatMap((o) => o.results);
    expect(results.filter((r) => r.outcome === 'created' || r.outcome === 'merged')).toEqual([]);
    expect(results.length).toBe(rows().length);
    expect((await customerItems()).filter((i) => i.entity === Entity.customer).length).toBe(before);
  });

  it('a members object replaced after planning is refused as invalid input, not read at the old offsets', async () => {
    const key = putObject(`${job}-changed.jsonl`, Buffer.from(`${[...sampleMembers({ count: 4, seed: 9 })].join('\n')}\n`));
    const plan = await planImport({ key, job: `${job}-changed`, run: 'r1' }, objects, { lines: 2, bytes: 4096 });
    const [item] = readFileSync(join(bucket, plan.key), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    await new Promise((r) => setTimeout(r, 20));
    putObject(`${job}-changed.jsonl`, Buffer.from('{"profiles":[]}\n'));
    const before = (await customerItems()).length;
    await expect(
      importWorker({ Items: [item], BatchInput: { orgId: 100, job: `${job}-changed`, key, tag: plan.tag } }, context()),
    ).rejects.toMatchObject({ name: 'ImportInvalidInput' });
    expect((await customerItems()).length).toBe(before);
  });

  it('the planner refuses a key outside imports/ and a run name Step Functions would not give', async () => {
    await expect(planImport({ key: 'results/x.jsonl', job, run: 'r' }, objects)).rejects.toMatchObject({ name: 'ImportInvalidInput' });
    await expect(planImport({ key: 'imports/../x', job, run: 'r' }, objects)).rejects.toMatchObject({ name: 'ImportInvalidInput' });
    await expect(planImport({ key: `imports/${job}.jsonl`, job, run: 'a/b' }, objects)).rejects.toMatchObject({
      name: 'ImportInvalidInput',
    });
  });
});
