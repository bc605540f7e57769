import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handler as addHandler } from '../../handlers/addCustomer';
import { handler as changeIdentifierHandler } from '../../handlers/changeIdentifier';
import { handler as eraseHandler } from '../../handlers/eraseCustomer';
import { handler as mergeHandler } from '../../handlers/mergeCustomers';
import { handler as unmergeHandler } from '../../handlers/unmergeCustomer';
import { handler as updateHandler } from '../../handlers/updateCustomer';
import { documentClient } from '../../lib/store/client';
import { apiEvent } from '../../test/support/http';
import { captureWrites, costsOf, lookupWith, type WriteCost } from '../support/capacity';
import { ratioOf, type Figure, type Section } from '../support/report';
import { lambdaContext, newIdentity, send, typicalBody, type Handler, type Identity, type Reply } from '../support/requests';
import { countRoundTrips, describeCounts, total, type Counts } from '../support/roundTrips';
import type { CounterShare } from './dynamoCost';

// Round trips and write units of the routes that change a registered customer (SPEC sections 11,
// 12 and 15): PUT /v2/customers/{id}, POST /v2/customers/{id}/changeIdentifier,
// DELETE /v2/customers/{id}, and an explicit merge and its unmerge, each sent warm through its real handler against DynamoDB Local and
// counted on the service's own document client, as the registration figures are.

export type ChangeKind = 'update' | 'changeIdentifier' | 'erase' | 'eraseWithRecord' | 'merge' | 'unmerge';

const CHANGE_KINDS: Record<ChangeKind, string> = {
  update: 'update (PUT, names and an extended field)',
  changeIdentifier: 'change identifier (replace the mobile)',
  erase: 'erase (one profile: mobile + email)',
  eraseWithRecord: 'erase (one profile: mobile + email, registered with an Idempotency-Key)',
  merge: 'merge (a WeChat customer with mobile + email into an in-store one)',
  unmerge: 'unmerge (that WeChat profile back into its own id)',
};

/** Reads of a request at its floor: the customer's partition, and for an erase its history, for a merge and an unmerge the other customer's. */
const FLOOR_READS: Record<ChangeKind, number> = { update: 1, changeIdentifier: 1, erase: 2, eraseWithRecord: 2, merge: 2, unmerge: 2 };

/**
 * The floor of each change: one strongly consistent read of the customer's partition (the
 * customer and its version, which the write is conditioned on) and one transaction, whose items
 * are the ones any correct change must write, 2 units each when ≤ 1 KB.
 */
const FLOORS: Record<ChangeKind, { items: number; why: string }> = {
  update: { items: 1, why: 'the customer item, rewritten at the next version' },
  changeIdentifier: {
    items: 3,
    why: 'the customer item at the next version + the new mobile claimed (Put, if absent) + the old mobile released (Delete, while it names the customer)',
  },
  erase: {
    items: 3,
    why: 'the customer item made a tombstone + one Delete per identifier item that still names it: the mobile, the email',
  },
  eraseWithRecord: {
    items: 4,
    why: "the customer item made a tombstone + the mobile and the email released + the registration's idempotency record deleted (its stored answer holds the id)",
  },
  merge: {
    items: 5,
    why: "the survivor's item at the next version + the victim's made a tombstone + the WeChat profile put in the survivor's partition + the mobile and the email moved (Update, while they name the victim)",
  },
  unmerge: {
    items: 6,
    why: "the customer's item at the next version + the WeChat profile item deleted + the victim's tombstone revived + the mobile and the email moved back + the in-store mobile, which stays, recording the source accounts kept",
  },
};

export interface ChangeMeasured {
  kind: ChangeKind;
  reply: Reply;
  commands: Counts;
  httpRequests: number;
  costs: WriteCost[];
}

export type CustomerChanges = Record<ChangeKind, ChangeMeasured>;

async function sendTo(handler: Handler, method: string, path: string, id: number, body?: unknown): Promise<Reply> {
  const result = await handler(apiEvent(method, path, body, { pathParameters: { id: String(id) } }), lambdaContext());
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
}

const update = (id: number) =>
  sendTo(updateHandler as Handler, 'PUT', `/v2/customers/${id}`, id, {
    profiles: [{ lastName: 'Menon' }],
    extendedFields: { city: 'Kochi' },
  });

const replaceMobile = (id: number, old: string, next: string) =>
  sendTo(changeIdentifierHandler as Handler, 'POST', `/v2/customers/${id}/changeIdentifier`, id, {
    remove: [{ type: 'mobile', value: old }],
    add: [{ type: 'mobile', value: next }],
  });

const erase = (id: number) => sendTo(eraseHandler as Handler, 'DELETE', `/v2/customers/${id}`, id);

const merge = (survivorId: number, victimId: number) =>
  sendTo(mergeHandler as Handler, 'POST', `/v2/customers/${survivorId}/merge`, survivorId, { victimId });

const unmerge = (id: number) =>
  sendTo(unmergeHandler as Handler, 'POST', `/v2/customers/${id}/unmerge`, id, { source: 'WECHAT', accountId: 'wx-main' });

const wechatOnly = (identity: Identity) => ({
  profiles: [
    {
      source: 'WECHAT',
      accountId: 'wx-main',
      firstName: 'Asha',
      identifiers: [
        { type: 'mobile', value: identity.mobile },
        { type: 'email', value: identity.email },
      ],
    },
  ],
});

const instoreOnly = (identity: Identity) => ({
  profiles: [{ source: 'INSTORE', firstName: 'Asha', lastName: 'Rao', identifiers: [{ type: 'mobile', value: identity.mobile }] }],
});

async function register(body: Record<string, unknown>): Promise<number> {
  const reply = await send(addHandler as Handler, body);
  if (reply.status !== 200) throw new Error(`registration: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.createdId;
}

function expectOk(kind: ChangeKind, reply: Reply): void {
  if (reply.status !== 200) throw new Error(`${CHANGE_KINDS[kind]}: expected 200, got ${reply.status} ${JSON.stringify(reply.body)}`);
}

/**
 * Registers the customers to change (not measured), sends one warm-up request of each route,
 * then one measured request of each: an update and a mobile replacement of a typical customer
 * (mobile, email, externalId), and the erase of a customer with one profile (mobile + email).
 */
export async function measureCustomerChanges(raw: DynamoDBClient): Promise<CustomerChanges> {
  const client = documentClient();
  const counter = countRoundTrips(client);
  // The size of every item a write touches before it (a Delete is billed by what it deletes).
  const capture = captureWrites(client, { before: lookupWith(raw) });
  const lookup = lookupWith(raw);
  const emailOnly = (identity: Identity) => ({
    profiles: [
      {
        source: 'INSTORE',
        firstName: 'Asha',
        lastName: 'Rao',
        identifiers: [
          { type: 'mobile', value: identity.mobile },
          { type: 'email', value: identity.email },
        ],
      },
    ],
  });
  try {
    // Warm-up: each route once, so that nothing but the request itself is counted below.
    const warm = newIdentity();
    const warmId = await register(typicalBody(warm));
    expectOk('update', await update(warmId));
    expectOk('changeIdentifier', await replaceMobile(warmId, warm.mobile, newIdentity().mobile));
    expectOk('erase', await erase(warmId));
    const warmVictim = await register(wechatOnly(newIdentity()));
    const warmSurvivor = await register(instoreOnly(newIdentity()));
    expectOk('merge', await merge(warmSurvivor, warmVictim));
    expectOk('unmerge', await unmerge(warmSurvivor));
    const survivorId = await register(instoreOnly(newIdentity()));
    const victimId = await register(wechatOnly(newIdentity()));

    const typical = newIdentity();
    const typicalId = await register(typicalBody(typical));
    const small = newIdentity();
    const smallId = await register(emailOnly(small));
    const keyedReply = await send(addHandler as Handler, emailOnly(newIdentity()), {
      headers: { 'Idempotency-Key': `bench-erase-${Date.now()}` },
    });
    if (keyedReply.status !== 200) throw new Error(`registration: ${keyedReply.status} ${JSON.stringify(keyedReply.body)}`);
    const keyedId = keyedReply.body.createdId as number;

    const measure = async (kind: ChangeKind, request: () => Promise<Reply>): Promise<ChangeMeasured> => {
      counter.reset();
      capture.reset();
      const reply = await request();
      const commands = counter.commands();
      const httpRequests = counter.httpRequests();
      const writes = capture.writes();
      expectOk(kind, reply);
      return { kind, reply, commands, httpRequests, costs: await costsOf(writes, lookup) };
    };
    return {
      update: await measure('update', () => update(typicalId)),
      changeIdentifier: await measure('changeIdentifier', () => replaceMobile(typicalId, typical.mobile, newIdentity().mobile)),
      erase: await measure('erase', () => erase(smallId)),
      eraseWithRecord: await measure('eraseWithRecord', () => erase(keyedId)),
      merge: await measure('merge', () => merge(survivorId, victimId)),
      unmerge: await measure('unmerge', () => unmerge(survivorId)),
    };
  } finally {
    counter.detach();
    capture.detach();
  }
}

/** `1`, `1.011`: whole numbers as they are, amortised ones to three decimals. */
function count(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function itemsText(cost: WriteCost): string {
  return cost.items.map((i) => `${i.action} ${i.key.replace(/#[^#/ ]+$/, '#…')} ${i.bytes} B → ${i.units}`).join('; ');
}

const okTransactions = (m: ChangeMeasured) => m.costs.filter((c) => c.operation === 'TransactWriteItems' && c.ok);

export function customerChangesSection(changes: CustomerChanges, counter: CounterShare): Section {
  const order: ChangeKind[] = ['update', 'changeIdentifier', 'erase', 'eraseWithRecord', 'merge', 'unmerge'];
  const run = counter.run;
  const share = `${count(counter.updates)} (${run.commands.UpdateItem ?? 0} UpdateItem in ${run.requests} consecutive registrations of org 100, under DynamoDB round trips per request)`;
  const roundTrips: Figure[] = order.map((kind) => {
    const m = changes[kind];
    const reads = (m.commands.Query ?? 0) + (m.commands.GetItem ?? 0);
    const transactions = m.commands.TransactWriteItems ?? 0;
    const updates = m.commands.UpdateItem ?? 0;
    // Everything but the rate counter's update, retries included.
    const own = m.httpRequests - updates;
    const other = total(m.commands) - reads - transactions - updates;
    const retries = m.httpRequests - total(m.commands);
    const floorReads = FLOOR_READS[kind];
    const readsWhy =
      kind === 'erase' || kind === 'eraseWithRecord'
        ? "1 strongly consistent read of the customer's partition (the customer and its version) + 1 of its history's partition, deleted once the tombstone is written (empty here: one Query)"
        : kind === 'merge' || kind === 'unmerge'
          ? "1 strongly consistent read of each customer's partition (each is written at the version read)"
          : "1 strongly consistent read of the customer's partition (the customer and its version)";
    return {
      group: 'round trips',
      name: `round trips / ${CHANGE_KINDS[kind]}`,
      value: count(own + counter.updates),
      floor: `${floorReads + 1} + ≤ 1`,
      ratio: ratioOf(own + counter.updates, floorReads + 2),
      target: '≤ floor',
      met: reads <= floorReads && transactions <= 1 && other === 0 && retries === 0 && counter.updates <= 1,
      note:
        `${own} round trip${own === 1 ? '' : 's'} (${describeCounts(m.commands)}${retries ? ` (+${retries} retries)` : ''}; HTTP ${m.reply.status}, the request alone) ` +
        `+ the rate counter's share per request, ${share}. Floor: ${readsWhy} + 1 transaction, + at most 1 rate counter update.`,
    };
  });
  const writeUnits: Figure[] = order.map((kind) => {
    const m = changes[kind];
    const floorItems = FLOORS[kind];
    const floor = 2 * floorItems.items;
    const transactions = okTransactions(m);
    const units = transactions.reduce((s, c) => s + c.units, 0);
    const reported = transactions.every((c) => c.reported !== undefined)
      ? transactions.reduce((s, c) => s + (c.reported ?? 0), 0)
      : undefined;
    const cancelled = m.costs.filter((c) => c.operation === 'TransactWriteItems' && !c.ok).reduce((s, c) => s + c.units, 0);
    const largest = Math.max(...transactions.flatMap((c) => c.items.map((i) => i.bytes)));
    const counterUnits = m.costs.filter((c) => c.operation === 'UpdateItem').reduce((s, c) => s + c.units, 0);
    return {
      group: 'write units',
      name: `write units / ${CHANGE_KINDS[kind]}`,
      value: String(units),
      floor: String(floor),
      ratio: ratioOf(units, floor),
      target: '= floor',
      met: units <= floor && cancelled === 0,
      note:
        `computed: ${transactions.map(itemsText).join(' | ')}. DynamoDB Local reported ${reported ?? 'nothing'}. ` +
        `Floor: 2 × ${floorItems.items} item${floorItems.items === 1 ? '' : 's'} (${floorItems.why}), each ≤ 1 KB. ` +
        `Largest item ${largest} B, ${1024 - largest} B under the 1 KB past which it would cost 4.` +
        (cancelled ? ` A cancelled transaction would add ${cancelled} more.` : '') +
        (counterUnits
          ? ` The request alone also sent the rate counter's update (${counterUnits} unit), not counted here: see its share per request under round trips.`
          : ''),
    };
  });
  return {
    title: 'Changing, erasing, merging and unmerging a customer',
    figures: [...roundTrips, ...writeUnits],
    notes: [
      "Each route (`handlers/updateCustomer.ts`, `handlers/changeIdentifier.ts`, `handlers/eraseCustomer.ts`) is sent once to warm it (the till's credentials and org 100's configuration cached), then once measured, with no Idempotency-Key: an update of a typical customer (mobile, email, externalId; last name and the `city` extended field changed), a replacement of that customer's mobile (remove the old value, add a new one in one request), and the erase of a customer registered with one profile holding a mobile and an email, once registered without and once with an Idempotency-Key (whose record the erase deletes: the customer item lists it, so no read finds it). Round trips are counted on the service's own document client as under DynamoDB round trips per request (the rate counter's update as its amortised share per request, since all write routes count against the org's one limit).",
      "Each is designed as one strongly consistent Query of the customer's partition and one TransactWriteItems (lib/store/changePlans.ts): the customer item conditioned on the version read, with the claimed identifier Puts, released identifier Deletes and changed merged profile items. A concurrent write that raises the version in between (a merge, another change) makes the transaction fail and the request read again: one more read and one more transaction per lost race, not counted here (no race in this measurement).",
      'Write units as under Write capacity units per registration, except that every item a write touches is also read just before the write (through a client that is not measured) and billed by the larger of before and after: a Delete by the item it deletes, the tombstone by the customer item it replaces. The Query is a read: 1 read unit per 4 KB of the partition read strongly consistently, not in these figures.',
    ],
  };
}
