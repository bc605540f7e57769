import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

// `npm start`'s reader of the table's stream (scripts/serverless/localStream.js): one page handed
// to the publisher at a time, the next read only once it is handled, as Lambda reads a shard.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ShardReader } = require('../../scripts/serverless/localStream.js');

type Callback = (error: Error | null, data?: unknown) => void;

function record(sequence: number) {
  return { dynamodb: { SequenceNumber: String(sequence) } };
}

/** A stream of `pages` (then empty pages), as GetRecords answers it through v2-style callbacks. */
function fakeStream(pages: ReturnType<typeof record>[][], options: { failRead?: { call: number; name: string } } = {}) {
  const calls: { method: string; params: Record<string, unknown> }[] = [];
  let reads = 0;
  const client = {
    getShardIterator(params: Record<string, unknown>, callback: Callback) {
      calls.push({ method: 'getShardIterator', params });
      callback(null, { ShardIterator: `at-${params.SequenceNumber ?? params.ShardIteratorType}` });
    },
    getRecords(params: Record<string, unknown>, callback: Callback) {
      calls.push({ method: 'getRecords', params });
      if (++reads === options.failRead?.call)
        return callback(Object.assign(new Error('iterator expired'), { name: options.failRead.name }));
      callback(null, { Records: pages.shift() ?? [], NextShardIterator: 'next' });
    },
  };
  return { client, calls };
}

/** The plugin's side: a writable whose handler takes `handleMs`, counting reads sent while it handles a page. */
function publisher(handleMs: number) {
  const pages: string[][] = [];
  let handling = false;
  let readsWhileHandling = 0;
  const writable = new Writable({
    objectMode: true,
    write(chunk: ReturnType<typeof record>[], _encoding, done) {
      handling = true;
      pages.push(chunk.map((r) => r.dynamodb.SequenceNumber));
      void sleep(handleMs).then(() => {
        handling = false;
        done();
      });
    },
  });
  return {
    writable,
    pages,
    countRead: () => (readsWhileHandling += handling ? 1 : 0),
    readsWhileHandling: () => readsWhileHandling,
  };
}

test('reads the next page only once the publisher has handled the one before', async () => {
  const { client, calls } = fakeStream([[record(1), record(2)], [record(3)], [record(4), record(5)]]);
  const target = publisher(50);
  const getRecords = client.getRecords.bind(client);
  client.getRecords = (params, callback) => {
    target.countRead();
    getRecords(params, callback);
  };
  const reader = new ShardReader(client, 'arn:stream', { shardId: 'shard-1', iterator: 'LATEST', limit: 100, readInterval: 10 });
  reader.pipe(target.writable);
  reader.resume();
  while (target.pages.length < 3) await sleep(10);
  reader.pause();
  expect(target.pages).toEqual([['1', '2'], ['3'], ['4', '5']]);
  expect(target.readsWhileHandling()).toBe(0);
  expect(calls[0]).toEqual({
    method: 'getShardIterator',
    params: { StreamArn: 'arn:stream', ShardId: 'shard-1', ShardIteratorType: 'LATEST' },
  });
  expect(calls.filter((c) => c.method === 'getRecords').every((c) => c.params.Limit === 100)).toBe(true);
});

test('an expired iterator is reopened after the last record handed over, and nothing is handed over twice', async () => {
  const { client, calls } = fakeStream([[record(7)], [record(8)]], { failRead: { call: 2, name: 'ExpiredIteratorException' } });
  const target = publisher(0);
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const reader = new ShardReader(client, 'arn:stream', { shardId: 'shard-1', startAfter: '6', limit: 100, readInterval: 10 });
  reader.pipe(target.writable);
  reader.resume();
  while (target.pages.length < 2) await sleep(10);
  reader.pause();
  expect(warn).toHaveBeenCalledWith(expect.stringContaining('ExpiredIteratorException'));
  warn.mockRestore();
  expect(target.pages).toEqual([['7'], ['8']]);
  const opened = calls.filter((c) => c.method === 'getShardIterator').map((c) => c.params);
  expect(opened).toEqual([
    { StreamArn: 'arn:stream', ShardId: 'shard-1', ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '6' },
    { StreamArn: 'arn:stream', ShardId: 'shard-1', ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '7' },
  ]);
}, 10_000);
