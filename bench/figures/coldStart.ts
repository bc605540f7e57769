import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';
import { compareTrimmedMetadata, writeTrimmedMetadata } from '../support/phoneMetadata';
import { postEvent, typicalBody } from '../support/requests';
import { ms, ratioOf, spread, timing, type Figure, type Section, type Spread } from '../support/report';

// Cold start: the esbuild bundle of handlers/addCustomer.ts against a bundle that only holds the
// DynamoDB client, and the time a new Node process takes to load each bundle and answer a first
// request against DynamoDB in memory. The time's floor also checks the till's password once with
// the service's scrypt (bench/cold/floorEntry.ts), as SPEC section 2 requires of any
// implementation, so that the ratio is the handler's own overhead beyond required work.

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

// ---- diagnostics: one cause taken out, to measure what each costs ----

/**
 * The password check without scrypt: `verifyPassword` accepts any well-formed stored hash.
 * Not a proposal (SPEC section 2 requires the check): built into the floor, it measures what
 * scrypt costs a till's first request in a new process.
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

/** The email pattern of ajv-formats, if it is still installed (lib/identifiers.ts has its own copy now). */
function ajvEmailFormat(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return String((require('ajv-formats/dist/formats') as { fullFormats: { email: unknown } }).fullFormats.email);
  } catch {
    return undefined;
  }
}

interface Cut {
  /** What the cut replaces, for the note. */
  what: string;
  /** The bundle part (package or folder) it applies to. */
  part: string;
  filter: RegExp;
  contents: string;
}

/**
 * Bundle cuts that keep the service's behaviour, each only if what it replaces is in the
 * bundle: pino by SMALL_LOGGER; ajv-formats by its email pattern copied in; libphonenumber-js/mobile
 * by its core with the mobile metadata less national formatting rules (support/phoneMetadata.ts).
 */
function bundleCuts(metadataFile: string, parts: Set<string>): { plugin: Plugin; cuts: Cut[] } {
  const email = ajvEmailFormat();
  const candidates: Cut[] = [
    { what: 'pino replaced by a JSON-line logger of the same fields', part: 'pino', filter: /^pino$/, contents: SMALL_LOGGER },
    ...(email
      ? [
          {
            what: 'the email pattern of ajv-formats copied in',
            part: 'ajv-formats',
            filter: /^ajv-formats\/dist\/formats$/,
            contents: `export const fullFormats = { email: ${email} };`,
          },
        ]
      : []),
    {
      what: 'libphonenumber-js/core with the mobile metadata less national formatting rules, which parsing and validation do not read',
      part: 'libphonenumber-js',
      filter: /^libphonenumber-js\/mobile$/,
      contents: [
        `import { parsePhoneNumberFromString as parse, getCountries as countries } from 'libphonenumber-js/core';`,
        `import metadata from ${JSON.stringify(metadataFile)};`,
        `export function parsePhoneNumberFromString(...args) { return parse(...args, metadata); }`,
        `export function getCountries() { return countries(metadata); }`,
      ].join('\n'),
    },
  ];
  const cuts = candidates.filter((cut) => parts.has(cut.part));
  const plugin: Plugin = {
    name: 'bench-bundle-cuts',
    setup(b) {
      cuts.forEach((cut, index) => b.onResolve({ filter: cut.filter }, () => ({ path: String(index), namespace: 'bench-cut' })));
      b.onLoad({ filter: /.*/, namespace: 'bench-cut' }, (args) => ({
        contents: cuts[Number(args.path)].contents,
        resolveDir: ROOT,
        loader: 'js',
      }));
    },
  };
  return { plugin, cuts };
}

export interface ColdStartOptions {
  runs: number;
  workDir: string;
  /** JSON of the in-memory table (org 100 and its tills). */
  memoryItems: string;
}

interface Variant {
  key: 'handler' | 'floor' | 'floorWithoutScrypt' | 'cuts';
  entry: string;
  plugins: Plugin[];
  runs: ColdRun[];
  bytes: number;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

export async function measureColdStart(options: ColdStartOptions): Promise<Section> {
  const { runs, workDir, memoryItems } = options;
  const metadataFile = join(workDir, 'phone-metadata.json');
  const metadata = writeTrimmedMetadata(metadataFile);
  const metadataCheck = compareTrimmedMetadata();

  const deployed = await bundle('handlers/addCustomer.ts', join(workDir, 'addCustomer.js'));
  const clientOnly = await bundle('bench/cold/floorClient.ts', join(workDir, 'floorClient.js'));
  const handlerParts = bundleBreakdown(deployed.metafile);
  const floorParts = new Set(bundleBreakdown(clientOnly.metafile).map(([name]) => name));
  const { plugin: cutsPlugin, cuts } = bundleCuts(metadataFile, new Set(handlerParts.map(([name]) => name)));
  const deployedCut = await bundle('handlers/addCustomer.ts', join(workDir, 'addCustomer-cut.js'), [cutsPlugin]);

  const variants: Variant[] = [
    { key: 'handler', entry: 'bench/cold/handlerEntry.ts', plugins: [], runs: [], bytes: 0 },
    { key: 'floor', entry: 'bench/cold/floorEntry.ts', plugins: [], runs: [], bytes: 0 },
    { key: 'floorWithoutScrypt', entry: 'bench/cold/floorEntry.ts', plugins: [withoutScrypt()], runs: [], bytes: 0 },
    { key: 'cuts', entry: 'bench/cold/handlerEntry.ts', plugins: [cutsPlugin], runs: [], bytes: 0 },
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
  const top = handlerParts
    .slice(0, 8)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(', ');
  // What the handler bundle has that the client-only bundle has not, largest first.
  const extra = handlerParts.filter(([name]) => !floorParts.has(name));
  const extraBytes = extra.reduce((sum, [, b]) => sum + b, 0);
  const partBytes = (name: string) => extra.find(([n]) => n === name)?.[1] ?? 0;
  // The service's own code apart from the validators is one part, and a package scope with several packages another.
  const grouped = new Map<string, number>();
  for (const [name, bytes] of extra) {
    const group =
      name.startsWith('lib/') && name !== 'lib/schemas' ? 'the rest of lib/' : /^@aws-lambda-powertools\//.test(name) ? 'Powertools' : name;
    grouped.set(group, (grouped.get(group) ?? 0) + bytes);
  }
  const listed = [...grouped].filter(([, bytes]) => bytes >= 2048).sort((a, b) => b[1] - a[1]);
  const smaller = extraBytes - listed.reduce((sum, [, b]) => sum + b, 0);
  const powertools = extra.filter(([n]) => n.startsWith('@aws-lambda-powertools/')).map(([n, b]) => `${n.split('/')[1]} ${kb(b)}`);
  const extraText =
    listed
      .map(([name, bytes]) => {
        if (name === 'libphonenumber-js')
          return `libphonenumber-js ${kb(bytes)} (its mobile metadata ${kb(metadata.fullBytes)} as JSON, of which national formatting rules ${kb(metadata.fullBytes - metadata.bytes)})`;
        if (name === 'lib/schemas') return `the generated validators (lib/schemas) ${kb(bytes)}`;
        if (name === 'Powertools') return `@aws-lambda-powertools ${kb(bytes)} (${powertools.join(', ')})`;
        return `${name} ${kb(bytes)}`;
      })
      .join(', ') + (smaller > 0 ? `, smaller parts ${kb(smaller)}` : '');
  const phases = (key: Variant['key']) => {
    const list = byKey[key].runs;
    return `node start ${timing(of(list, 'boot'))}, require of the bundle ${timing(of(list, 'load'))}, first request ${timing(of(list, 'request'))}`;
  };
  const checked =
    metadataCheck.differences.length === 0
      ? `the trimmed metadata gave the same validity and E.164 as the full one for all ${metadataCheck.inputs} inputs checked this run (${metadataCheck.valid} valid)`
      : `the trimmed metadata DIFFERED from the full one on ${metadataCheck.differences.length} of ${metadataCheck.inputs} inputs, e.g. ${metadataCheck.differences.slice(0, 3).join('; ')}`;
  const cutsText = cuts.map((cut) => cut.what).join('; ');
  const scryptMs = median('floor', 'request') - median('floorWithoutScrypt', 'request');

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
        `Beyond the client-only bundle it carries ${kb(extraBytes)}: ${extraText}. ` +
        `Diagnostic: the same handler built with the cut${cuts.length === 1 ? '' : 's'} that keep${cuts.length === 1 ? 's' : ''} its behaviour (${cutsText}: ${checked}): ` +
        `${kb(deployedCut.bytes)}, ratio ${ratioOf(deployedCut.bytes, clientOnly.bytes).toFixed(2)}.`,
      evidence: {
        handlerBytes: deployed.bytes,
        floorBytes: clientOnly.bytes,
        extraBytes,
        cutBytes: deployedCut.bytes,
        phoneBytes: partBytes('libphonenumber-js'),
        metadataBytes: metadata.fullBytes,
        formatBytes: metadata.fullBytes - metadata.bytes,
        schemaBytes: partBytes('lib/schemas'),
        libBytes: grouped.get('the rest of lib/') ?? 0,
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
        `Handler (bench/cold/handlerEntry.ts, ${kb(byKey.handler.bytes)}): ${phases('handler')}. The handler's first request reads the till, verifies its password (scrypt, as SPEC section 2 requires; Node's default cost N = 16384, r = 8) while it reads the org, updates the rate counter and sends the transaction. ` +
        `Floor (bench/cold/floorEntry.ts, ${kb(byKey.floor.bytes)}): ${phases('floor')}. Its first request checks the till's password once against the stored hash with lib/passwords.ts (the same scrypt parameters) and sends the transaction. ` +
        `Diagnostics (medians): the floor without the scrypt check (verifyPassword accepting any stored hash) ${ms(median('floorWithoutScrypt', 'total'))} ms, first request ${ms(median('floorWithoutScrypt', 'request'))} ms, so scrypt is about ${ms(scryptMs)} ms of a first request in a new process; ` +
        `the handler with the bundle cuts under bundle size (${kb(byKey.cuts.bytes)}): total ${ms(median('cuts', 'total'))} ms, ratio ${(median('cuts', 'total') / floorTotal.median).toFixed(2)}; require ${ms(median('cuts', 'load'))} ms, first request ${ms(median('cuts', 'request'))} ms.`,
      evidence: {
        handler: handlerTotal.median,
        floor: floorTotal.median,
        handlerBoot: median('handler', 'boot'),
        floorBoot: median('floor', 'boot'),
        handlerLoad: median('handler', 'load'),
        floorLoad: median('floor', 'load'),
        handlerRequest: median('handler', 'request'),
        floorRequest: median('floor', 'request'),
        scrypt: scryptMs,
        cuts: median('cuts', 'total'),
        cutsLoad: median('cuts', 'load'),
        cutsRequest: median('cuts', 'request'),
        handlerBytes: byKey.handler.bytes,
        floorBytes: byKey.floor.bytes,
      },
    },
  ];
  return { title: 'Cold start', figures, notes: [] };
}
