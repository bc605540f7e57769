import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handler } from '../../handlers/addCustomer';
import { documentClient } from '../../lib/store/client';
import { captureWrites, costsOf, lookupWith, type WriteCost } from '../support/capacity';
import { ratioOf, type Figure, type Section } from '../support/report';
import { countRoundTrips, describeCounts, total, type Counts } from '../support/roundTrips';
import {
  measureBusyRefusal,
  measureConsecutive,
  measureRequestKinds,
  REQUEST_KINDS,
  ROUND_TRIP_FLOORS,
  type BusyRefusal,
  type CounterRun,
  type Measured,
  type RequestKind,
} from '../support/scenarios';
import type { Handler } from '../support/requests';

// Round trips per request kind and write units per registration, through the real handler
// against DynamoDB Local, counted on the service's own document client.

/** On-demand write request units, us-east-1, since the price cut of November 2024 (was $1.25). */
const USD_PER_MILLION_WRU = 0.625;

/**
 * What the floor of a transaction's write units is made of: items that must be written, plus,
 * for a merge, the re-check of every known identifier the product requires ("a merge re-checks
 * that the identifiers still belong to the customer being merged into") and the update of the
 * customer item that makes changes and erases race-free. 2 units per item of up to 1 KB in a
 * transaction, a ConditionCheck included.
 */
const FLOOR_ITEMS: Partial<Record<RequestKind, { items: number; why: string; reason?: string }>> = {
  newCustomer: { items: 4, why: 'the customer + one per unique identifier value: mobile, email, externalId' },
  newCustomerFull: { items: 5, why: 'the customer + one per unique identifier value: mobile, email, externalId, card number' },
  merge: {
    items: 4,
    why: "the customer item's version update + the new profile + the new email + one re-check per known identifier: the mobile",
    reason:
      'The re-check is in the floor on purpose: the product requirement says "a merge re-checks that the identifiers still belong to the customer being merged into", so every correct merge pays a ConditionCheck per known identifier. ' +
      'So is the update of the customer item (raise `version`, condition `activity = ACTIVE`): it is what makes updates and erases race-free. A change or an erase that read the customer before the merge fails its version condition and reads again, so it never applies over, or erases around, a profile it did not see; and nothing merges into a customer being erased (SPEC section 12: "a registration or merge racing the erase never attaches to the erased customer").',
  },
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
  /** Units of the rate counter's UpdateItem, if this request happened to send one. */
  counter: number;
}

/** The rate counter's share of a request, amortised over consecutive registrations of org 100. */
export interface CounterShare {
  run: CounterRun;
  /** Counter updates per request. */
  updates: number;
  /** Counter write units per request. */
  units: number;
}

export interface DynamoCost {
  kinds: Record<RequestKind, KindCost>;
  counter: CounterShare;
  busyRefusal: BusyRefusal;
}

function kindCost(measured: Measured, costs: WriteCost[]): KindCost {
  const sum = (list: WriteCost[]) => list.reduce((s, c) => s + c.units, 0);
  const transactions = costs.filter((c) => c.operation === 'TransactWriteItems' && c.ok);
  const reported = transactions.every((c) => c.reported !== undefined)
    ? transactions.reduce((s, c) => s + (c.reported ?? 0), 0)
    : undefined;
  return {
    measured,
    costs,
    transaction: sum(transactions),
    reported,
    cancelled: sum(costs.filter((c) => c.operation === 'TransactWriteItems' && !c.ok)),
    counter: sum(costs.filter((c) => c.operation === 'UpdateItem')),
  };
}

export async function measureDynamoCost(raw: DynamoDBClient, consecutive: number): Promise<DynamoCost> {
  const client = documentClient();
  const counter = countRoundTrips(client);
  const capture = captureWrites(client);
  try {
    const measured = await measureRequestKinds(handler as Handler, { counter, capture });
    const lookup = lookupWith(raw);
    const kinds = {} as Record<RequestKind, KindCost>;
    for (const [kind, m] of Object.entries(measured) as [RequestKind, Measured][])
      kinds[kind] = kindCost(m, await costsOf(m.writes, lookup));
    const run = await measureConsecutive(handler as Handler, { counter, capture }, consecutive);
    const counterCosts = await costsOf(
      run.writes.filter((w) => w.operation === 'UpdateItem'),
      lookup,
    );
    const share: CounterShare = {
      run,
      updates: (run.commands.UpdateItem ?? 0) / run.requests,
      units: counterCosts.reduce((s, c) => s + c.units, 0) / run.requests,
    };
    const busyRefusal = await measureBusyRefusal({ counter });
    return { kinds, counter: share, busyRefusal };
  } finally {
    counter.detach();
    capture.detach();
  }
}

function itemsText(cost: WriteCost): string {
  return cost.items.map((i) => `${i.action} ${i.key.replace(/#[^#/ ]+$/, '#…')} ${i.bytes} B → ${i.units}`).join('; ');
}

/** `1`, `1.011`: whole numbers as they are, amortised ones to three decimals. */
function count(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function floorText(floor: { writes: number; counter: number; counterRequired?: boolean }): string {
  return floor.counter === 0 || floor.counterRequired ? String(floor.writes + floor.counter) : `${floor.writes} + ≤ ${floor.counter}`;
}

const transactionsOf = (commands: Counts) => commands.TransactWriteItems ?? 0;
const updatesOf = (commands: Counts) => commands.UpdateItem ?? 0;

export function roundTripSection(cost: DynamoCost): Section {
  const { kinds, counter, busyRefusal } = cost;
  const run = counter.run;
  const share = `${count(counter.updates)} (${updatesOf(run.commands)} UpdateItem in ${run.requests} consecutive registrations of org 100, below)`;
  const figure = (name: string, floorOf: RequestKind, writes: number, updates: number, value: number, note: string): Figure => {
    const floor = ROUND_TRIP_FLOORS[floorOf];
    return {
      group: 'round trips',
      name: `round trips / ${name}`,
      value: count(value),
      floor: floorText(floor),
      ratio: ratioOf(value, floor.writes + floor.counter),
      target: '≤ floor',
      met: writes <= floor.writes && updates <= floor.counter,
      note: `${note} Floor: ${floor.why}.`,
    };
  };
  const single = (m: Measured) => {
    const retries = m.httpRequests - total(m.commands);
    return `${describeCounts(m.commands)}${retries ? ` (+${retries} retries)` : ''}; HTTP ${m.reply.status}`;
  };
  const amortised = (kind: RequestKind, name: string): Figure => {
    const m = kinds[kind].measured;
    const writes = m.httpRequests - updatesOf(m.commands);
    return figure(
      name,
      kind,
      writes,
      counter.updates,
      writes + counter.updates,
      `${writes} write round trip${writes === 1 ? '' : 's'} (${single(m)}, the request alone) + the counter's share per request, ${share}.`,
    );
  };
  const org100 = kinds.newCustomer.measured;
  const figures: Figure[] = [
    figure(
      'new customer, org 100 (100 000/min)',
      'newCustomer',
      transactionsOf(run.commands) / run.requests,
      counter.updates,
      run.httpRequests / run.requests,
      `${run.httpRequests} HTTP requests for ${run.requests} consecutive typical registrations of org 100 on one warm instance: ${describeCounts(run.commands)} ` +
        `(the request measured alone among the kinds sent: ${single(org100)}).`,
    ),
    figure(
      REQUEST_KINDS.newCustomerSmallOrg,
      'newCustomerSmallOrg',
      transactionsOf(kinds.newCustomerSmallOrg.measured.commands),
      updatesOf(kinds.newCustomerSmallOrg.measured.commands),
      kinds.newCustomerSmallOrg.measured.httpRequests,
      `${single(kinds.newCustomerSmallOrg.measured)}: the second request of the limited till; under 200 a minute a block is one request, so every request updates the counter.`,
    ),
    amortised('merge', REQUEST_KINDS.merge),
    amortised('sameSource', REQUEST_KINDS.sameSource),
    amortised('conflict', REQUEST_KINDS.conflict),
    figure(
      REQUEST_KINDS.rejected,
      'rejected',
      transactionsOf(kinds.rejected.measured.commands),
      updatesOf(kinds.rejected.measured.commands),
      kinds.rejected.measured.httpRequests,
      `${single(kinds.rejected.measured)}.`,
    ),
    figure(
      `${REQUEST_KINDS.rateLimited}, org 300 (10/min)`,
      'rateLimited',
      transactionsOf(kinds.rateLimited.measured.commands),
      updatesOf(kinds.rateLimited.measured.commands),
      kinds.rateLimited.measured.httpRequests,
      `${single(kinds.rateLimited.measured)}: the first 429 of the limited till.`,
    ),
    figure(
      `${REQUEST_KINDS.rateLimited}, org of ${busyRefusal.limit}/min`,
      'rateLimited',
      transactionsOf(busyRefusal.first),
      updatesOf(busyRefusal.first),
      busyRefusal.firstHttp,
      `first 429: ${describeCounts(busyRefusal.first)}; the next 429 in the same minute: ${describeCounts(busyRefusal.second)}. ` +
        `An org of ${busyRefusal.limit} a minute (blocks of up to ${Math.max(1, Math.floor(busyRefusal.limit / 100))}) asking \`takeRequest\` directly, as the handler does after validation, on one instance: ` +
        `${busyRefusal.served} requests served with ${busyRefusal.updatesBeforeRefusal} counter updates, then refused.`,
    ),
  ];
  return {
    title: 'DynamoDB round trips per request',
    figures,
    notes: [
      "Counted on the service's own document client (`documentClient().middlewareStack`): commands by name at `initialize`, HTTP requests at `finalizeRequest` below the retry middleware (so a retry counts). Each request is warm: the till's credentials and the org's configuration were cached by an earlier request (they are cached per process for 60 s). The transactions are asserted exactly in `test/integration/cost.test.ts`, the counter as at most one per request, and fewer than one for a busy org.",
      `The rate counter (lib/rateLimit.ts) reserves requests in blocks: a Lambda instance adds a block to the window's count with one conditional UpdateItem and serves it from memory; the block doubles with what the instance has served in the minute, but is no more than it would serve in the rest of the minute at its rate so far, and at most 1% of the limit (one request under 200 a minute). So whether a single request sends an UpdateItem depends on where it falls in its instance's block, and the counter is reported as its share per request: ${run.requests} typical registrations of org 100 sent one after another through the handler on this warm instance (${run.seconds.toFixed(1)} s, ${run.windows} rate window${run.windows === 1 ? '' : 's'}; each new minute starts the blocks again at 1) sent ${describeCounts(run.commands)}: ${count(counter.updates)} counter updates per request, added to the write round trips each kind sends. For a small org (org 300, 10 a minute) it is 1 per request, measured. With the org's requests spread over many instances the share grows: see Rate counter with many instances.`,
      "Floor: the write round trips any implementation needs (one transaction; one more when the owner of a known identifier must be learned first), plus an allowance of at most one rate counter update per counted request (SPEC section 6 asks that every request be counted, not that each pay its own update). Ratio: measured ÷ (write round trips + that allowance), so a busy org's amortised counter shows as a ratio under 1; a figure meets its target when its write round trips equal the floor and its counter updates stay within the allowance.",
    ],
  };
}

export function writeUnitSection(cost: DynamoCost): Section {
  const { kinds, counter } = cost;
  const order: RequestKind[] = ['newCustomer', 'newCustomerFull', 'merge'];
  const figures: Figure[] = order.map((kind) => {
    const k = kinds[kind];
    const floorItems = FLOOR_ITEMS[kind]!;
    const floor = 2 * floorItems.items;
    const ratio = ratioOf(k.transaction, floor);
    const transactions = k.costs.filter((c) => c.operation === 'TransactWriteItems' && c.ok);
    const largest = Math.max(...transactions.flatMap((c) => c.items.map((i) => i.bytes)));
    const cancelled = k.cancelled
      ? ` A cancelled first transaction (the create attempt that found the mobile taken) would add ${k.cancelled} more if DynamoDB bills a cancelled transaction like failed conditional writes.`
      : '';
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
        `Floor: 2 × ${floorItems.items} items (${floorItems.why}), each ≤ 1 KB.${floorItems.reason ? ` ${floorItems.reason}` : ''} Largest item ${largest} B, ${1024 - largest} B under the 1 KB past which it would cost 4.${cancelled}`,
    };
  });
  const usd = (units: number) => `$${(units * USD_PER_MILLION_WRU).toFixed(2)}`;
  for (const kind of ['newCustomer', 'newCustomerFull'] as RequestKind[]) {
    const k = kinds[kind];
    const items = 2 * FLOOR_ITEMS[kind]!.items;
    const units = k.transaction + counter.units;
    figures.push({
      group: 'write units',
      name: `cost / million ${kind === 'newCustomer' ? 'typical' : 'full'} registrations, org 100`,
      value: `${usd(units)} (${count(Number(units.toFixed(3)))} WRU each)`,
      floor: `${usd(items)} + ≤ ${usd(1)} (${items} + ≤ 1 WRU)`,
      ratio: ratioOf(units, items + 1),
      target: '≤ floor',
      met: k.transaction <= items && counter.units <= 1,
      note:
        `transaction ${k.transaction} + rate counter ${count(Number(counter.units.toFixed(3)))} write request units per registration (the counter's share, amortised as under round trips: ${counter.run.requests} consecutive registrations of org 100), ` +
        `at $${USD_PER_MILLION_WRU} per million WRU (DynamoDB on-demand, us-east-1, since November 2024; $1.25 before, which doubles these). ` +
        `An org under 200 a minute pays 1 counter WRU on every request: ${k.transaction + 1} WRU, ${usd(k.transaction + 1)} per million. Storage and reads not included. ` +
        `Floor: the transaction's floor + an allowance of at most one counter update (1 WRU) per request; ratio against both.`,
    });
  }
  return {
    title: 'Write capacity units per registration',
    figures,
    notes: [
      'Method: every write the client sends asks for `ReturnConsumedCapacity: TOTAL` (a middleware at `initialize`), and its marshalled input is recorded at `build`. The units reported are computed from those items exactly as DynamoDB bills them: item size = sum of attribute name and value sizes (strings in UTF-8 bytes, numbers 1 byte per 2 significant digits + 1, maps and lists 3 bytes + 1 per element), 1 unit per started KB, ×2 for every item of a TransactWriteItems, a ConditionCheck billed by the size of the item it checks. Does DynamoDB Local return ConsumedCapacity for transactions? It returns one, but not DynamoDB\'s figure (checked: 2 for a transaction of four small Puts, which DynamoDB bills 8; 6 for two Puts of 2.5 KB, billed 12; nothing for a cancelled transaction; PutItem and UpdateItem alone are right), so the computed figure is the one reported and Local\'s is shown as "reported".',
      "The merge floor counts the known identifiers' re-checks and the customer item's update as well as the items written: the product requirement (\"a merge re-checks that the identifiers still belong to the customer being merged into\") makes the re-checks part of any correct merge, and raising the customer's version on condition that it is ACTIVE is what keeps a merge from racing an update or an erase of the same customer (SPEC sections 11 and 12), so 2 × (the customer item + the profile item + the new identifier items + one re-check per known identifier). The new-customer floor is 2 × (the customer + one item per unique identifier value). The routes that change, erase, merge or unmerge a customer are under Changing, erasing, merging and unmerging a customer.",
    ],
  };
}
