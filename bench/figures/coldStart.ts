import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';
import { fullFormats } from 'ajv-formats/dist/formats';
import { compareTrimmedMetadata, writeTrimmedMetadata } from '../support/phoneMetadata';
import { postEvent, typicalBody } from '../support/requests';
import { ms, ratioOf, spread, timing, type Figure, type Section, type Spread } from '../support/report';

// Cold start: the esbuild bundle of handlers/addCustomer.ts against a bundle that only holds the
// DynamoDB client, and the time a new Node process takes to load each bundle and answer a first
// request against DynamoDB in memory.

const ROOT = resolve(__dirname, '..', '..');

/** esbuild options of the brief: bundle, node, node20, minified, CommonJS. */
async function bundle(
  entry: string,
  outfile: string,
  plugins: Plugin[] = [],
): Promise<{ bytes: number; gzip: number; metafile: Metafile }> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    plugins,
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
function bundleBreakdown(metafile: Metafile): [string, number][] {
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

// ---- diagnostics: the handler with one cause taken out, to measure what each costs ----

/**
 * The password check without scrypt: `verifyPassword` accepts any well-formed stored hash.
 * Not a proposal (SPEC section 2 requires the check): it measures what scrypt costs a till's
 * first request in a new process.
 */
function withoutScrypt(): Plugin {
  return {
    name: 'bench-without-scrypt',
    setup(b) {
      b.onLoad({ filter: /[\\/]lib[\\/]passwords\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const renamed = source.replace('export async function verifyPassword(', 'async function verifyPasswordWithScrypt(');
        if (renamed === source) throw new Error('without scrypt: verifyPassword not found in lib/passwords.ts');
        return {
          contents: `${renamed}\nvoid verifyPasswordWithScrypt;\nexport async function verifyPassword(_md5: string, stored: string): Promise<boolean> { return stored.startsWith('scrypt$'); }\n`,
          loader: 'ts',
        };
      });
    },
  };
}

/** A JSON-line logger of the fields lib/log.ts writes, in place of pino. */
const SMALL_LOGGER = `
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
function logger(options) {
  const wanted = (options && options.level) || 'info';
  const threshold = wanted === 'silent' ? Infinity : LEVELS[wanted] || 30;
  const log = {};
  for (const name of Object.keys(LEVELS)) {
    log[name] = LEVELS[name] < threshold ? () => {} : (fields, msg) => {
      const line = Object.assign({ level: name, time: new Date().toISOString() }, typeof fields === 'object' ? fields : { msg: fields });
      if (msg !== undefined) line.msg = msg;
      if (line.err instanceof Error) line.err = { type: line.err.name, message: line.err.message, stack: line.err.stack };
      process.stdout.write(JSON.stringify(line) + '\\n');
    };
  }
  return log;
}
logger.stdTimeFunctions = { isoTime: () => ',"time":"' + new Date().toISOString() + '"' };
module.exports = logger;
module.exports.default = logger;
`;

/**
 * The three bundle cuts that keep the service's behaviour: pino replaced by SMALL_LOGGER; the
 * email pattern of ajv-formats copied in; libphonenumber-js/mobile replaced by its core with
 * the mobile metadata less national formatting rules (support/phoneMetadata.ts).
 */
function bundleCuts(metadataFile: string): Plugin {
  const modules: Record<string, string> = {
    pino: SMALL_LOGGER,
    formats: `export const fullFormats = { email: ${fullFormats.email.toString()} };`,
    phone: [
      `import { parsePhoneNumberFromString as parse, getCountries as countries } from 'libphonenumber-js/core';`,
      `import metadata from ${JSON.stringify(metadataFile)};`,
      `export function parsePhoneNumberFromString(...args) { return parse(...args, metadata); }`,
      `export function getCountries() { return countries(metadata); }`,
    ].join('\n'),
  };
  return {
    name: 'bench-bundle-cuts',
    setup(b) {
      b.onResolve({ filter: /^pino$/ }, () => ({ path: 'pino', namespace: 'bench-cut' }));
      b.onResolve({ filter: /^ajv-formats\/dist\/formats$/ }, () => ({ path: 'formats', namespace: 'bench-cut' }));
      b.onResolve({ filter: /^libphonenumber-js\/mobile$/ }, () => ({ path: 'phone', namespace: 'bench-cut' }));
      b.onLoad({ filter: /.*/, namespace: 'bench-cut' }, (args) => ({ contents: modules[args.path], resolveDir: ROOT, loader: 'js' }));
    },
  };
}

/** Packages of the pino logger. */
const PINO =
  /^(pino|pino-[\w-]+|@pinojs\/[\w-]+|thread-stream|sonic-boom|safe-stable-stringify|on-exit-leak-free|atomic-sleep|quick-format-unescaped|real-require|process-warning|fast-redact|slow-redact)$/;

export interface ColdStartOptions {
  runs: number;
  workDir: string;
  /** JSON of the in-memory table (org 100 and its tills). */
  memoryItems: string;
}

interface Variant {
  key: 'handler' | 'floor' | 'withoutScrypt' | 'cuts' | 'cutsWithoutScrypt';
  entry: string;
  plugins: Plugin[];
  runs: ColdRun[];
  bytes: number;
}

export async function measureColdStart(options: ColdStartOptions): Promise<Section> {
  const { runs, workDir, memoryItems } = options;
  const metadataFile = join(workDir, 'phone-metadata.json');
  const metadata = writeTrimmedMetadata(metadataFile);
  const metadataCheck = compareTrimmedMetadata();
  const cuts = bundleCuts(metadataFile);

  const deployed = await bundle('handlers/addCustomer.ts', join(workDir, 'addCustomer.js'));
  const deployedCut = await bundle('handlers/addCustomer.ts', join(workDir, 'addCustomer-cut.js'), [cuts]);
  const clientOnly = await bundle('bench/cold/floorClient.ts', join(workDir, 'floorClient.js'));

  const variants: Variant[] = [
    { key: 'handler', entry: 'bench/cold/handlerEntry.ts', plugins: [], runs: [], bytes: 0 },
    { key: 'floor', entry: 'bench/cold/floorEntry.ts', plugins: [], runs: [], bytes: 0 },
    { key: 'withoutScrypt', entry: 'bench/cold/handlerEntry.ts', plugins: [withoutScrypt()], runs: [], bytes: 0 },
    { key: 'cuts', entry: 'bench/cold/handlerEntry.ts', plugins: [cuts], runs: [], bytes: 0 },
    { key: 'cutsWithoutScrypt', entry: 'bench/cold/handlerEntry.ts', plugins: [cuts, withoutScrypt()], runs: [], bytes: 0 },
  ];
  const fileOf = (v: Variant) => join(workDir, `cold-${v.key}.js`);
  for (const v of variants) v.bytes = (await bundle(v.entry, fileOf(v), v.plugins)).bytes;

  const event = JSON.stringify(postEvent(typicalBody()));
  // One untimed run of each first (file cache), then round-robin so that drift hits all.
  for (const v of variants) await coldRun(fileOf(v), event, memoryItems);
  for (let i = 0; i < runs; i++) for (const v of variants) v.runs.push(await coldRun(fileOf(v), event, memoryItems));
  const byKey = Object.fromEntries(variants.map((v) => [v.key, v])) as Record<Variant['key'], Variant>;

  const of = (list: ColdRun[], key: keyof ColdRun): Spread => spread(list.map((r) => r[key]));
  const median = (key: Variant['key'], phase: keyof ColdRun) => of(byKey[key].runs, phase).median;
  const handlerTotal = of(byKey.handler.runs, 'total');
  const floorTotal = of(byKey.floor.runs, 'total');
  const sizeRatio = ratioOf(deployed.bytes, clientOnly.bytes);
  const timeRatio = ratioOf(handlerTotal.median, floorTotal.median);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  const handlerParts = bundleBreakdown(deployed.metafile);
  const floorParts = new Set(bundleBreakdown(clientOnly.metafile).map(([name]) => name));
  const top = handlerParts
    .slice(0, 8)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(', ');
  // What the handler bundle has that the client-only bundle has not.
  const extra = handlerParts.filter(([name]) => !floorParts.has(name));
  const bytesOf = (test: (name: string) => boolean) => extra.filter(([name]) => test(name)).reduce((sum, [, b]) => sum + b, 0);
  const parts = {
    phone: bytesOf((n) => n === 'libphonenumber-js'),
    pino: bytesOf((n) => PINO.test(n)),
    schemas: bytesOf((n) => n === 'lib/schemas'),
    ajvFormats: bytesOf((n) => n === 'ajv-formats'),
    lib: bytesOf((n) => n.startsWith('lib/') && n !== 'lib/schemas'),
    middy: bytesOf((n) => n.startsWith('@middy/')),
  };
  const other = extra.reduce((sum, [, b]) => sum + b, 0) - Object.values(parts).reduce((a, b) => a + b, 0);
  const extraText =
    `libphonenumber-js ${kb(parts.phone)} (its mobile metadata ${kb(metadata.fullBytes)} as JSON, of which national formatting rules ${kb(metadata.fullBytes - metadata.bytes)}), ` +
    `pino and its dependencies ${kb(parts.pino)}, the generated validators (lib/schemas) ${kb(parts.schemas)}, ajv-formats ${kb(parts.ajvFormats)}, ` +
    `the rest of lib/ ${kb(parts.lib)}, @middy ${kb(parts.middy)}, other ${kb(other)}`;
  const phases = (key: Variant['key']) => {
    const list = byKey[key].runs;
    return `node start ${timing(of(list, 'boot'))}, require of the bundle ${timing(of(list, 'load'))}, first request ${timing(of(list, 'request'))}`;
  };
  const line = (key: Variant['key'], label: string) =>
    `${label} (${kb(byKey[key].bytes)}): total ${ms(median(key, 'total'))} ms, ratio ${(median(key, 'total') / floorTotal.median).toFixed(2)}; require ${ms(median(key, 'load'))} ms, first request ${ms(median(key, 'request'))} ms`;
  const checked =
    metadataCheck.differences.length === 0
      ? `the trimmed metadata gave the same validity and E.164 as the full one for all ${metadataCheck.inputs} inputs checked this run (${metadataCheck.valid} valid)`
      : `the trimmed metadata DIFFERED from the full one on ${metadataCheck.differences.length} of ${metadataCheck.inputs} inputs, e.g. ${metadataCheck.differences.slice(0, 3).join('; ')}`;

  const figures: Figure[] = [
    {
      group: 'cold start',
      name: 'cold start / bundle size',
      value: `${kb(deployed.bytes)} (gzip ${kb(deployed.gzip)})`,
      floor: `${kb(clientOnly.bytes)} (gzip ${kb(clientOnly.gzip)})`,
      ratio: sizeRatio,
      target: '≤ 1.3',
      met: sizeRatio <= 1.3,
      note:
        `esbuild 0.28 (bundle, platform node, target node20, minify, cjs) of handlers/addCustomer.ts against bench/cold/floorClient.ts (client-dynamodb + lib-dynamodb, one TransactWriteCommand). Largest parts of the handler bundle: ${top}. ` +
        `Beyond the client-only bundle it carries ${extraText}. ` +
        `Diagnostic: the same handler built with three cuts that keep its behaviour (pino replaced by a JSON-line logger of the same fields; the email pattern of ajv-formats copied in; libphonenumber-js/core with the mobile metadata less national formatting rules, which parsing and validation do not read: ${checked}): ` +
        `${kb(deployedCut.bytes)}, ratio ${ratioOf(deployedCut.bytes, clientOnly.bytes).toFixed(2)}.`,
      evidence: {
        handlerBytes: deployed.bytes,
        floorBytes: clientOnly.bytes,
        cutBytes: deployedCut.bytes,
        phoneBytes: parts.phone,
        metadataBytes: metadata.fullBytes,
        formatBytes: metadata.fullBytes - metadata.bytes,
        pinoBytes: parts.pino,
        schemaBytes: parts.schemas,
        ajvFormatsBytes: parts.ajvFormats,
        libBytes: parts.lib,
        middyBytes: parts.middy,
        metadataInputs: metadataCheck.inputs,
        metadataDifferences: metadataCheck.differences.length,
      },
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
        `${runs} runs of each bundle, round-robin, after one untimed run of each; spawn of \`node\` to the first response, measured by the parent; DynamoDB in memory (bench/support/memoryDynamo.ts, inside every bundle). ` +
        `Handler (bench/cold/handlerEntry.ts, ${kb(byKey.handler.bytes)}): ${phases('handler')}. ` +
        `Floor (bench/cold/floorEntry.ts, ${kb(byKey.floor.bytes)}): ${phases('floor')}. ` +
        `The handler's first request reads the till, verifies its password (scrypt, as SPEC section 2 requires; Node's default cost N = 16384, r = 8) while it reads the org, updates the rate counter and sends the transaction; the floor sends the transaction. ` +
        `Diagnostics, the same handler built with one cause taken out (medians): ${line('withoutScrypt', 'without scrypt (verifyPassword accepting any stored hash; not a proposal)')}; ` +
        `${line('cuts', 'with the three bundle cuts under bundle size, scrypt kept')}; ${line('cutsWithoutScrypt', 'with both')}.`,
      evidence: {
        handler: handlerTotal.median,
        floor: floorTotal.median,
        handlerLoad: median('handler', 'load'),
        floorLoad: median('floor', 'load'),
        handlerRequest: median('handler', 'request'),
        floorRequest: median('floor', 'request'),
        withoutScrypt: median('withoutScrypt', 'total'),
        withoutScryptRequest: median('withoutScrypt', 'request'),
        cuts: median('cuts', 'total'),
        cutsLoad: median('cuts', 'load'),
        cutsWithoutScrypt: median('cutsWithoutScrypt', 'total'),
      },
    },
  ];
  return { title: 'Cold start', figures, notes: [] };
}
