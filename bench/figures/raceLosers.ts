import { handler as addHandler } from '../../handlers/addCustomer';
import { documentClient } from '../../lib/store/client';
import { newIdentity, send, typicalBody } from '../support/requests';
import { countRoundTrips } from '../support/roundTrips';
import { ms, ratioOf, type Figure, type Section } from '../support/report';

// The losers of a race learn that they lost fast: 40 identical registrations sent at once in
// one process (one warm instance serving them all, as `serverless offline` does), the p99 of
// the 39 losers' latencies against the p99 of 40 different new customers sent at once (the
// same load without a race) and of a lone request. A loser that retried its conflict until the
// deadline, or waited in the org's rate queue behind every other copy, would show here.

const COPIES = 40;

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)];
}

async function timed(body: unknown): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const reply = await send(addHandler, body);
  return { status: reply.status, ms: performance.now() - started };
}

export async function measureRaceLosers(rounds: number): Promise<Section> {
  const losers: number[] = [];
  const different: number[] = [];
  const lone: number[] = [];
  let mostTrips = 0;
  await timed(typicalBody()); // warm: the org's configuration, the rate block
  const counter = countRoundTrips(documentClient());
  try {
    for (let round = 0; round < rounds; round++) {
      const body = typicalBody(newIdentity());
      counter.reset();
      const race = await Promise.all(Array.from({ length: COPIES }, () => timed(body)));
      const won = race.filter((r) => r.status === 200);
      const lost = race.filter((r) => r.status === 409);
      if (won.length !== 1 || lost.length !== COPIES - 1) throw new Error(`race: ${race.map((r) => r.status).join(' ')}`);
      losers.push(...lost.map((r) => r.ms));
      mostTrips = Math.max(mostTrips, counter.httpRequests() / COPIES);
      const crowd = await Promise.all(Array.from({ length: COPIES }, () => timed(typicalBody(newIdentity()))));
      if (crowd.some((r) => r.status !== 200)) throw new Error('different new customers failed');
      different.push(...crowd.map((r) => r.ms));
      for (let i = 0; i < COPIES; i++) lone.push((await timed(typicalBody(newIdentity()))).ms);
    }
  } finally {
    counter.detach();
  }
  const loser = p99(losers);
  const crowd = p99(different);
  const alone = p99(lone);
  const figures: Figure[] = [
    {
      name: 'p99 of a loser in a 40-way race',
      group: 'races',
      value: `${ms(loser)} ms`,
      floor: `${ms(crowd)} ms (40 different new customers at once)`,
      ratio: ratioOf(loser, crowd),
      target: '≤ 3',
      met: loser <= 3 * crowd,
      note: `${rounds} rounds of ${COPIES} identical registrations at once in one process against DynamoDB Local: one 200, ${COPIES - 1} × 409 / 8006; ${mostTrips.toFixed(2)} DynamoDB requests per copy on average in the busiest round: a loser's transaction is cancelled naming the winner and it answers after at most one more call, where a new customer sends one, so about twice the crowd's time is its floor; retrying until the deadline, or queueing behind every copy for the rate counter, would be tens of times. A lone request's p99: ${ms(alone)} ms (${ms(loser / alone)} times).`,
      evidence: { loserP99: loser, crowdP99: crowd, loneP99: alone },
    },
  ];
  return { title: 'Races', figures, notes: [] };
}
