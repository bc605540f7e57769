import { GetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { operationOf, WRITE_OPERATIONS } from './roundTrips';

// Write capacity, two ways:
// - asked of DynamoDB: ReturnConsumedCapacity TOTAL is set on every write the client sends and
//   the ConsumedCapacity that comes back is kept;
// - computed as DynamoDB bills it, from the marshalled items the client sent: an item's size is
//   the sum of its attribute names and values (CapacityUnitCalculations in the DynamoDB
//   developer guide), a write costs 1 unit per started KB of the larger of the old and new item,
//   and every item of a TransactWriteItems (ConditionCheck included, billed by the size of the
//   item it checks) costs twice that.
// DynamoDB Local returns a ConsumedCapacity for TransactWriteItems, but not DynamoDB's (2 for a
// transaction of four small Puts, which DynamoDB bills 8) and none for a cancelled transaction;
// the computed figure is the one reported.
// A write is billed by the larger of the item before and after it. Asked to (`before`), the
// capture reads every item a write touches just before it is sent, through a client that is not
// being measured, so that a Delete is billed by the item it deletes and an Update that shrinks
// an item by what it was.

type Item = Record<string, AttributeValue>;

export interface CapturedWrite {
  operation: string;
  /** The marshalled input, as sent. */
  input: any;
  ok: boolean;
  errorName?: string;
  /** Sum of the ConsumedCapacity DynamoDB returned, if it returned any. */
  reported?: number;
  /**
   * With `before`: the size of each item the write touches as it was just before the write (0: no
   * such item), in the order of its items (a transaction's TransactItems).
   */
  beforeBytes?: number[];
}

export interface WriteCapture {
  writes(): CapturedWrite[];
  reset(): void;
  detach(): void;
}

let installed = 0;

/** The key of each item a marshalled write touches, in order. */
function touchedKeys(operation: string, input: MarshalledWrite): { table: string; key: Item }[] {
  if (operation === 'TransactWriteItems') {
    return (input.TransactItems ?? []).map((action) => {
      const [kind, body] = Object.entries(action)[0];
      return { table: body.TableName, key: kind === 'Put' ? keyOf(body.Item!) : body.Key! };
    });
  }
  if (operation === 'PutItem') return [{ table: input.TableName!, key: keyOf(input.Item!) }];
  if (operation === 'UpdateItem' || operation === 'DeleteItem') return [{ table: input.TableName!, key: input.Key! }];
  return [];
}

/** The parts of a marshalled write's input that name the items it touches. */
interface MarshalledWrite {
  TableName?: string;
  Item?: Item;
  Key?: Item;
  TransactItems?: Record<string, { TableName: string; Item?: Item; Key?: Item }>[];
}

/**
 * Asks for ConsumedCapacity on every write of the client and records each write as sent; with
 * `before`, also the size of every item it touches as it was just before (see `beforeBytes`).
 */
export function captureWrites(client: DynamoDBDocumentClient, options: { before?: Lookup } = {}): WriteCapture {
  installed += 1;
  const askName = `benchAskCapacity${installed}`;
  const recordName = `benchRecordWrites${installed}`;
  let captured: CapturedWrite[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (WRITE_OPERATIONS.has(operationOf(context))) (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      return next(args);
    },
    { step: 'initialize', name: askName, priority: 'low' },
  );
  // At `build` the document client has marshalled the input: the items are as DynamoDB sees them.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = operationOf(context);
      if (!WRITE_OPERATIONS.has(operation)) return next(args);
      const record: CapturedWrite = { operation, input: args.input, ok: false };
      captured.push(record);
      if (options.before) {
        record.beforeBytes = [];
        for (const { table, key } of touchedKeys(operation, args.input as MarshalledWrite)) {
          const item = await options.before(table, key);
          record.beforeBytes.push(item ? itemSize(item) : 0);
        }
      }
      try {
        const result = await next(args);
        record.ok = true;
        record.reported = reportedUnits((result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
        return result;
      } catch (error) {
        record.errorName = (error as { name?: string }).name;
        throw error;
      }
    },
    { step: 'build', name: recordName, priority: 'low' },
  );
  return {
    writes: () => [...captured],
    reset: () => {
      captured = [];
    },
    detach: () => {
      client.middlewareStack.remove(askName);
      client.middlewareStack.remove(recordName);
    },
  };
}

function reportedUnits(consumed: unknown): number | undefined {
  if (consumed === undefined) return undefined;
  const list = (Array.isArray(consumed) ? consumed : [consumed]) as { CapacityUnits?: number }[];
  return list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

// ---- item sizes, as DynamoDB counts them ----

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** 1 byte per two significant digits, plus 1. */
function numberSize(text: string): number {
  const mantissa = text.trim().replace(/^[-+]/, '').split(/[eE]/)[0].replace('.', '');
  const significant = mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, significant.length) / 2) + 1;
}

function binarySize(value: unknown): number {
  if (value instanceof Uint8Array) return value.length;
  if (typeof value === 'string') return Buffer.from(value, 'base64').length;
  return 0;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return binarySize(value.B);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  // Lists and maps: 3 bytes, plus 1 byte per element.
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueSize(element), 0);
  if (value.M !== undefined) {
    return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + utf8(name) + valueSize(element), 0);
  }
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + binarySize(b), 0);
  throw new Error(`unknown attribute value ${JSON.stringify(value)}`);
}

export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);
}

/** Write units of a standard write of an item of this size: 1 per started KB. */
export function unitsOf(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

// ---- units of captured writes ----

export type Lookup = (table: string, key: Item) => Promise<Item | undefined>;

/** Reads an item as it is now (consistently), through a client that is not being measured. */
export function lookupWith(client: DynamoDBClient): Lookup {
  return async (table, key) => (await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

export interface ItemCost {
  action: string;
  key: string;
  bytes: number;
  units: number;
}

export interface WriteCost {
  operation: string;
  ok: boolean;
  /** Computed as DynamoDB bills it. */
  units: number;
  /** What DynamoDB (Local) returned, if anything. */
  reported?: number;
  items: ItemCost[];
}

function keyText(key: Item): string {
  return [key.pk?.S, key.sk?.S].filter(Boolean).join(' / ');
}

function keyOf(item: Item): Item {
  return { pk: item.pk, sk: item.sk };
}

/**
 * Computes what a captured write costs. Items a write did not carry in full (ConditionCheck,
 * Update, Delete) are sized from the table as it is after the request and, when the capture
 * recorded them, from the items as they were before the write: the larger of the two. Without
 * the sizes before, the size after alone is the larger only for writes that never shrink or
 * delete an item (registrations: checked items never change, the rate counter only grows).
 */
async function costOf(write: CapturedWrite, lookup: Lookup): Promise<WriteCost> {
  const items: ItemCost[] = [];
  const stored = async (table: string, key: Item) => {
    const item = await lookup(table, key);
    return item ? itemSize(item) : 0;
  };
  const before = (index: number) => write.beforeBytes?.[index] ?? 0;
  if (write.operation === 'TransactWriteItems') {
    for (const [index, action] of (write.input.TransactItems as Record<string, any>[]).entries()) {
      const [kind, body] = Object.entries(action)[0] as [string, any];
      const key: Item = kind === 'Put' ? keyOf(body.Item) : body.Key;
      const bytes = Math.max(
        before(index),
        kind === 'Put'
          ? Math.max(itemSize(body.Item), write.ok ? 0 : await stored(body.TableName, key))
          : await stored(body.TableName, key),
      );
      items.push({ action: kind, key: keyText(key), bytes, units: 2 * unitsOf(bytes) });
    }
  } else if (write.operation === 'PutItem') {
    const bytes = Math.max(before(0), itemSize(write.input.Item));
    items.push({ action: 'Put', key: keyText(keyOf(write.input.Item)), bytes, units: unitsOf(bytes) });
  } else if (write.operation === 'UpdateItem' || write.operation === 'DeleteItem') {
    const bytes = Math.max(before(0), await stored(write.input.TableName, write.input.Key));
    items.push({ action: write.operation.replace('Item', ''), key: keyText(write.input.Key), bytes, units: unitsOf(bytes) });
  } else if (write.operation === 'BatchWriteItem') {
    for (const requests of Object.values(write.input.RequestItems as Record<string, any[]>)) {
      for (const request of requests) {
        const item: Item = request.PutRequest?.Item ?? request.DeleteRequest?.Key;
        const bytes = itemSize(item);
        items.push({ action: request.PutRequest ? 'Put' : 'Delete', key: keyText(keyOf(item)), bytes, units: unitsOf(bytes) });
      }
    }
  }
  return {
    operation: write.operation,
    ok: write.ok,
    units: items.reduce((sum, i) => sum + i.units, 0),
    reported: write.reported,
    items,
  };
}

export async function costsOf(writes: CapturedWrite[], lookup: Lookup): Promise<WriteCost[]> {
  const costs: WriteCost[] = [];
  for (const write of writes) costs.push(await costOf(write, lookup));
  return costs;
}
