import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handler as addHandler } from '../../handlers/addCustomer';
import { handler as bulkHandler } from '../../handlers/bulkAddCustomers';
import { documentClient } from '../../lib/store/client';
import { apiEvent } from '../../test/support/http';
import { costsOf, captureWrites, lookupWith } from '../support/capacity';
import { lambdaContext, postEvent, typicalBody } from '../support/requests';
import { describeCounts, countRoundTrips, total } from '../support/roundTrips';
import { ms, ratioOf, spread, timing, type Figure, type Section } from '../support/report';

// A bulk add of 100 typical new customers against 100 single adds of the same kind: DynamoDB
// round trips and write units per item (the floor is a single add's), and the wall time of the
// bulk request against 100 single requests sent all at once.

const ITEMS = 100;

async function oneBulk(): Promise<number> {
  const items = Array.from({ length: ITEMS }, () => typicalBody());
  const started = performance.now();
  const response = await bulkHandler(apiEvent('POST', '/v2/customers/bulk', items), lambdaContext());
  const elapsed = performance.now() - started;
  const results = JSON.parse(response.body) as { status: number }[];
  if (response.statusCode !== 200 || results.some((r) => r.status !== 200))
    throw new Error(`bulk: ${response.statusCode} ${response.body.slice(0, 300)}`);
  return elapsed;
}

async function hundredSingles(): Promise<number> {
  const events = Array.from({ length: ITEMS }, () => postEvent(typicalBody()));
  const started = performance.now();
  const replies = await Promise.all(events.map((event) => addHandler(event, lambdaContext())));
  const elapsed = performance.now() - started;
  if (replies.some((r) => r.statusCode !== 200)) throw new Error('single adds failed');
  return elapsed;
}

export async function measureBulk(raw: DynamoDBClient, rounds: number): Promise<Section> {
  const client = documentClient();
  await oneBulk(); // warm: credentials, org configuration, the rate blocks
  const counter = countRoundTrips(client);
  const capture = captureWrites(client);
  let perItem: { trips: number; commands: string; units: number };
  try {
    await oneBulk();
    const commands = counter.commands();
    const units = (await costsOf(capture.writes(), lookupWith(raw))).reduce((sum, c) => sum + c.units, 0);
    perItem = { trips: counter.httpRequests() / ITEMS, commands: describeCounts(commands), units: units / ITEMS };
    const bulkRequests = counter.httpRequests();
    counter.reset();
    capture.reset();
    await hundredSingles();
    const singleTrips = counter.httpRequests() / ITEMS;
    const singleUnits = (await costsOf(capture.writes(), lookupWith(raw))).reduce((sum, c) => sum + c.units, 0) / ITEMS;
    const bulkTimes: number[] = [];
    const singleTimes: number[] = [];
    for (let i = 0; i < rounds; i++) {
      bulkTimes.push(await oneBulk());
      singleTimes.push(await hundredSingles());
    }
    const bulk = spread(bulkTimes);
    const singles = spread(singleTimes);
    const figures: Figure[] = [
      {
        name: 'round trips / bulk item (100 new customers)',
        group: 'bulk',
        value: perItem.trips.toFixed(3),
        floor: `${singleTrips.toFixed(3)} (a single add)`,
        ratio: ratioOf(perItem.trips, singleTrips),
        target: '≤ 1',
        met: perItem.trips <= singleTrips + 1e-9,
        note: `one bulk of ${ITEMS} typical new customers sent ${perItem.commands} (${total(commands)} commands, ${bulkRequests} HTTP requests) on a warm instance: one transaction per item and the rate reservation for all of them; 100 single adds sent ${singleTrips.toFixed(3)} per request.`,
      },
      {
        name: 'write units / bulk item',
        group: 'bulk',
        value: String(+perItem.units.toFixed(3)),
        floor: String(+singleUnits.toFixed(3)),
        ratio: ratioOf(perItem.units, singleUnits),
        target: '= floor',
        met: Math.abs(perItem.units - singleUnits) < 0.05,
        note: 'write units of the items written (transactions at 2 per KB of each item, the counter update at 1), computed from the items as sent.',
      },
      {
        name: 'wall time / bulk of 100 vs 100 single adds at once',
        group: 'bulk',
        value: timing(bulk),
        floor: timing(singles),
        ratio: ratioOf(bulk.median, singles.median),
        target: '≤ 1.5',
        met: bulk.median <= 1.5 * singles.median,
        note: `${rounds} rounds, each one bulk request (ten items in flight at once) and then 100 single requests all in flight at once in the same process, against DynamoDB Local; median bulk ${ms(bulk.median)} ms.`,
      },
    ];
    return { title: 'Bulk add', figures, notes: [] };
  } finally {
    counter.detach();
    capture.detach();
  }
}
