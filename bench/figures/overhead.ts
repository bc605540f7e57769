import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ms, ratioOf, type Figure, type Section } from '../support/report';
import { TASKS, type OverheadResults, type TaskStats } from './overheadTasks';

/**
 * Warm handler overhead: runs overheadChild.ts in its own process (production log level,
 * stdout discarded) and turns its tinybench results into the figure.
 */

export interface OverheadOptions {
  workDir: string;
  /** tinybench time per task, ms. */
  taskMs: number;
}

function runChild(out: string, items: string, taskMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'overheadChild.ts'), out, items], {
      env: { ...process.env, LOG_LEVEL: 'info', BENCH_TASK_MS: String(taskMs), DYNAMODB_ENDPOINT: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`overhead benchmark exited ${code}: ${stderr.trim()}`))));
  });
}

const show = (s: TaskStats) => `${ms(s.p50)} ms (min ${ms(s.min)}, max ${ms(s.max)})`;

export async function measureOverhead(options: OverheadOptions): Promise<{ section: Section; memoryItems: string }> {
  const out = join(options.workDir, 'overhead.json');
  const memoryItems = join(options.workDir, 'memory-items.json');
  await runChild(out, memoryItems, options.taskMs);
  const results = JSON.parse(readFileSync(out, 'utf8')) as OverheadResults;
  const handler = results[TASKS.handler];
  const floor = results[TASKS.floor];
  const ratio = ratioOf(handler.p50, floor.p50);
  const phases = [TASKS.auth, TASKS.rate, TASKS.read, TASKS.transaction]
    .map((name) => `${name.replace('phase: ', '')}: ${ms(results[name].p50)} ms`)
    .join('; ');
  const noCounter = results[TASKS.noCounter];
  const figure: Figure = {
    group: 'handler overhead',
    name: 'handler overhead / warm invocation',
    value: show(handler),
    floor: show(floor),
    ratio,
    target: '≤ 1.5',
    met: ratio <= 1.5,
    note:
      `tinybench medians (${handler.samples} and ${floor.samples} samples, ${options.taskMs} ms per task) of the real handlers/addCustomer.ts handler ` +
      `(LOG_LEVEL=info, stdout discarded) and of bench/figures/floorHandler.ts (JSON.parse, planCreateCustomer, one TransactWriteCommand), ` +
      `both over the same document client with DynamoDB answering from memory below the SDK (bench/support/memoryDynamo.ts: ` +
      `marshalling, serialising, signing and parsing all run; the network does not). Typical registration (mobile, email, externalId, INSTORE), ` +
      `credentials and org configuration cached by a first request. Medians of the handler's phases, timed alone: ${phases}. ` +
      `The same handler with the rate counter's UpdateItem answered without going through the SDK (a diagnostic, as if the counter cost nothing per request): ` +
      `${show(noCounter)}, ratio ${(noCounter.p50 / floor.p50).toFixed(2)}.`,
  };
  return { section: { title: 'Warm handler overhead', figures: [figure], notes: [] }, memoryItems };
}
