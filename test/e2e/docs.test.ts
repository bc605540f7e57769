import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { signedHeaders } from '../../lib/webhooks/signature';
import stages from '../../config/stages.json';
import { basicAuth, TILLS } from '../support/http';
import { ROOT, useOffline } from '../support/offline';

// Every command block of the README and of docs/, run as a newcomer would paste them, in order,
// one shell per page, against serverless offline (the port of this run's server for
// localhost:3000), twice, as a second run on the same data is: answers checked against what the
// page says of them. A block is tagged by its fence: `sh` runs; `sh terminal` runs in a terminal
// of its own (started in the background, stopped with Ctrl-C once the page has run); `sh setup`
// (install, start, test) names npm scripts that must exist; `sh aws` needs an AWS account, and
// every flag it uses must be one its command's --help lists. Links between the pages must land on a heading or an anchor.

const run = promisify(execFile);
const offline = useOffline();

const PAGES = ['README.md', 'docs/integrating.md', 'docs/importing.md', 'docs/operating.md', 'docs/design.md', 'docs/CHANGELOG.md'];
const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');

interface Block {
  page: string;
  language: string;
  tag: string;
  text: string;
}

function blocksOf(page: string): Block[] {
  return [...read(page).matchAll(/^```(\S*)[ \t]*([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    page,
    language: m[1],
    tag: m[2].trim(),
    text: m[3],
  }));
}

const shellBlocks = (page: string, tag = '') => blocksOf(page).filter((b) => b.language === 'sh' && b.tag === tag);

/**
 * Runs a page's `sh` and `sh terminal` blocks in one bash, in order; returns each `sh` block's
 * output lines (blank lines dropped) and each terminal's output after its Ctrl-C.
 */
async function runPage(page: string, seed: number, cwd = ROOT): Promise<{ blocks: string[][]; terminals: string[][] }> {
  const port = new URL(offline.url).port;
  const logs = mkdtempSync(join(tmpdir(), 'docs-terminals-'));
  const blocks = blocksOf(page).filter((b) => b.language === 'sh' && (b.tag === '' || b.tag === 'terminal'));
  let terminals = 0;
  const script = [
    'set -euo pipefail',
    // Job control: each terminal is a process group of its own, which a Ctrl-C (SIGINT) stops.
    'set -m',
    // What a terminal shows: answers and a command's own lines (importers and checks write to stderr).
    'exec 2>&1',
    `RANDOM=${seed}`,
    'TERMINALS=()',
    // Each answer on a line of its own, as a terminal shows them one after the other.
    'curl() { command curl "$@"; echo; }',
    ...blocks.map((b, i) => {
      if (b.tag === '') return `echo "=== block ${i}"\n${b.text}\necho`;
      const log = join(logs, `terminal-${terminals++}.log`);
      // Started as a person starts it in another terminal, then given time to say it is ready.
      return [
        `(\n${b.text}\n) > ${log} 2>&1 &`,
        'TERMINALS+=($!)',
        // Ready once it printed two lines of its own (npm's banner lines start with "> ").
        `for _ in $(seq 150); do [ "$(grep -c -v -e '^>' -e '^$' ${log} 2>/dev/null || true)" -ge 2 ] && break; sleep 0.2; done`,
      ].join('\n');
    }),
    'for pid in "${TERMINALS[@]}"; do kill -INT -- "-$pid" 2>/dev/null || true; wait "$pid" || true; done',
  ]
    .join('\n')
    .replaceAll('localhost:3000', `127.0.0.1:${port}`);
  const { stdout } = await run('bash', ['-c', script], {
    cwd,
    maxBuffer: 20 * 1024 * 1024,
    env: { ...process.env, LOG_LEVEL: 'silent', FORCE_COLOR: '0' },
  });
  const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');
  return {
    blocks: stdout
      .split(/^=== block \d+\n/m)
      .slice(1)
      .map(lines),
    terminals: Array.from({ length: terminals }, (_, i) => lines(readFileSync(join(logs, `terminal-${i}.log`), 'utf8'))),
  };
}

const json = (line: string | undefined) => JSON.parse(line ?? 'null');
const codes = (items: { code: number }[]) => items.map((i) => i.code);

test('every command block is tagged for how it runs, and every link between the pages lands', () => {
  const problems: string[] = [];
  for (const page of PAGES) {
    for (const block of blocksOf(page)) {
      if (block.language === 'sh' && !['', 'terminal', 'setup', 'aws'].includes(block.tag))
        problems.push(`${page}: sh block tagged "${block.tag}"`);
      if (block.language === '' && /^\s*(npm|npx|curl)\s/m.test(block.text)) problems.push(`${page}: an untagged block holds commands`);
    }
    const text = read(page).replace(/^```[\s\S]*?^```$/gm, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [file, anchor] = target.split('#');
      const path = file === '' ? join(ROOT, page) : join(ROOT, dirname(page), file);
      if (!existsSync(path)) {
        problems.push(`${page}: link to missing ${target}`);
        continue;
      }
      if (anchor && path.endsWith('.md') && !anchorsOf(readFileSync(path, 'utf8')).has(anchor))
        problems.push(`${page}: no anchor for ${target}`);
    }
  }
  expect(problems).toEqual([]);
  expect(read('README.md').split('\n').length).toBeLessThanOrEqual(150);
  expect(read('README.md')).toContain('```mermaid');
});

/** The anchors GitHub makes of a page's headings, and its explicit `<a id>`s. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6} (.+)$/gm)) {
    anchors.add(
      heading
        .toLowerCase()
        .replace(/[`*_]/g, '')
        .replace(/[^\p{L}\p{N} -]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  for (const [, id] of text.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(id);
  return anchors;
}

test('setup blocks name npm scripts that exist; AWS blocks use stages that exist and flags their commands document', async () => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  for (const page of PAGES) {
    for (const block of shellBlocks(page, 'setup')) {
      for (const [, name] of block.text.matchAll(/npm (?:run )?([a-z:-]+)/g)) {
        if (name !== 'ci' && name !== 'run') expect({ page, name, exists: name in scripts }).toEqual({ page, name, exists: true });
      }
    }
    for (const block of shellBlocks(page, 'aws')) {
      for (const line of block.text.split('\n').filter((l) => /^(npm|npx) /.test(l))) {
        const stage = /--stage (\S+)/.exec(line)?.[1];
        if (stage) expect({ line, stage: stage in stages }).toEqual({ line, stage: true });
        const script = /^npm run (\S+) --/.exec(line)?.[1];
        if (!script) continue;
        const { stdout } = await run('npm', ['run', '-s', script, '--', '--help'], { cwd: ROOT });
        for (const [, flag] of line.matchAll(/ (--[a-z-]+)/g))
          expect({ line, flag, documented: stdout.includes(flag) }).toEqual({ line, flag, documented: true });
      }
    }
  }
}, 120_000);

test('the README’s first request runs as written, and again: a new customer, the same shopper merged, its history', async () => {
  for (const seed of [101, 202]) {
    const {
      blocks: [first],
    } = await runPage('README.md', seed);
    const id = Number(first[0]);
    expect(Number.isSafeInteger(id) && id > 0).toBe(true);
    const merged = json(first[1]);
    expect({ id: merged.createdId, warnings: codes(merged.warnings) }).toEqual({ id, warnings: [8050] });
    const history = json(first[2]);
    expect(history.entries.at(-1).type).toBe('created');
    for (const entry of history.entries) expect(['created', 'merged']).toContain(entry.type);
  }
}, 120_000);

/**
 * Erases the customer the page's `invoke local` of events/add-customer.json registered: the
 * events hold fixed values, and other suites run them against the same local table.
 */
async function eraseExampleCustomer(): Promise<void> {
  const event = JSON.parse(read('events/add-customer.json')) as { body: string };
  const [{ type, value }] = (JSON.parse(event.body) as { profiles: { identifiers: { type: string; value: string }[] }[] }).profiles[0]
    .identifiers;
  const auth = { Authorization: basicAuth(TILLS.demo[0], TILLS.demo[1]) };
  const query = new URLSearchParams({ source: 'ALL', identifierName: type, identifierValue: value });
  const found = await fetch(`${offline.url}/v2/customers/lookup?${query}`, { headers: auth });
  if (found.status !== 200) return;
  const { entity } = (await found.json()) as { entity: number };
  expect((await fetch(`${offline.url}/v2/customers/${entity}`, { method: 'DELETE', headers: auth })).status).toBe(200);
}

test('integrating.md runs in order as written, twice on the same data, and answers what it says', async () => {
  for (const seed of [303, 404]) {
    const {
      blocks: [calling, full, bulk, changing, merging, registered, events],
      terminals: [receiver],
    } = await runPage('docs/integrating.md', seed);

    // The call, the merge (same id, 8050), the lookup, the GET document, the extended fields.
    const id = Number(calling[0]);
    expect(Number.isSafeInteger(id) && id > 0).toBe(true);
    const merged = json(calling[1]);
    expect({ id: merged.createdId, warnings: codes(merged.warnings) }).toEqual({ id, warnings: [8050] });
    expect(json(calling[2])).toEqual({ entity: id, warnings: [] });
    const customer = json(calling[3]);
    expect({ id: customer.id, sources: customer.profiles.map((p: { source: string }) => p.source) }).toEqual({
      id,
      sources: ['INSTORE', 'WECHAT'],
    });
    expect(json(calling[4]).success).toBe(true);

    // The full request: a new customer with a card and points, as the page's answer shows.
    expect(json(full[0])).toEqual({
      createdId: expect.any(Number),
      warnings: [],
      sideEffects: [
        { type: 'card', cardNumber: expect.stringMatching(/^DEMO\d{12}$/), seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE' },
        { type: 'points', entityType: 'USER', programId: 1, awardedPoints: 500 },
      ],
    });

    // The bulk add: a new customer, the same shopper merged from ECOMMERCE, an invalid mobile.
    const items = json(bulk[0]);
    expect(items.map((item: { status: number }) => item.status)).toEqual([200, 200, 400]);
    expect(items[1].entity).toEqual(items[0].entity);
    expect(items[2].errors[0]).toEqual(expect.objectContaining({ code: 8014, path: '/profiles/0/identifiers/0/value' }));

    // Changing and erasing: the update, the new mobile, the GET showing both, the export, the erase, then 404 twice.
    const updated = json(changing[0]);
    const changedId = updated.createdId;
    expect(updated).toEqual({ createdId: expect.any(Number), warnings: [], sideEffects: [] });
    expect(json(changing[1])).toEqual({ createdId: changedId, warnings: [], sideEffects: [] });
    const changed = json(changing[2]);
    expect(changed.profiles).toHaveLength(1);
    expect(changed.profiles[0]).toMatchObject({
      firstName: 'Ravi',
      lastName: 'Nair-Menon',
      source: 'INSTORE',
      identifiers: [{ type: 'mobile', value: expect.stringMatching(/^919846\d{6}$/) }],
      commChannels: [expect.objectContaining({ type: 'email', value: expect.stringMatching(/^ravi\.\d{6}@example\.com$/) })],
      fields: { preferred_language: 'ml' },
      attribution: expect.objectContaining({
        createdBy: { code: 'demo.till', type: 'TILL' },
        modifiedBy: { code: 'demo.till', type: 'TILL' },
      }),
    });
    expect(changed.extendedFields).toEqual({ city: 'Kochi' });
    const exported = json(changing[3]);
    expect(exported.customer).toEqual(changed);
    expect(exported).toMatchObject({ enrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 0 }], idempotencyKeys: [] });
    for (const entry of exported.history) expect(['created', 'updated', 'identifiers_changed']).toContain(entry.type);
    expect(json(changing[4])).toEqual({ entity: { id: changedId, status: 'ERASED' }, warnings: [] });
    for (const gone of [changing[5], changing[6]])
      expect(json(gone)).toEqual({ errors: [expect.objectContaining({ status: false, code: 8015 })], warnings: [] });

    // Merging, unmerging and the history: the preview, the merge, the victim answering the survivor (91009), the unmerge, the history.
    const preview = json(merging[0]);
    expect(preview.profiles.map((p: { source: string }) => p.source)).toEqual(['INSTORE', 'WECHAT']);
    expect(json(merging[1])).toEqual(preview);
    const asVictim = json(merging[2]);
    expect({ id: asVictim.id, warnings: codes(asVictim.warnings) }).toEqual({ id: preview.id, warnings: [91009] });
    const unmerged = json(merging[3]);
    expect(unmerged).toEqual({
      entity: { id: expect.any(Number) },
      kept: [],
      moved: [{ type: 'email', value: expect.stringMatching(/^meera\.\d{6}@example\.com$/) }],
      warnings: [],
    });
    const history = json(merging[4]);
    expect(history.entries.map((e: { type: string }) => e.type)).toEqual(['unmerged', 'merged_customer', 'created']);
    expect(history.entries[1].details.victimId).toBe(unmerged.entity.id);

    // The webhook receiver on port 4600: the new customer's customer.created refused once, then delivered with the same webhook-id.
    const created = json(registered[0]).createdId as number;
    const deliveries = receiver.filter((line) => line.includes(`customer.created customer ${created} `));
    expect(deliveries.map((line) => /signature (\S+) answer (\d+)/.exec(line)?.slice(1).join(' '))).toEqual(['ok 500', 'ok 200']);
    expect(new Set(deliveries.map((line) => line.split(' ')[1])).size).toBe(1);
    expect(receiver.join('\n')).toContain('org 100 subscription demo-receiver of the local stack');
    expect(receiver.join('\n')).toContain('delivers to http://127.0.0.1:4500/webhooks again');

    // The example events through invoke local: a registration (200 the first time, 409 / 8006 once it exists) and a GET of customer 1 (404).
    const answers = events.join('\n').match(/"statusCode": \d+/g);
    expect(answers?.[0]).toMatch(seed === 303 ? /200|409/ : /409/);
    expect(answers?.[1]).toBe('"statusCode": 404');
  }
  await eraseExampleCustomer();
}, 300_000);

test('the webhook signature checks of integrating.md accept a delivery signed by the service and refuse a forged one', async () => {
  const [ts] = blocksOf('docs/integrating.md').filter((b) => b.language === 'ts');
  const [python] = blocksOf('docs/integrating.md').filter((b) => b.language === 'python');
  const secret = `whsec_${Buffer.from('a demo secret of 32 bytes, ok!!!').toString('base64')}`;
  const body = JSON.stringify({ id: 'evt_1', type: 'customer.created', sequence: 1 });
  const headers = signedHeaders('evt_1', body, [secret]);
  const forged = { ...headers, 'webhook-signature': headers['webhook-signature'].replace(/.{4}$/, 'AAAA') };
  const dir = mkdtempSync(join(tmpdir(), 'webhook-check-'));

  writeFileSync(
    join(dir, 'check.ts'),
    `${ts.text}\nconsole.log(JSON.stringify([verifiedEvent(${JSON.stringify(secret)}, ${JSON.stringify(headers)}, ${JSON.stringify(body)})?.id ?? null, verifiedEvent(${JSON.stringify(secret)}, ${JSON.stringify(forged)}, ${JSON.stringify(body)}) ?? null]));\n`,
  );
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  const fromTs = await run(tsx, [join(dir, 'check.ts')], { cwd: ROOT, env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') } });
  expect(JSON.parse(fromTs.stdout)).toEqual(['evt_1', null]);

  writeFileSync(
    join(dir, 'check.py'),
    `${python.text}\nimport json\nprint(json.dumps([verified(${JSON.stringify(secret)}, ${JSON.stringify(headers)}, ${JSON.stringify(body)}.encode()), verified(${JSON.stringify(secret)}, ${JSON.stringify(forged)}, ${JSON.stringify(body)}.encode())]))\n`,
  );
  const fromPython = await run('python3', [join(dir, 'check.py')]);
  expect(JSON.parse(fromPython.stdout)).toEqual([true, false]);
}, 60_000);

describe('importing.md and operating.md', () => {
  const outputs = ['members.jsonl', 'members.jsonl.results.csv', 'members.jsonl.rejects.jsonl', 'members.jsonl.checkpoint.json'];
  afterAll(() => {
    // The sample and the import's outputs land beside it in the checkout (git-ignored): a test leaves none behind.
    for (const file of outputs) rmSync(join(ROOT, file), { force: true });
  });

  test('importing.md runs as written, twice: a sample of 2000 written to its file, imported, and nothing sent again by the reruns', async () => {
    for (const seed of [505, 606]) {
      const {
        blocks: [first, rerun],
      } = await runPage('docs/importing.md', seed);
      const text = first.join('\n');
      expect(text).toMatch(/sample-members: wrote 2000 members \(jsonl, seed 1, [^)]*\) to members\.jsonl/);
      const lines = readFileSync(join(ROOT, 'members.jsonl'), 'utf8').split('\n').filter(Boolean);
      expect(lines).toHaveLength(2000);
      for (const line of lines.slice(0, 50)) expect(() => JSON.parse(line)).not.toThrow();
      // The first run of the first seed imports; every later run finds each line's record and replays it.
      expect(text).toMatch(
        /^import complete: 2000 lines of members\.jsonl \(job \w+\): created \d+, merged \d+, replayed \d+, rejected \d+/m,
      );
      expect(rerun.join('\n')).toMatch(/^import complete: 2000 lines of members\.jsonl/m);
      // Nothing sent again: the checkpoint says every line is done.
      expect(rerun.join('\n')).toMatch(/^this run: 0 lines in [\d.]+ s, 0\/s, after 2000 lines done before/m);
      const results = readFileSync(join(ROOT, 'members.jsonl.results.csv'), 'utf8').trim().split('\n');
      expect(results).toHaveLength(2001);
    }
  }, 300_000);

  test('operating.md runs as written: an org file loaded into the local stage, and the smoke check passes', async () => {
    const {
      blocks: [loaded, smoke],
    } = await runPage('docs/operating.md', 707);
    expect(loaded.join('\n')).toMatch(/4100/);
    expect(smoke.join('\n')).toMatch(
      /^smoke: OK http:\/\/127\.0\.0\.1:\d+ \(openapi, register 200 in \d+ ms, replay, lookup, read\) customer \d+$/m,
    );
  }, 120_000);
});
