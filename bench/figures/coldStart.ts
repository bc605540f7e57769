import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { postEvent, typicalBody } from '../support/requests';
import { ratioOf, spread, timing, type Figure, type Section, type Spread } from '../support/report';

/**
 * Cold start: the esbuild bundle of handlers/addCustomer.ts against a bundle that only holds the
 * DynamoDB client, and the time a new Node process takes to load each bundle and answer a first
 * request against DynamoDB in memory.
 */

const ROOT = resolve(__dirname, '..', '..');

/** esbuild options of the brief: bundle, node, node20, minified, CommonJS. */
async function bundle(entry: string, outfile: string): Promise<{ bytes: number; gzip: number; metafile: Metafile }> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    minify: true,
    format: 'cjs',
    metafile: true,
    logLevel: 'error',
  });
  return { bytes: statSync(outfile).size, gzip: gzipSync(readFileSync(outfile)).length, metafile: result.metafile };
}

/** Bytes of the bundle by package (node_modules/<package>) or project folder. */
export function bundleBreakdown(metafile: Metafile): [string, number][] {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const match = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(path);
      const key = match ? match[1] : path.split('/').slice(0, 2).join('/');
      sizes.set(key, (sizes.get(key) ?? 0) + input.bytesInOutput);
    }
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
}

/** Loads the bundle in a new process and runs its first request; what the child reports. */
const RUNNER = `
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const bundle = require(process.env.BENCH_BUNDLE);
const t1 = performance.now();
const event = JSON.parse(process.env.BENCH_EVENT);
const context = { awsRequestId: 'cold-start', functionName: 'addCustomer', getRemainingTimeInMillis: () => 10000 };
bundle.firstRequest(event, context).then((response) => {
  const t2 = performance.now();
  process.stdout.write('\\nBENCH ' + JSON.stringify({ boot: t0, load: t1 - t0, request: t2 - t1, status: response.statusCode, body: response.body }) + '\\n');
}, (error) => { console.error(error); process.exit(1); });
`;

interface ColdRun {
  /** From spawn to the first response, measured by the parent. */
  total: number;
  boot: number;
  load: number;
  request: number;
}

function coldRun(bundlePath: string, event: string, items: string): Promise<ColdRun> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', RUNNER], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        TABLE_NAME: process.env.TABLE_NAME,
        LOG_LEVEL: 'info',
        BENCH_BUNDLE: bundlePath,
        BENCH_EVENT: event,
        BENCH_MEMORY_ITEMS: items,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let result: ColdRun | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /\nBENCH (.*)\n/.exec(stdout);
      if (match && !result) {
        const total = performance.now() - started;
        const reported = JSON.parse(match[1]) as { boot: number; load: number; request: number; status: number; body: string };
        if (reported.status !== 200) {
          reject(new Error(`cold start of ${bundlePath}: status ${reported.status} ${reported.body}`));
          return;
        }
        result = { total, boot: reported.boot, load: reported.load, request: reported.request };
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result) resolvePromise(result);
      else reject(new Error(`cold start of ${bundlePath} exited ${code}: ${stderr.trim()}`));
    });
  });
}

export interface ColdStartOptions {
  runs: number;
  workDir: string;
  /** JSON of the in-memory table (org 100 and its tills). */
  memoryItems: string;
}

export async function measureColdStart(options: ColdStartOptions): Promise<Section> {
  const { runs, workDir, memoryItems } = options;
  const deployed = await bundle('handlers/addCustomer.ts', join(workDir, 'addCustomer.js'));
  const clientOnly = await bundle('bench/cold/floorClient.ts', join(workDir, 'floorClient.js'));
  const timedHandler = await bundle('bench/cold/handlerEntry.ts', join(workDir, 'handlerEntry.js'));
  const timedFloor = await bundle('bench/cold/floorEntry.ts', join(workDir, 'floorEntry.js'));

  const event = JSON.stringify(postEvent(typicalBody()));
  const handlerRuns: ColdRun[] = [];
  const floorRuns: ColdRun[] = [];
  // One untimed run of each first (file cache), then alternate so that drift hits both.
  await coldRun(join(workDir, 'handlerEntry.js'), event, memoryItems);
  await coldRun(join(workDir, 'floorEntry.js'), event, memoryItems);
  for (let i = 0; i < runs; i++) {
    handlerRuns.push(await coldRun(join(workDir, 'handlerEntry.js'), event, memoryItems));
    floorRuns.push(await coldRun(join(workDir, 'floorEntry.js'), event, memoryItems));
  }
  const of = (list: ColdRun[], key: keyof ColdRun): Spread => spread(list.map((r) => r[key]));
  const handlerTotal = of(handlerRuns, 'total');
  const floorTotal = of(floorRuns, 'total');
  const sizeRatio = ratioOf(deployed.bytes, clientOnly.bytes);
  const timeRatio = ratioOf(handlerTotal.median, floorTotal.median);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  const top = bundleBreakdown(deployed.metafile)
    .slice(0, 8)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(', ');
  const phases = (list: ColdRun[]) =>
    `node start ${timing(of(list, 'boot'))}, require of the bundle ${timing(of(list, 'load'))}, first request ${timing(of(list, 'request'))}`;

  const figures: Figure[] = [
    {
      group: 'cold start',
      name: 'cold start / bundle size',
      value: `${kb(deployed.bytes)} (gzip ${kb(deployed.gzip)})`,
      floor: `${kb(clientOnly.bytes)} (gzip ${kb(clientOnly.gzip)})`,
      ratio: sizeRatio,
      target: '≤ 1.3',
      met: sizeRatio <= 1.3,
      note: `esbuild 0.28 (bundle, platform node, target node20, minify, cjs) of handlers/addCustomer.ts against bench/cold/floorClient.ts (client-dynamodb + lib-dynamodb, one TransactWriteCommand). Largest parts of the handler bundle: ${top}.`,
    },
    {
      group: 'cold start',
      name: 'cold start / new process to first response',
      value: timing(handlerTotal),
      floor: timing(floorTotal),
      ratio: timeRatio,
      target: '≤ 1.3',
      met: timeRatio <= 1.3,
      note:
        `${runs} runs each, alternating, after one untimed run of each; spawn of \`node\` to the first response, measured by the parent; DynamoDB in memory (bench/support/memoryDynamo.ts, inside both bundles). ` +
        `Handler (bench/cold/handlerEntry.ts, ${kb(timedHandler.bytes)}): ${phases(handlerRuns)}. ` +
        `Floor (bench/cold/floorEntry.ts, ${kb(timedFloor.bytes)}): ${phases(floorRuns)}. ` +
        `The handler's first request verifies the till's password (scrypt, as SPEC section 2 requires) and reads the till and the org.`,
    },
  ];
  return { title: 'Cold start', figures, notes: [] };
}
