import { log } from '../../lib/log';
import { addCustomer, instoreProfile, uniqueMobile } from '../support/customers';
import { useDemoTable } from '../support/table';

// SPEC section 6: one JSON line per request with its outcome, and no identifier values or names.

useDemoTable();

function captureLogLines() {
  const lines: Record<string, unknown>[] = [];
  const spies = (['info', 'error'] as const).map((level) =>
    jest.spyOn(log, level).mockImplementation(((fields: Record<string, unknown>) => {
      lines.push({ level, ...fields });
    }) as never),
  );
  return { lines, restore: () => spies.forEach((s) => s.mockRestore()) };
}

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
  const capture = captureLogLines();
  try {
    expect((await addCustomer(body)).status).toBe(200);
    expect((await addCustomer(body)).status).toBe(409);
    expect((await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: '12' }])] })).status).toBe(400);
  } finally {
    capture.restore();
  }
  expect(capture.lines).toHaveLength(3);
  expect(capture.lines[0]).toMatchObject({ route: 'addCustomer', org: 100, outcome: 'created', status: 200 });
  expect(capture.lines[1]).toMatchObject({ route: 'addCustomer', org: 100, outcome: 'rejected', status: 409, code: 8006 });
  expect(capture.lines[2]).toMatchObject({ route: 'addCustomer', org: 100, outcome: 'rejected', status: 400, code: 8014 });
  for (const line of capture.lines) {
    expect(line.requestId).toEqual(expect.any(String));
    expect(line.latencyMs).toEqual(expect.any(Number));
    const text = JSON.stringify(line);
    for (const secret of [mobile, email, 'Zebediah', 'Quartermaine', 'Basic ']) expect(text).not.toContain(secret);
  }
});
