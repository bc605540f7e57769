import { randomUUID } from 'node:crypto';
import { recordOperations } from '../support/operations';
import { handler as bulkHandler } from '../../handlers/bulkAddCustomers';
import { addCustomer, eraseCustomer, instoreProfile, uniqueMobile } from '../support/customers';
import { apiEvent, call } from '../support/http';
import { useDemoTable } from '../support/table';

// What the registration routes (POST /v2/customers and /v2/customers/bulk) send to DynamoDB, by
// operation and by kind of transaction item, over every path they take: a new customer, a merge,
// a replay, a refusal, a refusal's record naming a customer since erased, a bulk envelope run
// twice. Their role (RegistrationRole in serverless.yml, pinned by test/e2e/template.test.ts)
// allows exactly these: no Query, and no ConditionCheckItem (a transaction re-checks an identifier
// with an Update that also records what it learnt, never a bare ConditionCheck).

useDemoTable();

const bulk = (items: unknown, headers: Record<string, string> = {}) =>
  call(bulkHandler as never, apiEvent('POST', '/v2/customers/bulk', items, { headers }));

test('the registration routes send only GetItem, BatchGetItem, PutItem, UpdateItem, DeleteItem and transactions of Put and Update', async () => {
  const recorder = recordOperations();
  try {
    const mobile = uniqueMobile();
    const email = `${randomUUID().slice(0, 8)}@example.com`;
    const key = { 'Idempotency-Key': randomUUID() };
    const created = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] }, { headers: key });
    expect(created.status).toBe(200);
    expect((await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] }, { headers: key })).status).toBe(200);
    const merged = await addCustomer({
      profiles: [
        {
          source: 'ECOMMERCE',
          accountId: 'shop',
          identifiers: [
            { type: 'mobile', value: mobile },
            { type: 'email', value: email },
          ],
        },
      ],
    });
    expect(merged.status).toBe(200);
    // A refusal kept under a bulk key, then its customer erased: the envelope again runs the item anew.
    const other = uniqueMobile();
    const owner = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: other }])] });
    const items = [
      { profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] },
      {
        profiles: [
          instoreProfile([
            { type: 'mobile', value: other },
            { type: 'email', value: email },
          ]),
        ],
      },
    ];
    const envelope = { 'Idempotency-Key': randomUUID() };
    expect((await bulk(items, envelope)).status).toBe(200);
    // The erase is another route (ChangeRole): what it sends is not counted.
    expect((await recorder.unrecorded(() => eraseCustomer((owner.body as { createdId: number }).createdId))).status).toBe(200);
    expect((await bulk(items, envelope)).status).toBe(200);
  } finally {
    recorder.stop();
  }
  const allowed = [
    'GetItem',
    'BatchGetItem',
    'PutItem',
    'UpdateItem',
    'DeleteItem',
    'TransactWriteItems',
    'Transact/Put',
    'Transact/ConditionCheck',
    'Transact/Update',
  ];
  const { sent } = recorder;
  for (const command of sent) expect({ command, allowed: allowed.includes(command) }).toEqual({ command, allowed: true });
  expect(sent).not.toContain('Query');
});
