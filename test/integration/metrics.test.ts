import type { FinalizeRequestMiddleware } from '@smithy/types';
import type * as Customers from '../support/customers';
import type * as Client from '../../lib/store/client';
import { captureStdoutLines } from '../support/logLines';
import { useDemoTable } from '../support/table';

// Embedded-metric-format lines of each request's outcome (the route as the dimension, the org
// as metadata, rejections counted per code too), as CloudWatch reads them from the log stream:
// never an identifier value or a name.

// Metrics are off in the other suites; on here, before the handlers are loaded.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.DYNAMODB_MAX_ATTEMPTS = '2';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { addCustomer, instoreProfile, uniqueMobile } = require('../support/customers') as typeof Customers;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { documentClient } = require('../../lib/store/client') as typeof Client;

useDemoTable();

interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

const isEmf = (line: Record<string, unknown>): line is Emf => typeof line._aws === 'object';

/** The EMF lines written while `during` runs. */
async function metricsOf(during: () => Promise<unknown>): Promise<Emf[]> {
  return (await captureStdoutLines(during)).filter(isEmf);
}

/** Metric name -> value of the lines counting one request outcome (route as the only dimension beside service). */
function countsByRoute(lines: Emf[]) {
  return lines
    .filter((line) => line._aws.CloudWatchMetrics[0].Dimensions[0].join() === 'service,route')
    .map((line) => {
      const names = line._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name).filter((name) => name !== 'latency');
      return Object.fromEntries(names.map((name) => [name, line[name]]));
    });
}

function expectNoValues(lines: Emf[], values: string[]) {
  const text = JSON.stringify(lines);
  for (const value of values) expect(text).not.toContain(value);
}

test('a registration, its replay and a conflict each write one count named by the outcome, with the route dimension and the org as metadata', async () => {
  const mobile = uniqueMobile();
  const email = `metrics.${mobile}@example.com`;
  const body = {
    profiles: [
      instoreProfile(
        [
          { type: 'mobile', value: mobile },
          { type: 'email', value: email },
        ],
        { firstName: 'Ottoline' },
      ),
    ],
  };
  const key = `metrics-${mobile}`;
  const lines = await metricsOf(async () => {
    expect((await addCustomer(body, { headers: { 'Idempotency-Key': key } })).status).toBe(200);
    expect((await addCustomer(body, { headers: { 'Idempotency-Key': key } })).status).toBe(200);
    expect((await addCustomer(body)).status).toBe(409);
  });
  expect(countsByRoute(lines)).toEqual([{ created: 1 }, { replayed: 1 }, { rejected: 1 }]);
  for (const line of lines) {
    expect(line._aws.CloudWatchMetrics[0].Namespace).toBe('LoyaltyCustomers');
    expect(line).toMatchObject({ service: 'loyalty-customers', route: 'addCustomer', org: '100' });
    expect(line._aws.Timestamp).toEqual(expect.any(Number));
  }
  const latency = lines.find((line) => line.created === 1)!;
  expect(latency._aws.CloudWatchMetrics[0].Metrics).toContainEqual({ Name: 'latency', Unit: 'Milliseconds' });
  expect(latency.latency).toEqual(expect.any(Number));
  // The rejection once more, per code.
  const byCode = lines.filter((line) => line._aws.CloudWatchMetrics[0].Dimensions[0].join() === 'service,route,code');
  expect(byCode).toHaveLength(1);
  expect(byCode[0]).toMatchObject({ code: '8006', rejected: 1, org: '100' });
  expectNoValues(lines, [mobile, email, 'Ottoline']);
});

test('a 400 counts as rejected with its code, an org over its limit as rate_limited', async () => {
  const lines = await metricsOf(async () => {
    expect((await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: '12' }])] })).status).toBe(400);
    // Org 300 admits 10 registrations a minute.
    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i++) {
      status = (
        await addCustomer(
          { profiles: [instoreProfile([{ type: 'externalId', value: `metrics-${Date.now()}-${i}` }])] },
          { till: 'limited' },
        )
      ).status;
    }
    expect(status).toBe(429);
  });
  const counts = countsByRoute(lines);
  expect(counts[0]).toEqual({ rejected: 1 });
  expect(counts.at(-1)).toEqual({ rate_limited: 1 });
  expect(lines.filter((line) => line.code === '8014')).toHaveLength(1);
  expect(lines.at(-1)).toMatchObject({ org: '300' });
});

test('a table that stays unavailable counts as unavailable (503)', async () => {
  const refuse: FinalizeRequestMiddleware<any, any> = () => async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', name: 'Error' });
  };
  const stack = documentClient().middlewareStack;
  stack.add(refuse, { step: 'finalizeRequest', name: 'metrics-test-refuse', priority: 'low' });
  let lines: Emf[];
  try {
    lines = await metricsOf(async () => {
      expect((await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] })).status).toBe(503);
    });
  } finally {
    stack.remove('metrics-test-refuse');
  }
  expect(countsByRoute(lines)).toEqual([{ unavailable: 1 }]);
});
