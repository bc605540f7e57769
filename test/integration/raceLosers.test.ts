import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { documentClient } from '../../lib/store/client';
import { Entity } from '../../lib/store/keys';
import { addCustomer, uniqueMobile } from '../support/customers';
import { codes, type Reply } from '../support/http';
import { customerItems } from '../support/table';
import { useDemoTable } from '../support/table';

// The losers of a race learn that they lost in a bounded number of round trips, however many
// copies race (issue: 35 of 40 identical registrations answered 504 on a loaded machine). Each
// request runs in its own async context; every DynamoDB call the process's client sends is
// counted against the request that sent it. The table's invariants are read back afterwards.

useDemoTable();
jest.setTimeout(120_000);

const calls = new AsyncLocalStorage<{ sent: number }>();
const COUNTER = 'test-count-round-trips';

beforeAll(() => {
  const count: FinalizeRequestMiddleware<object, object> = (next) => async (args) => {
    const request = calls.getStore();
    if (request) request.sent += 1;
    return next(args);
  };
  documentClient().middlewareStack.add(count as never, { step: 'finalizeRequest', priority: 'low', name: COUNTER });
});
afterAll(() => documentClient().middlewareStack.remove(COUNTER));

/** Sends every request at once; each reply with the DynamoDB calls its request sent. */
function atOnce(requests: (() => Promise<Reply>)[]): Promise<{ reply: Reply; sent: number }[]> {
  return Promise.all(
    requests.map((send) => {
      const counted = { sent: 0 };
      return calls.run(counted, async () => ({ reply: await send(), sent: counted.sent }));
    }),
  );
}

/**
 * The most calls a request may send: the org's configuration and the till, a rate reservation,
 * and at most three transactions with the reads between them. A loser needs no more however
 * many copies race: its first cancellation names the winner.
 */
const ROUND_TRIPS = 8;

const body = (identifiers: { type: string; value: string }[], source = 'INSTORE') => ({
  profiles: [{ source, firstName: 'Race', identifiers }],
});

describe('forty identical registrations at once', () => {
  it('one creates the customer, the 39 others answer 409 / 8006 naming it, each in a bounded number of round trips', async () => {
    const mobile = uniqueMobile();
    const results = await atOnce(Array.from({ length: 40 }, () => () => addCustomer(body([{ type: 'mobile', value: mobile }]))));

    const winners = results.filter((r) => r.reply.status === 200);
    expect(winners).toHaveLength(1);
    const id = winners[0].reply.body.createdId as number;
    const losers = results.filter((r) => r !== winners[0]);
    expect(losers.map((r) => [r.reply.status, codes(r.reply)])).toEqual(losers.map(() => [409, [8006]]));
    for (const loser of losers) expect(loser.reply.body.errors[0].message).toContain(String(id));
    expect(Math.max(...results.map((r) => r.sent))).toBeLessThanOrEqual(ROUND_TRIPS);

    // One customer with one profile, one identifier item, its owner.
    const items = (await customerItems()).filter((item) => JSON.stringify(item).includes(mobile));
    expect(items.map((item) => item.entity).sort()).toEqual([Entity.customer, Entity.identifier]);
    expect(items.find((item) => item.entity === Entity.identifier)!.customerId).toBe(id);
    expect(items.find((item) => item.entity === Entity.customer)!.profileCount).toBe(1);
  });

  it('with one Idempotency-Key, all forty answer 200 with the one customer: one created, the others replayed', async () => {
    const mobile = uniqueMobile();
    const key = `race-${randomUUID()}`;
    const results = await atOnce(
      Array.from(
        { length: 40 },
        () => () => addCustomer(body([{ type: 'mobile', value: mobile }]), { headers: { 'Idempotency-Key': key } }),
      ),
    );

    expect(results.map((r) => r.reply.status)).toEqual(results.map(() => 200));
    const ids = new Set(results.map((r) => r.reply.body.createdId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.reply.headers['Idempotent-Replayed'] === 'true')).toHaveLength(39);
    expect(Math.max(...results.map((r) => r.sent))).toBeLessThanOrEqual(ROUND_TRIPS);
    const items = (await customerItems()).filter((item) => JSON.stringify(item).includes(mobile));
    expect(items.filter((item) => item.entity === Entity.customer)).toHaveLength(1);
  });
});

describe('pairs of customers adding one new email at once', () => {
  it('of each pair one gets the email (merged, 8050) and the other 409 naming its owner; no email is held twice', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const [a, b] = [uniqueMobile(), uniqueMobile()];
        const ids = await Promise.all(
          [a, b].map(async (mobile) => (await addCustomer(body([{ type: 'mobile', value: mobile }]))).body.createdId as number),
        );
        return { mobiles: [a, b], ids, email: `race-${randomUUID().slice(0, 8)}@example.com` };
      }),
    );

    const results = await atOnce(
      pairs.flatMap(({ mobiles, email }) =>
        mobiles.map(
          (mobile) => () =>
            addCustomer(
              body(
                [
                  { type: 'mobile', value: mobile },
                  { type: 'email', value: email },
                ],
                'ECOMMERCE',
              ),
            ),
        ),
      ),
    );
    expect(Math.max(...results.map((r) => r.sent))).toBeLessThanOrEqual(ROUND_TRIPS);

    const items = await customerItems();
    for (const [i, { ids, email }] of pairs.entries()) {
      const [first, second] = [results[2 * i].reply, results[2 * i + 1].reply];
      const statuses = [first.status, second.status].sort();
      expect(statuses).toEqual([200, 409]);
      const winner = first.status === 200 ? ids[0] : ids[1];
      const loser = first.status === 200 ? second : first;
      expect(loser.body.errors[0].message).toContain(String(winner));
      // The email's one item names the winner; the winner's profile items list it, the loser's none.
      const owner = items.filter((item) => item.entity === Entity.identifier && String(item.pk).endsWith(`#email#${email}`));
      expect(owner.map((item) => item.customerId)).toEqual([winner]);
      const holding = items.filter((item) => item.entity !== Entity.identifier && JSON.stringify(item).includes(email));
      expect(holding.length).toBeGreaterThan(0);
      for (const item of holding) expect(String(item.pk)).toContain(`#CUSTOMER#${winner}`);
    }
  });
});
