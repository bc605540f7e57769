import { addCustomer, instoreProfile, uniqueMobile } from '../support/customers';
import { captureStdoutLines } from '../support/logLines';
import { useDemoTable } from '../support/table';

// SPEC section 6: one JSON line per request with its outcome, and no identifier values or names.

useDemoTable();

test('each request is logged once with request id, route, org, outcome, status, code and latency, and without the values sent', async () => {
  const mobile = uniqueMobile();
  const email = `private.${mobile}@example.com`;
  const body = {
    profiles: [
      instoreProfile(
        [
          { type: 'mobile', value: mobile },
          { type: 'email', value: email },
        ],
        { firstName: 'Zebediah', lastName: 'Quartermaine' },
      ),
    ],
  };
  const lines = await captureStdoutLines(async () => {
    expect((await addCustomer(body)).status).toBe(200);
    expect((await addCustomer(body)).status).toBe(409);
    expect((await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: '12' }])] })).status).toBe(400);
  });
  const requests = lines.filter((line) => line.message === 'request');
  expect(requests).toHaveLength(3);
  expect(requests[0]).toMatchObject({ level: 'INFO', route: 'addCustomer', org: 100, outcome: 'created', status: 200 });
  expect(requests[1]).toMatchObject({ route: 'addCustomer', org: 100, outcome: 'rejected', status: 409, code: 8006 });
  expect(requests[2]).toMatchObject({ route: 'addCustomer', org: 100, outcome: 'rejected', status: 400, code: 8014 });
  for (const line of requests) {
    expect(line.requestId).toEqual(expect.any(String));
    // The Lambda context on every line: the function, its request id, the cold start.
    expect(line).toMatchObject({ service: 'loyalty-customers', function_name: expect.any(String), cold_start: expect.any(Boolean) });
    expect(line.function_request_id).toBe(line.requestId);
    expect(typeof line.timestamp).toBe('string');
    expect(line.latencyMs).toEqual(expect.any(Number));
    const text = JSON.stringify(line);
    for (const secret of [mobile, email, 'Zebediah', 'Quartermaine', 'Basic ']) expect(text).not.toContain(secret);
  }
});
