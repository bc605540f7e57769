// A customer's history (SPEC section 15): entries in their own partition, keyed by the
// customer's version after each change, written by the stream publisher and read newest first.
//
// An entry is written in a transaction with a check that its customer is not erased, and an
// erase deletes the partition after its tombstone is written: an entry committed before the
// tombstone is found by that (strongly consistent) deletion, and none can be committed after it.
// So no entry outlives an erase, whichever order the stream hands records over in.

import {
  BatchWriteCommand,
  QueryCommand,
  TransactWriteCommand,
  type BatchWriteCommandOutput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { tableName } from '../config';
import type { HistoryEntry, KeyedEntry } from '../customer';
import { send } from './client';
import { Entity, isHistorySortKey, keys } from './keys';
import type { TransactItem } from './plans';

/** The transaction that writes one change's entries, only while the customer is not erased. */
export function planHistoryWrite(orgId: number, customerId: number, entries: KeyedEntry[]): { TransactItems: TransactItem[] } {
  const table = tableName();
  return {
    TransactItems: [
      {
        ConditionCheck: {
          TableName: table,
          Key: keys.customer(orgId, customerId),
          ConditionExpression: 'attribute_exists(pk) AND activity <> :erased',
          ExpressionAttributeValues: { ':erased': 'ERASED' },
        },
      },
      ...entries.map(({ discriminator, entry }) => ({
        Put: {
          TableName: table,
          Item: { ...keys.historyEntry(orgId, customerId, entry.sequence, discriminator), entity: Entity.historyEntry, ...entry },
        },
      })),
    ],
  };
}

/** Writes one change's entries; false when the customer is erased (nothing written). */
export async function writeHistory(orgId: number, customerId: number, entries: KeyedEntry[]): Promise<boolean> {
  if (entries.length === 0) return true;
  try {
    await send(new TransactWriteCommand(planHistoryWrite(orgId, customerId, entries)), ['TransactionCanceledException']);
    return true;
  } catch (error) {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    if ((error as { name?: string }).name === 'TransactionCanceledException' && reasons[0]?.Code === 'ConditionalCheckFailed') return false;
    throw error;
  }
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** The sort key of the page's last entry, when more may follow. */
  last?: string;
}

/** One page of a customer's history, newest first, after the entry whose sort key is `after`. */
export async function readHistory(orgId: number, customerId: number, limit: number, after?: string): Promise<HistoryPage> {
  const pk = keys.historyPartition(orgId, customerId);
  const page = await send<QueryCommandOutput>(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ScanIndexForward: false,
      Limit: limit,
      ...(after ? { ExclusiveStartKey: { pk, sk: after } } : {}),
    }),
  );
  const items = page.Items ?? [];
  return {
    entries: items.map(entryOf),
    ...(page.LastEvaluatedKey ? { last: page.LastEvaluatedKey.sk as string } : {}),
  };
}

/** Every entry of a customer's history, newest first (an export). */
export async function readAllHistory(orgId: number, customerId: number): Promise<HistoryEntry[]> {
  const all: HistoryEntry[] = [];
  let after: string | undefined;
  do {
    const page = await readHistory(orgId, customerId, 1000, after);
    all.push(...page.entries);
    after = page.last;
  } while (after);
  return all;
}

/** Deletes a customer's whole history (its erase); returns how many entries went. */
export async function deleteHistory(orgId: number, customerId: number): Promise<number> {
  const pk = keys.historyPartition(orgId, customerId);
  let deleted = 0;
  for (;;) {
    const page = await send<QueryCommandOutput>(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
        Limit: 500,
      }),
    );
    const found = page.Items ?? [];
    if (found.length === 0) return deleted;
    for (let i = 0; i < found.length; i += 25) {
      let requests = found.slice(i, i + 25).map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const result = await send<BatchWriteCommandOutput>(new BatchWriteCommand({ RequestItems: { [tableName()]: requests } }));
        requests = (result.UnprocessedItems?.[tableName()] ?? []) as typeof requests;
        if (requests.length > 0) await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
    deleted += found.length;
  }
}

/** Whether a cursor's sort key can be an entry's. */
export function isEntryKey(sk: string): boolean {
  return isHistorySortKey(sk);
}

function entryOf(item: Record<string, unknown>): HistoryEntry {
  return {
    at: item.at as string,
    type: item.type as HistoryEntry['type'],
    sequence: item.sequence as number,
    by: item.by as HistoryEntry['by'],
    requestId: (item.requestId as string) ?? '',
    details: (item.details as Record<string, unknown>) ?? {},
  };
}
