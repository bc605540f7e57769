import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handler } from '../../handlers/addCustomer';
import { documentClient } from '../../lib/store/client';
import { captureWrites, costsOf, lookupWith, type WriteCost } from '../support/capacity';
import { ratioOf, type Figure, type Section } from '../support/report';
import { countRoundTrips, describeCounts, total } from '../support/roundTrips';
import { measureRequestKinds, REQUEST_KINDS, ROUND_TRIP_FLOORS, type Measured, type RequestKind } from '../support/scenarios';
import type { Handler } from '../support/requests';

/**
 * Round trips per request kind and write units per registration, through the real handler
 * against DynamoDB Local, counted on the service's own document client.
 */

/** On-demand write request units, us-east-1, since the price cut of November 2024 (was $1.25). */
export const USD_PER_MILLION_WRU = 0.625;

/** Items that must exist after the request: what the floor of its write units is made of. */
export const ITEMS_THAT_MUST_EXIST: Partial<Record<RequestKind, { items: number; why: string }>> = {
  newCustomer: { items: 4, why: 'the customer + mobile, email, externalId' },
  newCustomerFull: { items: 5, why: 'the customer + mobile, email, externalId, card number' },
  merge: { items: 2, why: 'the new profile + the new email' },
};

export interface KindCost {
  measured: Measured;
  costs: WriteCost[];
  /** Units of the transactions that succeeded. */
  transaction: number;
  /** Units DynamoDB Local reported for them. */
  reported: number | undefined;
  /** Units of transactions that were cancelled (billed, if DynamoDB bills cancellations as failed conditional writes). */
  cancelled: number;
  /** Units of the rate counter's UpdateItem. */
  counter: number;
}

export function kindCost(measured: Measured, costs: WriteCost[]): KindCost {
  const sum = (list: WriteCost[]) => list.reduce((s, c) => s + c.units, 0);
  const transactions = costs.filter((c) => c.operation === 'TransactWriteItems' && c.ok);
  const reported = transactions.every((c) => c.reported !== undefined) ? transactions.reduce((s, c) => s + (c.reported ?? 0), 0) : undefined;
  return {
    measured,
    costs,
    transaction: sum(transactions),
    reported,
    cancelled: sum(costs.filter((c) => c.operation === 'TransactWriteItems' && !c.ok)),
    counter: sum(costs.filter((c) => c.operation === 'UpdateItem')),
  };
}

export async function measureKinds(raw: DynamoDBClient): Promise<Record<RequestKind, KindCost>> {
  const client = documentClient();
  const counter = countRoundTrips(client);
  const capture = captureWrites(client);
  try {
    const measured = await measureRequestKinds(handler as Handler, { counter, capture });
    const lookup = lookupWith(raw);
    const result = {} as Record<RequestKind, KindCost>;
    for (const [kind, m] of Object.entries(measured) as [RequestKind, Measured][]) result[kind] = kindCost(m, await costsOf(m.writes, lookup));
    return result;
  } finally {
    counter.detach();
    capture.detach();
  }
}

function itemsText(cost: WriteCost): string {
  return cost.items.map((i) => `${i.action} ${i.key.replace(/#[^#/ ]+$/, '#…')} ${i.bytes} B → ${i.units}`).join('; ');
}

export function roundTripSection(kinds: Record<RequestKind, KindCost>): Section {
  const order: RequestKind[] = ['newCustomer', 'merge', 'sameSource', 'conflict', 'rejected', 'rateLimited'];
  const figures = order.map((kind): Figure => {
    const m = kinds[kind].measured;
    const { floor, why } = ROUND_TRIP_FLOORS[kind];
    const ratio = ratioOf(m.httpRequests, floor);
    const retries = m.httpRequests - total(m.commands);
    return {
      group: 'round trips',
      name: `round trips / ${REQUEST_KINDS[kind]}`,
      value: String(m.httpRequests),
      floor: String(floor),
      ratio,
      target: '= floor',
      met: m.httpRequests <= floor,
      note: `${describeCounts(m.commands)}${retries ? ` (+${retries} retries)` : ''}; HTTP ${m.reply.status}. Floor: ${why}.`,
    };
  });
  return {
    title: 'DynamoDB round trips per request',
    figures,
    notes: [
      'Counted on the service\'s own document client (`documentClient().middlewareStack`): commands by name at `initialize`, HTTP requests at `finalizeRequest` below the retry middleware (so a retry counts). Each request is warm: the till\'s credentials and the org\'s configuration were cached by an earlier request (they are cached per process for 60 s). The same counts are asserted exactly in `test/integration/cost.test.ts`.',
    ],
  };
}

export function writeUnitSection(kinds: Record<RequestKind, KindCost>): Section {
  const order: RequestKind[] = ['newCustomer', 'newCustomerFull', 'merge'];
  const figures: Figure[] = order.map((kind) => {
    const k = kinds[kind];
    const must = ITEMS_THAT_MUST_EXIST[kind]!;
    const floor = 2 * must.items;
    const ratio = ratioOf(k.transaction, floor);
    const transactions = k.costs.filter((c) => c.operation === 'TransactWriteItems' && c.ok);
    const largest = Math.max(...transactions.flatMap((c) => c.items.map((i) => i.bytes)));
    const cancelled = k.cancelled ? ` A cancelled first transaction (the create attempt that found the mobile taken) would add ${k.cancelled} more if DynamoDB bills a cancelled transaction like failed conditional writes.` : '';
    return {
      group: 'write units',
      name: `write units / ${REQUEST_KINDS[kind]}`,
      value: String(k.transaction),
      floor: String(floor),
      ratio,
      target: '= floor',
      met: k.transaction <= floor,
      note:
        `computed: ${transactions.map(itemsText).join(' | ')}. DynamoDB Local reported ${k.reported ?? 'nothing'}. ` +
        `Floor: 2 × ${must.items} items (${must.why}), each ≤ 1 KB. Largest item ${largest} B, ${1024 - largest} B under the 1 KB past which it would cost 4. ` +
        `The rate counter's UpdateItem adds ${k.counter} (a standard write).${cancelled}`,
    };
  });
  const perMillion = (units: number) => `$${(units * USD_PER_MILLION_WRU).toFixed(2)}`;
  for (const kind of ['newCustomer', 'newCustomerFull'] as RequestKind[]) {
    const k = kinds[kind];
    const units = k.transaction + k.counter;
    const floorUnits = 2 * ITEMS_THAT_MUST_EXIST[kind]!.items + 1;
    figures.push({
      group: 'write units',
      name: `cost / million ${kind === 'newCustomer' ? 'typical' : 'full'} registrations`,
      value: `${perMillion(units)} (${units} WRU each)`,
      floor: `${perMillion(floorUnits)} (${floorUnits} WRU)`,
      ratio: ratioOf(units, floorUnits),
      target: '= floor',
      met: units <= floorUnits,
      note: `transaction ${k.transaction} + rate counter ${k.counter} write request units at $${USD_PER_MILLION_WRU} per million WRU (DynamoDB on-demand, us-east-1, since November 2024; $1.25 before, which doubles these). Storage and reads not included.`,
    });
  }
  return {
    title: 'Write capacity units per registration',
    figures,
    notes: [
      'Method: every write the client sends asks for `ReturnConsumedCapacity: TOTAL` (a middleware at `initialize`), and its marshalled input is recorded at `build`. The units reported are computed from those items exactly as DynamoDB bills them: item size = sum of attribute name and value sizes (strings in UTF-8 bytes, numbers 1 byte per 2 significant digits + 1, maps and lists 3 bytes + 1 per element), 1 unit per started KB, ×2 for every item of a TransactWriteItems, a ConditionCheck billed by the size of the item it checks. Does DynamoDB Local return ConsumedCapacity for transactions? It returns one, but not DynamoDB\'s figure (checked: 2 for a transaction of four small Puts, which DynamoDB bills 8; 6 for two Puts of 2.5 KB, billed 12; nothing for a cancelled transaction; PutItem and UpdateItem alone are right), so the computed figure is the one reported and Local\'s is shown as "reported".',
    ],
  };
}
