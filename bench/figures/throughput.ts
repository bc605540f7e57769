import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { handler } from '../../handlers/addCustomer';
import { documentClient } from '../../lib/store/client';
import { ensureTable } from '../../scripts/table';
import { lambdaContext, postEvent, typicalBody } from '../support/requests';
import { ratioOf, spread, type Figure, type Section } from '../support/report';

// Registrations per second through the handler against DynamoDB Local (in memory) with a fixed
// number of requests in flight, against the same transactions sent raw from the same client.
// Rounds alternate handler and raw; the raw round replays, into a second table, exactly the
// transactions the handler round sent.

export interface ThroughputOptions {
  raw: DynamoDBClient;
  rounds: number;
  perRound: number;
  inFlight: number;
  warmup: number;
}

/** Runs `count` tasks with `inFlight` of them in flight; seconds taken. */
async function pool(count: number, inFlight: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (performance.now() - started) / 1000;
}

type Transaction = NonNullable<TransactWriteCommandInput['TransactItems']>;

async function handlerRound(
  count: number,
  inFlight: number,
): Promise<{ rate: number; transactions: Transaction[]; counterUpdates: number }> {
  const events = Array.from({ length: count }, () => postEvent(typicalBody()));
  const transactions: Transaction[] = [];
  let counterUpdates = 0;
  const name = `benchThroughputCapture${Date.now()}`;
  const client = documentClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand') transactions.push((args.input as TransactWriteCommandInput).TransactItems!);
      if (context.commandName === 'UpdateItemCommand') counterUpdates += 1;
      return next(args);
    },
    { step: 'initialize', name, priority: 'high' },
  );
  let failures = 0;
  let lastFailure = '';
  try {
    const seconds = await pool(count, inFlight, async (i) => {
      const response = await handler(events[i], lambdaContext());
      if (response.statusCode !== 200) {
        failures += 1;
        lastFailure = `${response.statusCode} ${response.body}`;
      }
    });
    if (failures > 0) throw new Error(`throughput: ${failures} of ${count} registrations failed, e.g. ${lastFailure}`);
    return { rate: count / seconds, transactions, counterUpdates };
  } finally {
    client.middlewareStack.remove(name);
  }
}

async function rawRound(transactions: Transaction[], table: string, inFlight: number): Promise<number> {
  const client = documentClient();
  const retargeted = transactions.map((items) =>
    items.map((item) => Object.fromEntries(Object.entries(item).map(([kind, body]) => [kind, { ...body, TableName: table }]))),
  );
  const seconds = await pool(retargeted.length, inFlight, async (i) => {
    await client.send(new TransactWriteCommand({ TransactItems: retargeted[i] as Transaction }));
  });
  return retargeted.length / seconds;
}

export async function measureThroughput(options: ThroughputOptions): Promise<Section> {
  const rawTable = `${process.env.TABLE_NAME}-raw`;
  await ensureTable(options.raw, rawTable);
  const warm = await handlerRound(options.warmup, options.inFlight);
  await rawRound(warm.transactions, rawTable, options.inFlight);

  const handlerRates: number[] = [];
  const rawRates: number[] = [];
  let counterUpdates = 0;
  for (let round = 0; round < options.rounds; round++) {
    const { rate, transactions, counterUpdates: updates } = await handlerRound(options.perRound, options.inFlight);
    handlerRates.push(rate);
    counterUpdates += updates;
    rawRates.push(await rawRound(transactions, rawTable, options.inFlight));
  }
  const handlerRate = spread(handlerRates);
  const rawRate = spread(rawRates);
  const ratio = ratioOf(handlerRate.median, rawRate.median);
  const perSecond = (s: ReturnType<typeof spread>) => `${s.median.toFixed(0)}/s (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)})`;
  const figure: Figure = {
    group: 'throughput',
    name: `throughput / registrations per second, ${options.inFlight} in flight`,
    value: perSecond(handlerRate),
    floor: perSecond(rawRate),
    ratio,
    target: '≥ 0.8',
    met: ratio >= 0.8,
    note:
      `${options.rounds} rounds of ${options.perRound} typical registrations through the real handler (in this process, LOG_LEVEL=silent) against DynamoDB Local in memory, ` +
      `each followed by the same ${options.perRound} TransactWriteItems replayed from the same document client into a second table of the same DynamoDB Local; ` +
      `after a warm-up of ${options.warmup} of each. Medians of the rounds. ` +
      `Besides the transaction the handler sends the rate counter's block reservations (UpdateItem on the org's one window item; the raw run sends none): ` +
      `${counterUpdates} in the ${options.rounds * options.perRound} measured registrations, ${(counterUpdates / (options.rounds * options.perRound)).toFixed(4)} per registration.`,
    evidence: { handler: handlerRate.median, raw: rawRate.median, counterPerRequest: counterUpdates / (options.rounds * options.perRound) },
  };
  return { title: 'Throughput', figures: [figure], notes: [] };
}
