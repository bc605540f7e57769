import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { tableName } from '../../lib/config';
import type { OrgConfig } from '../../lib/org';
import { RateLimiter } from '../../lib/rateLimit';
import { documentClient } from '../../lib/store/client';
import { keys } from '../../lib/store/keys';
import { captureWrites, itemSize, unitsOf } from '../support/capacity';
import type { Figure, Section } from '../support/report';
import { countRoundTrips } from '../support/roundTrips';

// The rate counter with many Lambda instances of one org (SPEC section 6: a fixed one-minute
// window counted in DynamoDB, shared by every instance, never overshot). Each instance is a
// RateLimiter of its own (its own reservations and its own attribute in the window item), all
// in this process, against DynamoDB Local. The org's requests arrive evenly over one minute on
// a simulated clock (the limiter takes the time as an argument), each on an instance drawn at
// random, at most IN_FLIGHT at once; every instance serves one at a time, as Lambda does.

const WINDOW_MS = 60_000;
const IN_FLIGHT = 32;
/** Attributes of a window item that are not an instance's. */
const WINDOW_ATTRIBUTES = new Set(['pk', 'sk', 'requests', 'expiresAt', 'entity']);

export interface CounterScenario {
  limit: number;
  instances: number;
  /** Requests in the minute, as a multiple of the limit. */
  demand: number;
}

export interface CounterRun extends CounterScenario {
  requests: number;
  admitted: number;
  refused: number;
  /** UpdateItem commands on the window item (each reservation, and the first 429 of each instance). */
  updates: number;
  /** Of which failed their condition (the window was full, or the block did not fit). */
  failedUpdates: number;
  /** HTTP requests, retries included. */
  httpRequests: number;
  /** What the window item counted at the end of the minute. */
  counted: number;
  /** Instances that left their attribute in the window item. */
  marks: number;
  /** The window item's size at the end of the minute, and what one update of it costs then. */
  itemBytes: number;
  lastUpdateUnits: number;
  /** Write units of all the updates: DynamoDB Local's figure for those that succeeded, the final item's size for failed ones. */
  units: number;
  seconds: number;
}

/** A small deterministic generator (LCG), so that every run spreads the requests alike. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

let runs = 0;

/** One minute of an org of its own, in a minute window of its own (ahead of the real clock). */
export async function runCounterScenario(raw: DynamoDBClient, scenario: CounterScenario): Promise<CounterRun> {
  runs += 1;
  const { limit, instances, demand } = scenario;
  const org = { orgId: 950_000 + runs, rateLimitPerMinute: limit } as OrgConfig;
  const windowStart = (Math.floor(Date.now() / WINDOW_MS) + 10 + runs) * WINDOW_MS;
  const limiters = Array.from({ length: instances }, () => new RateLimiter());
  const random = seeded(runs * 7919);
  const requests = Math.round(limit * demand);

  const client = documentClient();
  const counter = countRoundTrips(client);
  const capture = captureWrites(client);
  let admitted = 0;
  let refused = 0;
  const started = performance.now();
  try {
    const pending = new Set<Promise<void>>();
    // What each instance is serving: it takes the next request when that one is done.
    const serving = limiters.map((): Promise<unknown> => Promise.resolve());
    for (let j = 0; j < requests; j++) {
      const at = windowStart + Math.floor(((j + 0.5) * WINDOW_MS) / requests);
      const instance = Math.floor(random() * instances);
      const request = serving[instance]
        .then(() => limiters[instance].takeRequest(org, at))
        .then(
          () => {
            admitted += 1;
          },
          (error: { status?: number }) => {
            if (error.status !== 429) throw error;
            refused += 1;
          },
        );
      serving[instance] = request;
      const tracked: Promise<void> = request.finally(() => pending.delete(tracked));
      pending.add(tracked);
      if (pending.size >= IN_FLIGHT) await Promise.race(pending);
    }
    await Promise.all(pending);
  } finally {
    counter.detach();
    capture.detach();
  }
  const seconds = (performance.now() - started) / 1000;

  const found = await raw.send(
    new GetItemCommand({ TableName: tableName(), Key: marshall(keys.rateWindow(org.orgId, windowStart)), ConsistentRead: true }),
  );
  const item = found.Item ?? {};
  const itemBytes = itemSize(item);
  const updates = capture.writes().filter((w) => w.operation === 'UpdateItem');
  const failed = updates.filter((w) => !w.ok);
  const units = updates.reduce((sum, w) => sum + (w.ok ? (w.reported ?? unitsOf(itemBytes)) : unitsOf(itemBytes)), 0);
  return {
    ...scenario,
    requests,
    admitted,
    refused,
    updates: counter.commands().UpdateItem ?? 0,
    failedUpdates: failed.length,
    httpRequests: counter.httpRequests(),
    counted: Number(item.requests?.N ?? 0),
    marks: Object.keys(item).filter((name) => !WINDOW_ATTRIBUTES.has(name)).length,
    itemBytes,
    lastUpdateUnits: unitsOf(itemBytes),
    units,
    seconds,
  };
}

/** The limit held: no more admitted than the limit, and every admitted request counted in the table. */
export function heldLimit(run: CounterRun): boolean {
  return run.admitted <= run.limit && run.counted <= run.limit && run.admitted <= run.counted;
}

export interface RateCounter {
  atLimit: CounterRun[];
  overLimit: CounterRun[];
}

export const COUNTER_LIMITS = [100_000, 600];
export const COUNTER_INSTANCES = [1, 10, 100];
/** "At its limit": as many requests in the minute as the limit allows, evenly spread. */
const AT_LIMIT = 1;
/** And over it, to see that the limit holds when more is asked. */
const OVER_LIMIT = 1.5;

export async function measureRateCounter(raw: DynamoDBClient): Promise<RateCounter> {
  const atLimit: CounterRun[] = [];
  const overLimit: CounterRun[] = [];
  for (const limit of COUNTER_LIMITS) {
    for (const instances of COUNTER_INSTANCES) {
      atLimit.push(await runCounterScenario(raw, { limit, instances, demand: AT_LIMIT }));
      overLimit.push(await runCounterScenario(raw, { limit, instances, demand: OVER_LIMIT }));
    }
  }
  return { atLimit, overLimit };
}

const grouped = (n: number) => n.toLocaleString('en-US').replace(/,/g, ' ');
const share = (n: number) => (n >= 0.1 ? n.toFixed(3) : n.toPrecision(2));

function runText(run: CounterRun): string {
  const held = heldLimit(run) ? 'held' : 'OVERSHOT';
  return (
    `${grouped(run.requests)} requests: ${grouped(run.admitted)} admitted, ${grouped(run.refused)} refused (429), the window counted ${grouped(run.counted)} (limit ${held}); ` +
    `${grouped(run.updates)} counter updates (${run.failedUpdates} failed their condition; ${run.httpRequests} HTTP requests), ${share(run.updates / Math.max(1, run.admitted))} per admitted registration; ` +
    `${run.units} write units, ${share(run.units / Math.max(1, run.admitted))} per admitted registration; window item ${run.itemBytes} B with ${run.marks} instance attribute${run.marks === 1 ? '' : 's'}, ${run.lastUpdateUnits} WRU per update at the end; ${run.seconds.toFixed(1)} s`
  );
}

export function rateCounterSection(counter: RateCounter): Section {
  const figures: Figure[] = counter.atLimit.map((run, index) => {
    const over = counter.overLimit[index];
    const perRegistration = run.updates / Math.max(1, run.admitted);
    const held = heldLimit(run) && heldLimit(over);
    return {
      group: 'rate counter',
      name: `rate counter / updates per registration, ${grouped(run.limit)}/min on ${run.instances} instance${run.instances === 1 ? '' : 's'}`,
      value: `${share(perRegistration)} (${grouped(run.updates)} updates/min, ${grouped(run.admitted)} of ${grouped(run.limit)} admitted${held ? '' : ', LIMIT OVERSHOT'})`,
      // One update per instance that served in the minute is the least any shared-count design sends.
      floor: `≤ 1 (any design ≥ ${share(run.marks / Math.max(1, run.admitted))})`,
      ratio: perRegistration,
      target: '≤ floor, limit held',
      met: perRegistration <= 1 && held,
      note: `at its limit (${AT_LIMIT}× in the minute): ${runText(run)}. Over it (${OVER_LIMIT}×): ${runText(over)}.`,
    };
  });
  return {
    title: 'Rate counter with many instances',
    figures,
    notes: [
      `Each instance is a \`RateLimiter\` of its own (lib/rateLimit.ts: its own reservations, and its own attribute in the window item, lib/store/rateWindows.ts), all in this process against DynamoDB Local; the requests of one org (a configuration of its own, in a minute window of its own) arrive evenly over one minute of a simulated clock, each on an instance drawn at random (seeded), at most ${IN_FLIGHT} in flight, each instance serving one at a time. ` +
        `Counted on the service's document client: UpdateItem commands and HTTP requests; write units are DynamoDB Local's ConsumedCapacity for the updates that succeeded (it sizes UpdateItem like DynamoDB: 1 per started KB of the item) and the final item's size for failed ones (DynamoDB bills a failed condition too). ` +
        '"Limit held": admitted ≤ limit, the window counted ≤ limit, and every admitted request was counted (admitted ≤ counted). Admitted below the limit at 1× are requests refused while other instances held reservations they did not use before the minute ended.',
      'Floor: the allowance of at most one counter update per counted request, as under round trips. No design that reserves from one shared count without overshoot can go below one update per instance that serves in the minute, so with k registrations a minute spread over n instances the share is at least n / k.',
    ],
  };
}
