import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { localClient } from '../../scripts/table';

// The current table's stream in the run's DynamoDB Local (a table made by
// `useDemoTable({ stream: true })`), read back as Lambda hands records to the publisher.

function endpoint(): string {
  const value = process.env.DYNAMODB_ENDPOINT;
  if (!value) throw new Error('DYNAMODB_ENDPOINT is not set: run through jest (globalSetup starts DynamoDB Local)');
  return value;
}

let streams: DynamoDBStreamsClient | undefined;
function streamsClient(): DynamoDBStreamsClient {
  // DynamoDB Local's streams endpoint wants a region and credentials like the table's.
  streams ??= new DynamoDBStreamsClient({
    endpoint: endpoint(),
    region: process.env.AWS_REGION || 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return streams;
}

async function streamArn(): Promise<string> {
  const { Table } = await localClient(endpoint()).send(new DescribeTableCommand({ TableName: process.env.TABLE_NAME! }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${process.env.TABLE_NAME} has no stream: use useDemoTable({ stream: true })`);
  return Table.LatestStreamArn;
}

/** Parents before their children, so that the records of one item stay in order. */
function inLineage(shards: Shard[]): Shard[] {
  const ids = new Set(shards.map((s) => s.ShardId));
  const ordered: Shard[] = [];
  const placed = new Set<string | undefined>();
  const place = (shard: Shard) => {
    if (placed.has(shard.ShardId)) return;
    const parent = shards.find((s) => s.ShardId === shard.ParentShardId);
    if (parent && ids.has(parent.ShardId)) place(parent);
    placed.add(shard.ShardId);
    ordered.push(shard);
  };
  shards.forEach(place);
  return ordered;
}

async function shardsOf(arn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let ExclusiveStartShardId: string | undefined;
  do {
    const { StreamDescription } = await streamsClient().send(new DescribeStreamCommand({ StreamArn: arn, ExclusiveStartShardId }));
    shards.push(...(StreamDescription?.Shards ?? []));
    ExclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
  } while (ExclusiveStartShardId);
  return inLineage(shards);
}

async function recordsOfShard(arn: string, shardId: string): Promise<_Record[]> {
  const { ShardIterator } = await streamsClient().send(
    new GetShardIteratorCommand({ StreamArn: arn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  const records: _Record[] = [];
  let iterator = ShardIterator;
  // An open shard always answers a next iterator: it is read to its end when a page comes back empty.
  while (iterator) {
    const page = await streamsClient().send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    records.push(...(page.Records ?? []));
    if (!page.Records?.length) break;
    iterator = page.NextShardIterator;
  }
  return records;
}

type Attribute = Record<string, unknown>;

/**
 * DynamoDB Local's stream writes an empty map as `{}` where DynamoDB writes `{"M": {}}` (and
 * `unmarshall` refuses `{}`): put the type back, at any depth.
 */
function repaired(value: Attribute): Attribute {
  if (Object.keys(value).length === 0) return { M: {} };
  if (value.M) return { M: repairedImage(value.M) };
  if (value.L) return { L: (value.L as Attribute[]).map(repaired) };
  return value;
}

function repairedImage(image: object): Record<string, Attribute> {
  return Object.fromEntries(Object.entries(image as Record<string, Attribute>).map(([name, value]) => [name, repaired(value)]));
}

/**
 * A record as the Lambda event source mapping delivers it: the creation time in epoch seconds,
 * every attribute value typed.
 */
function asLambdaRecord(record: _Record): DynamoDBRecord {
  const { dynamodb, ...rest } = record;
  const { ApproximateCreationDateTime, Keys, NewImage, OldImage, ...data } = dynamodb ?? {};
  return {
    ...rest,
    eventName: record.eventName,
    dynamodb: {
      ...data,
      ...(ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(ApproximateCreationDateTime.getTime() / 1000) } : {}),
      ...(Keys ? { Keys: repairedImage(Keys) } : {}),
      ...(NewImage ? { NewImage: repairedImage(NewImage) } : {}),
      ...(OldImage ? { OldImage: repairedImage(OldImage) } : {}),
    } as DynamoDBRecord['dynamodb'],
  };
}

/**
 * Every record of the current table's stream, from the trim horizon of every shard, in order:
 * as Lambda delivers them, or with `asReadLocally` as DynamoDB Local's stream and the SDK give
 * them (what serverless-offline-dynamodb-streams hands the publisher under `npm start`).
 */
export async function streamRecords(options: { asReadLocally?: boolean } = {}): Promise<DynamoDBRecord[]> {
  const arn = await streamArn();
  const records: DynamoDBRecord[] = [];
  for (const shard of await shardsOf(arn)) {
    const read = await recordsOfShard(arn, shard.ShardId!);
    records.push(...(options.asReadLocally ? (read as DynamoDBRecord[]) : read.map(asLambdaRecord)));
  }
  return records;
}

/**
 * Reads the stream from where the last read stopped: `next()` answers the records written
 * since the cursor was made or last read (by sequence number, so shards may split).
 */
export async function streamCursor(options: { asReadLocally?: boolean } = {}): Promise<{ next: () => Promise<DynamoDBRecord[]> }> {
  const seen = new Set((await streamRecords(options)).map((r) => r.dynamodb?.SequenceNumber));
  return {
    next: async () => {
      const fresh = (await streamRecords(options)).filter((r) => !seen.has(r.dynamodb?.SequenceNumber));
      for (const record of fresh) seen.add(record.dynamodb?.SequenceNumber);
      return fresh;
    },
  };
}
