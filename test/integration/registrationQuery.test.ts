import { handler as bulkHandler } from '../../handlers/bulkAddCustomers';
import { addCustomer, instoreProfile, uniqueMobile } from '../support/customers';
import { apiEvent, call, codes } from '../support/http';
import { customerItems, useDemoTable } from '../support/table';

// The query of POST /v2/customers and /bulk is validated always (SPEC section 14), not only
// when a profile needs it: a source outside the enum is 400 / 8003, an accountId over 100
// characters 400, and nothing is written.

useDemoTable();

const body = () => ({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
const bulk = (items: unknown, query: Record<string, string>) =>
  call(bulkHandler as never, apiEvent('POST', '/v2/customers/bulk', items, { query }));

test.each([
  ['a source outside the enum', { source: 'NOPE' }, [8003]],
  ['a lower-case source', { source: 'instore' }, [8003]],
  ['an accountId over 100 characters', { accountId: 'a'.repeat(101) }, [400]],
])('%s is refused even when every profile names its own source', async (_label, query, expected) => {
  const before = await customerItems();
  const single = await addCustomer(body(), { query });
  expect([single.status, codes(single)]).toEqual([400, expected]);
  const many = await bulk([body()], query);
  expect([many.status, codes(many)]).toEqual([400, expected]);
  expect(await customerItems()).toEqual(before);
});

test('a valid query that no profile needs is accepted', async () => {
  expect((await addCustomer(body(), { query: { source: 'WECHAT', accountId: 'a'.repeat(100) } })).status).toBe(200);
});
