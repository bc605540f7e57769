// Warm handler overhead, in a process of its own (spawned by overhead.ts with the production
// log level and stdout discarded, as a Lambda's log lines cost what they cost): the real
// addCustomer handler and the floor handler, both over DynamoDB answering from memory, plus the
// phases of the handler's work timed one by one and the rate counter updates the handler sent. Writes its results as JSON to argv[2] and, if
// argv[3] is given, the in-memory table (org 100 and its tills) there for the cold start.
import '../support/env';
import { writeFileSync } from 'node:fs';
import { Bench, type Task } from 'tinybench';
import { handler } from '../../handlers/addCustomer';
import { authenticate } from '../../lib/auth';
import { answer } from '../../lib/api/answer';
import { route } from '../../lib/http/route';
import { log } from '../../lib/log';
import { takeRequest } from '../../lib/rateLimit';
import { readRegistration } from '../../lib/registration/read';
import { newCustomerId } from '../../lib/registration/register';
import { checkAddCustomerBody } from '../../lib/schemas/validate';
import { useDocumentClient } from '../../lib/store/client';
import { planCreateCustomer } from '../../lib/store/plans';
import { runTransaction } from '../../lib/store/transactions';
import { DEMO_ORGS_FILE, loadOrgFiles } from '../../scripts/loadOrgs';
import { MemoryDynamo, memoryDocumentClient } from '../support/memoryDynamo';
import { lambdaContext, postEvent, typicalBody } from '../support/requests';
import { floorHandler } from './floorHandler';
import { COUNTER, TASKS, type OverheadResults, type TaskStats } from './overheadTasks';

async function main(out: string, itemsOut?: string): Promise<void> {
  const time = Number(process.env.BENCH_TASK_MS || 3000);
  const memory = new MemoryDynamo();
  const client = memoryDocumentClient(memory);
  useDocumentClient(client);
  await loadOrgFiles([DEMO_ORGS_FILE]);
  if (itemsOut) writeFileSync(itemsOut, JSON.stringify(memory));

  // A pool of registrations, so that the handler is not always given the very same strings.
  const events = Array.from({ length: 512 }, () => postEvent(typicalBody()));
  let next = 0;
  const event = () => events[next++ % events.length];
  const context = lambdaContext();

  const check = (response: { statusCode: number; body?: string }) => {
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}: ${response.body}`);
  };
  check(await handler(event(), context)); // caches credentials and org configuration
  const caller = await authenticate(events[0].headers.Authorization);
  const phaseBody = typicalBody();
  const phaseText = JSON.stringify(phaseBody);
  const readBody = () => {
    const { body, warnings } = checkAddCustomerBody(JSON.parse(phaseText));
    return readRegistration(body, warnings, { org: caller.org, till: caller.till, query: {}, now: new Date() });
  };
  const registration = readBody();

  // Two passes in opposite orders (handler then floor, floor then handler), samples merged,
  // so that a change of machine load during the run falls on both.
  let handled = 0;
  const tasks: Record<string, () => Promise<unknown> | unknown> = {
    [TASKS.handler]: async () => {
      handled += 1;
      check(await handler(event(), context));
    },
    [TASKS.floor]: async () => check(await floorHandler(event())),
  };
  const samples: Record<string, number[]> = {};
  memory.operations = {};
  for (const order of [
    [TASKS.handler, TASKS.floor],
    [TASKS.floor, TASKS.handler],
  ]) {
    const pass = new Bench({ time: time / 2, warmupTime: 500, throws: true, retainSamples: true });
    for (const name of order) pass.add(name, tasks[name]);
    await pass.run();
    for (const task of pass.tasks as Task[]) (samples[task.name] ??= []).push(...samplesOf(task));
  }
  // Only the handler sends UpdateItem (the rate counter's block reservations).
  const counterUpdates = memory.operations.UpdateItem ?? 0;
  const phases = new Bench({ time: Math.max(500, time / 3), warmupTime: 250, throws: true, retainSamples: true });
  phases.add(TASKS.auth, () => authenticate(events[0].headers.Authorization));
  phases.add(TASKS.rate, () => takeRequest(caller.org));
  phases.add(TASKS.read, () => {
    readBody();
  });
  phases.add(TASKS.transaction, () => runTransaction(planCreateCustomer(registration, newCustomerId())));
  // The same wrapper as handlers/addCustomer.ts, around a handler that answers at once.
  const emptyRoute = route('addCustomer', { body: true }, async () => answer(200, {}));
  phases.add(TASKS.route, async () => check(await emptyRoute(event(), context)));
  const logFields = {
    requestId: context.awsRequestId,
    route: 'addCustomer',
    org: 100,
    outcome: 'created',
    status: 200,
    code: undefined,
    latencyMs: 1,
  };
  phases.add(TASKS.log, () => log.info('request', logFields));
  await phases.run();
  for (const task of phases.tasks as Task[]) samples[task.name] = samplesOf(task);

  const results: OverheadResults = {};
  for (const [name, list] of Object.entries(samples)) results[name] = statsOf(list);
  results[COUNTER] = { p50: counterUpdates / handled, min: counterUpdates, max: handled, mean: counterUpdates / handled, samples: handled };
  writeFileSync(out, JSON.stringify(results, null, 2));
}

function samplesOf(task: Task): number[] {
  const result = task.result;
  if (!('latency' in result) || !result.latency.samples) throw new Error(`${task.name}: ${result.state}`);
  return [...result.latency.samples];
}

function statsOf(list: number[]): TaskStats {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return {
    p50: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
    samples: sorted.length,
  };
}

if (require.main === module) {
  main(process.argv[2], process.argv[3]).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
