import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectDocumented } from '../support/contract';
import { basicAuth, TILLS } from '../support/http';
import { uniqueMobile } from '../support/customers';
import { useOffline } from '../support/offline';

// The API as a client meets it: HTTP against `serverless offline`, routes at /v2/...

const offline = useOffline();
const auth = basicAuth(TILLS.demo[0], TILLS.demo[1]);

async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${offline.url}${path}`, {
    method,
    headers: { Authorization: auth, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (!text) throw new Error(`${method} ${path}: ${response.status} with an empty body`);
  const reply = { status: response.status, headers: response.headers, body: JSON.parse(text) as any };
  expectDocumented(method, path, reply);
  return reply;
}

test('registers a customer over HTTP, finds it by lookup and reads it back', async () => {
  const mobile = uniqueMobile();
  const created = await request('POST', '/v2/customers', {
    profiles: [{ source: 'INSTORE', firstName: 'Meera', identifiers: [{ type: 'mobile', value: mobile }] }],
  });
  expect(created.status).toBe(200);
  expect(created.body.createdId).toEqual(expect.any(Number));
  expect(created.headers.get('x-ratelimit-limit')).toBe('100000');

  const found = await request('GET', `/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=%2B91${mobile}`);
  expect(found).toMatchObject({ status: 200, body: { entity: created.body.createdId } });

  const customer = await request('GET', `/v2/customers/${created.body.createdId}`);
  expect(customer.status).toBe(200);
  expect(customer.body.profiles[0]).toMatchObject({
    firstName: 'Meera',
    source: 'INSTORE',
    identifiers: [{ type: 'mobile', value: `91${mobile}` }],
  });
}, 60_000);

test('merges a shopper seen again in another channel, and refuses the same channel twice', async () => {
  const mobile = uniqueMobile();
  const first = await request('POST', '/v2/customers', {
    profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: mobile }] }],
  });
  const merged = await request('POST', '/v2/customers', {
    profiles: [
      {
        source: 'LINE',
        accountId: 'line-main',
        identifiers: [
          { type: 'mobile', value: mobile },
          { type: 'line', value: `U${mobile}` },
        ],
      },
    ],
  });
  expect(merged.status).toBe(200);
  expect(merged.body.createdId).toBe(first.body.createdId);
  expect(merged.body.warnings.map((w: { code: number }) => w.code)).toContain(8050);

  const again = await request('POST', '/v2/customers', {
    profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: mobile }] }],
  });
  expect(again.status).toBe(409);
  expect(again.body.errors[0].code).toBe(8006);
}, 60_000);

test('answers HTTP-level problems with the spec codes and never a stack trace', async () => {
  const unauthenticated = await request('POST', '/v2/customers', { profiles: [] }, { Authorization: '' });
  expect(unauthenticated.status).toBe(401);
  expect(unauthenticated.body.errors[0].code).toBe(401);

  const malformed = await request('POST', '/v2/customers', '{"profiles": [', {});
  expect(malformed.status).toBe(400);
  expect(malformed.body.errors[0].code).toBe(400);
  expect(JSON.stringify(malformed.body)).not.toMatch(/at .*\.(ts|js):\d+/);

  const fields = await request('GET', '/v2/extendedFields');
  expect(fields.status).toBe(200);
  expect(fields.body.entity.customer.map((f: { name: string }) => f.name)).toContain('gender');
}, 60_000);

test.each(['false', '0', '0.0', '-0', 'true', '1', '[]', 'null', '""'])(
  'a JSON body of %s is 400, not a 500',
  async (raw) => {
    const reply = await request('POST', '/v2/customers', raw);
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([expect.objectContaining({ status: false, code: 400 })]);
  },
  30_000,
);

test('a bulk add over HTTP answers one result per item with X-Bulk-Total and X-Bulk-Failed', async () => {
  const mobile = uniqueMobile();
  const reply = await request('POST', '/v2/customers/bulk', [
    { profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: mobile }] }] },
    { profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'mobile', value: mobile }] }] },
    { profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: '12' }] }] },
  ]);
  expect(reply.status).toBe(200);
  expect(reply.body.map((item: { status: number }) => item.status)).toEqual([200, 200, 400]);
  expect(reply.body[1].entity).toEqual(reply.body[0].entity);
  expect(reply.headers.get('x-bulk-total')).toBe('3');
  expect(reply.headers.get('x-bulk-failed')).toBe('1');
}, 30_000);

test('serves the OpenAPI document at GET /v2/openapi.json without credentials, naming the port it runs on as its server', async () => {
  const reply = await request('GET', '/v2/openapi.json', undefined, { Authorization: '' });
  expect(reply.status).toBe(200);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8'));
  // Offline runs on a free port here, never the committed document's 3000.
  expect(reply.body).toEqual({ ...committed, servers: [{ url: offline.url, description: 'the server this document was fetched from' }] });
}, 30_000);

test('forty identical registrations at once over HTTP: one 200, 39 answers 409 / 8006 naming it, none 5xx', async () => {
  const body = { profiles: [{ source: 'INSTORE', firstName: 'Race', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }] };
  const replies = await Promise.all(Array.from({ length: 40 }, () => request('POST', '/v2/customers', body)));
  const created = replies.filter((r) => r.status === 200);
  expect(created).toHaveLength(1);
  const losers = replies.filter((r) => r.status !== 200);
  expect(losers.map((r) => [r.status, r.body.errors.map((e: { code: number }) => e.code)])).toEqual(losers.map(() => [409, [8006]]));
  for (const loser of losers) expect(loser.body.errors[0].message).toContain(String(created[0].body.createdId));
});
